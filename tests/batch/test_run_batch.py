"""run_batch against the loopback emulator: order, failure isolation, retries, resume, cancel."""

from __future__ import annotations

import asyncio

import pytest

from orchestify_nb.batch import BatchInputError, last_result, prepare_batch, run_batch
from orchestify_nb.providers.claude import ClaudeProvider
from orchestify_nb.providers.types import LLMMessage
from orchestify_nb.testing import Fault, LLMEmulator, Reply
from tests.batch.conftest import make_claude, sent_prompt, wait_until

PROMPTS = [f"question {i}" for i in range(8)]


async def test_answers_keep_input_order_when_replies_finish_in_reverse(
    llm_emulator: LLMEmulator, claude: ClaudeProvider
) -> None:
    # The k-th request to arrive gets "reply-k" and the longest delay, so rows finish in
    # roughly the reverse of the order they were sent in.
    count = len(PROMPTS)
    llm_emulator.enqueue(
        *(Reply(text=f"reply-{k}", first_token_delay_s=0.05 * (count - k)) for k in range(count))
    )
    result = await run_batch(PROMPTS, provider=claude, concurrency=count, progress=False)

    answer_for = {sent_prompt(req): f"reply-{k}" for k, req in enumerate(llm_emulator.requests)}
    assert result.answers == [answer_for[prompt] for prompt in PROMPTS]
    assert [row.index for row in result] == list(range(count))
    assert [row.prompt for row in result] == PROMPTS


async def test_a_failed_row_keeps_its_error_and_the_others_are_answered(
    llm_emulator: LLMEmulator, claude: ClaudeProvider
) -> None:
    llm_emulator.enqueue(Reply(text="first"), Fault.unauthorized())
    result = await run_batch(PROMPTS, provider=claude, concurrency=4, progress=False)

    failed_prompt = sent_prompt(llm_emulator.requests[1])
    failed = [row for row in result if row.status == "error"]
    assert [row.prompt for row in failed] == [failed_prompt]
    assert failed[0].error_type == "AuthenticationError"
    assert failed[0].error is not None and "API key" in failed[0].error
    assert failed[0].content is None
    assert result.count("ok") == len(PROMPTS) - 1
    for row in result:
        if row.status == "ok" and row.prompt != sent_prompt(llm_emulator.requests[0]):
            assert row.content == row.prompt  # the emulator's echo reply


async def test_rate_limited_rows_are_retried_by_the_provider_policy(
    llm_emulator: LLMEmulator, claude: ClaudeProvider
) -> None:
    llm_emulator.enqueue(Fault.rate_limit(retry_after=0), Fault.rate_limit(retry_after=0))
    result = await run_batch(PROMPTS[:4], provider=claude, concurrency=2, progress=False)

    assert result.count("ok") == 4
    assert result.answers == PROMPTS[:4]
    assert len(llm_emulator.requests) == 4 + 2


async def test_resume_sends_only_the_rows_without_an_answer(llm_emulator: LLMEmulator) -> None:
    provider = make_claude(llm_emulator, max_retries=0)
    llm_emulator.enqueue(Reply(text="a"), Reply(text="b"), Fault.server_error())
    first = await run_batch(PROMPTS[:5], provider=provider, concurrency=1, progress=False)
    assert [row.status for row in first] == ["ok", "ok", "error", "ok", "ok"]

    llm_emulator.reset()
    second = await run_batch(PROMPTS[:5], provider=provider, resume=first, progress=False)

    assert [sent_prompt(request) for request in llm_emulator.requests] == [PROMPTS[2]]
    assert second.answers == ["a", "b", PROMPTS[2], PROMPTS[3], PROMPTS[4]]
    assert second.batch_id == first.batch_id
    await provider.aclose()


async def test_resume_true_continues_the_last_batch_of_the_process(
    llm_emulator: LLMEmulator,
) -> None:
    provider = make_claude(llm_emulator, max_retries=0)
    llm_emulator.enqueue(Fault.server_error())
    await run_batch(PROMPTS[:3], provider=provider, concurrency=1, progress=False)
    llm_emulator.reset()

    resumed = await run_batch(PROMPTS[:3], provider=provider, resume=True, progress=False)

    assert [sent_prompt(request) for request in llm_emulator.requests] == [PROMPTS[0]]
    assert resumed.count("ok") == 3
    await provider.aclose()


async def test_resume_refuses_a_result_for_other_prompts(claude: ClaudeProvider) -> None:
    first = await run_batch(PROMPTS[:2], provider=claude, progress=False)
    with pytest.raises(BatchInputError, match="differ"):
        await run_batch(PROMPTS[:3], provider=claude, resume=first, progress=False)


async def test_cancel_keeps_finished_rows_and_marks_the_rest_cancelled(
    llm_emulator: LLMEmulator, claude: ClaudeProvider
) -> None:
    llm_emulator.enqueue(
        Reply(text="quick"), Reply(text="quick"), *[Reply(text="slow", first_token_delay_s=60)] * 4
    )
    batch = prepare_batch(PROMPTS[:6], provider=claude, concurrency=6, progress=False)
    task = asyncio.create_task(batch.run())
    await wait_until(lambda: batch.result.count("ok") == 2 and len(llm_emulator.requests) == 6)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    result = batch.result
    assert result.interrupted
    assert sorted(row.status for row in result) == ["cancelled"] * 4 + ["ok"] * 2
    assert [row.content for row in result if row.status == "ok"] == ["quick", "quick"]
    assert last_result() is result


async def test_message_lists_are_sent_as_conversations(
    llm_emulator: LLMEmulator, claude: ClaudeProvider
) -> None:
    conversations = [
        [
            LLMMessage(role="system", content="Answer in French."),
            {"role": "user", "content": f"Say {word}"},
        ]
        for word in ("hello", "goodbye")
    ]
    result = await run_batch(conversations, provider=claude, concurrency=1, progress=False)

    assert result.answers == ["Say hello", "Say goodbye"]
    assert [request.body["system"] for request in llm_emulator.requests] == [
        "Answer in French."
    ] * 2


async def test_params_reach_every_call(llm_emulator: LLMEmulator, claude: ClaudeProvider) -> None:
    await run_batch(PROMPTS[:3], provider=claude, max_tokens=77, system="Be brief.", progress=False)
    bodies = [request.body for request in llm_emulator.requests]
    assert [(body["max_tokens"], body["system"]) for body in bodies] == [(77, "Be brief.")] * 3


async def test_bad_arguments_fail_before_anything_is_sent(
    llm_emulator: LLMEmulator, claude: ClaudeProvider
) -> None:
    with pytest.raises(ValueError, match="not a Claude model"):
        await run_batch(PROMPTS, provider=claude, model="gpt-4o", progress=False)
    with pytest.raises(BatchInputError, match="concurrency"):
        await run_batch(PROMPTS, provider=claude, concurrency=0, progress=False)
    assert llm_emulator.requests == []


async def test_results_report_tokens_and_cost(claude: ClaudeProvider) -> None:
    result = await run_batch(PROMPTS[:3], provider=claude, progress=False)

    assert result.tokens_input > 0 and result.tokens_output > 0
    assert result.cost_usd is not None and result.cost_usd > 0
    assert all(row.latency_s is not None for row in result)
    frame = result.to_dataframe()
    assert list(frame["answer"]) == PROMPTS[:3]
    assert list(frame["status"]) == ["ok"] * 3


async def test_progress_bar_shows_done_failed_tokens_and_cost(
    llm_emulator: LLMEmulator, claude: ClaudeProvider, capsys: pytest.CaptureFixture[str]
) -> None:
    llm_emulator.enqueue(Fault.unauthorized())
    await run_batch(PROMPTS[:4], provider=claude, concurrency=1, progress=True, tag="shown")

    captured = capsys.readouterr()
    assert "Estimate: 4 rows" in captured.out
    assert "ok=3 failed=1" in captured.err
    assert "cost=$" in captured.err and "tokens=" in captured.err
