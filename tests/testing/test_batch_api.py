"""The emulator's batch endpoints through the real anthropic and openai SDKs."""

from __future__ import annotations

import io
import json

import anthropic
import openai

from orchestify_nb.testing import LLMEmulator


def _anthropic_requests(count: int) -> list[dict[str, object]]:
    return [
        {
            "custom_id": f"row-{index}",
            "params": {
                "model": "claude-haiku-4-5",
                "max_tokens": 64,
                "messages": [{"role": "user", "content": f"prompt {index}"}],
            },
        }
        for index in range(count)
    ]


async def test_anthropic_batch_moves_in_progress_to_ended_on_the_scripted_clock(
    claude: anthropic.AsyncAnthropic, llm_emulator: LLMEmulator
) -> None:
    llm_emulator.batches.script("row-1", "errored")
    llm_emulator.batches.script("row-2", "expired")
    batch = await claude.messages.batches.create(requests=_anthropic_requests(4))  # type: ignore[arg-type]
    assert batch.processing_status == "in_progress"
    assert batch.request_counts.processing == 4
    assert batch.results_url is None

    llm_emulator.batches.advance(llm_emulator.batches.duration_s)
    ended = await claude.messages.batches.retrieve(batch.id)
    assert ended.processing_status == "ended"
    assert (ended.request_counts.succeeded, ended.request_counts.errored) == (2, 1)
    assert ended.request_counts.expired == 1

    results = {
        item.custom_id: item.result
        async for item in await claude.messages.batches.results(batch.id)
    }
    assert results["row-0"].type == "succeeded"
    assert results["row-0"].message.content[0].text == "prompt 0"  # type: ignore[union-attr]
    assert results["row-1"].type == "errored"
    assert results["row-2"].type == "expired"
    assert [body["messages"] for _, body in llm_emulator.batches.requests(batch.id)][3] == [
        {"role": "user", "content": "prompt 3"}
    ]
    listed = [job.id async for job in claude.messages.batches.list()]
    assert listed == [batch.id]


async def test_anthropic_cancel_ends_the_batch_with_every_request_canceled(
    claude: anthropic.AsyncAnthropic, llm_emulator: LLMEmulator
) -> None:
    batch = await claude.messages.batches.create(requests=_anthropic_requests(3))  # type: ignore[arg-type]
    canceled = await claude.messages.batches.cancel(batch.id)
    assert canceled.processing_status == "ended"
    assert canceled.request_counts.canceled == 3
    kinds = {item.result.type async for item in await claude.messages.batches.results(batch.id)}
    assert kinds == {"canceled"}


def _openai_file(count: int) -> bytes:
    lines = [
        {
            "custom_id": f"row-{index}",
            "method": "POST",
            "url": "/v1/chat/completions",
            "body": {
                "model": "gpt-4o-mini",
                "messages": [{"role": "user", "content": f"prompt {index}"}],
            },
        }
        for index in range(count)
    ]
    return "".join(json.dumps(line) + "\n" for line in lines).encode()


async def test_openai_batch_writes_output_and_error_files(
    gpt: openai.AsyncOpenAI, llm_emulator: LLMEmulator
) -> None:
    llm_emulator.batches.script("row-0", "expired")
    llm_emulator.batches.script("row-2", "errored")
    uploaded = await gpt.files.create(
        file=("in.jsonl", io.BytesIO(_openai_file(4))), purpose="batch"
    )
    assert uploaded.bytes == len(_openai_file(4))
    batch = await gpt.batches.create(
        input_file_id=uploaded.id, endpoint="/v1/chat/completions", completion_window="24h"
    )
    assert batch.status == "in_progress"
    llm_emulator.batches.advance(llm_emulator.batches.duration_s / 2)
    halfway = await gpt.batches.retrieve(batch.id)
    assert halfway.request_counts is not None and halfway.request_counts.completed == 2

    llm_emulator.batches.finish()
    done = await gpt.batches.retrieve(batch.id)
    assert done.status == "completed"
    assert done.output_file_id and done.error_file_id
    output = [
        json.loads(line)
        for line in (await gpt.files.content(done.output_file_id)).text.splitlines()
    ]
    assert [line["custom_id"] for line in output] == ["row-1", "row-3"]
    assert output[0]["response"]["body"]["choices"][0]["message"]["content"] == "prompt 1"
    errors = {
        json.loads(line)["custom_id"]: json.loads(line)
        for line in (await gpt.files.content(done.error_file_id)).text.splitlines()
    }
    assert errors["row-0"]["error"]["code"] == "batch_expired"
    assert errors["row-2"]["response"]["status_code"] == 400


async def test_openai_cancel_marks_the_batch_cancelled(
    gpt: openai.AsyncOpenAI, llm_emulator: LLMEmulator
) -> None:
    uploaded = await gpt.files.create(
        file=("in.jsonl", io.BytesIO(_openai_file(2))), purpose="batch"
    )
    batch = await gpt.batches.create(
        input_file_id=uploaded.id, endpoint="/v1/chat/completions", completion_window="24h"
    )
    cancelled = await gpt.batches.cancel(batch.id)
    assert cancelled.status == "cancelled"
    assert cancelled.request_counts is not None and cancelled.request_counts.failed == 2
