"""compare() across providers, and the sync entry points a notebook cell uses."""

from __future__ import annotations

import asyncio

import pytest

from orchestify_nb.batch import (
    BatchInterrupted,
    CompareInterrupted,
    acompare,
    compare,
    run_batch_sync,
)
from orchestify_nb.providers.claude import ClaudeProvider
from orchestify_nb.providers.openai_provider import OpenAIProvider
from orchestify_nb.testing import LLMEmulator, Reply
from orchestify_nb.usage.ledger import Ledger
from tests.batch.conftest import CLAUDE_MODEL, interrupt_when, make_claude


async def test_compare_gives_one_row_per_prompt_and_model(
    llm_emulator: LLMEmulator,
    claude: ClaudeProvider,
    openai: OpenAIProvider,
    isolated_ledger: Ledger,
) -> None:
    prompts = ["What is 2+2?", "Name a colour."]
    frame = await acompare(
        models=[(claude, CLAUDE_MODEL), (openai, "gpt-4o"), openai], prompts=prompts, progress=False
    )

    assert len(frame) == len(prompts) * 3
    assert list(frame["prompt"]) == [prompts[0]] * 3 + [prompts[1]] * 3
    assert list(frame["provider"])[:3] == ["claude_test", "openai_test", "openai_test"]
    assert list(frame["model"])[:3] == [CLAUDE_MODEL, "gpt-4o", "gpt-4o"]
    assert list(frame["answer"]) == list(frame["prompt"])
    records = isolated_ledger.records()
    assert len(records) == 6
    assert len({record.tag for record in records}) == 1
    assert str(records[0].tag).startswith("compare-")


def test_run_batch_sync_works_without_an_event_loop(llm_emulator: LLMEmulator) -> None:
    result = run_batch_sync(["a", "b"], provider=make_claude(llm_emulator), progress=False)
    assert result.answers == ["a", "b"]


async def test_run_batch_sync_works_while_a_loop_runs_on_the_calling_thread(
    llm_emulator: LLMEmulator,
) -> None:
    # What a notebook cell sees: the kernel's loop is running on the thread that calls us.
    asyncio.get_running_loop()
    result = run_batch_sync(["a", "b"], provider=make_claude(llm_emulator), progress=False)
    assert result.answers == ["a", "b"]


def test_compare_runs_from_sync_code(llm_emulator: LLMEmulator) -> None:
    frame = compare(models=[(make_claude(llm_emulator), None)], prompts=["x"], progress=False)
    assert list(frame["answer"]) == ["x"]


def test_interrupting_run_batch_sync_raises_with_the_finished_rows(
    llm_emulator: LLMEmulator,
) -> None:
    llm_emulator.enqueue(Reply(text="quick"), *[Reply(text="slow", first_token_delay_s=60)] * 2)
    interrupt_when(lambda: len(llm_emulator.requests) == 2)
    with pytest.raises(BatchInterrupted) as interrupted:
        run_batch_sync(
            ["a", "b", "c"], provider=make_claude(llm_emulator), concurrency=1, progress=False
        )

    result = interrupted.value.result
    assert [row.status for row in result] == ["ok", "cancelled", "cancelled"]
    assert result.answers[0] == "quick"
    assert "resume=True" in str(interrupted.value)


def test_interrupting_compare_raises_with_every_finished_row_in_the_tidy_frame(
    llm_emulator: LLMEmulator,
) -> None:
    llm_emulator.enqueue(Reply(text="quick"), *[Reply(text="slow", first_token_delay_s=60)] * 3)
    interrupt_when(lambda: len(llm_emulator.requests) == 2)
    claude = make_claude(llm_emulator)
    with pytest.raises(CompareInterrupted) as interrupted:
        compare(
            models=[(claude, CLAUDE_MODEL)], prompts=["a", "b", "c"], concurrency=1, progress=False
        )

    frame = interrupted.value.frame
    assert list(frame["status"]) == ["ok", "cancelled", "cancelled"]
    assert frame["answer"].iloc[0] == "quick"
    assert "1 of 3" in str(interrupted.value)
