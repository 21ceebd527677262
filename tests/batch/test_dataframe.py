"""The ``df.llm`` accessor: a prompt template over DataFrame rows, filling result columns."""

from __future__ import annotations

import asyncio

import pandas as pd
import pytest

from orchestify_nb.batch import BatchInputError, BatchInterrupted
from orchestify_nb.providers.claude import ClaudeProvider
from orchestify_nb.providers.openai_provider import OpenAIProvider
from orchestify_nb.testing import Fault, LLMEmulator, Reply
from tests.batch.conftest import interrupt_when, make_claude, sent_prompt, wait_until

RESULT_COLUMNS = [
    "summary",
    "summary_tokens_input",
    "summary_tokens_output",
    "summary_cost_usd",
    "summary_latency_s",
    "summary_status",
    "summary_error",
]


def tickets() -> pd.DataFrame:
    return pd.DataFrame(
        {"text": ["printer on fire", "wifi down", "coffee machine empty"], "lang": ["en"] * 3},
        index=["t1", "t2", "t3"],
    )


async def test_accessor_fills_the_answer_and_its_figures_per_row(
    llm_emulator: LLMEmulator, openai: OpenAIProvider
) -> None:
    frame = tickets()
    returned = await frame.llm.acomplete(
        "Summarise ({lang}): {text}", provider=openai, out="summary", progress=False
    )

    assert returned is frame
    assert list(frame.columns) == ["text", "lang", *RESULT_COLUMNS]
    assert list(frame["summary"]) == [f"Summarise (en): {t}" for t in frame["text"]]
    assert list(frame["summary_status"]) == ["ok"] * 3
    assert (frame["summary_tokens_input"] > 0).all()
    assert (frame["summary_cost_usd"] > 0).all()
    assert frame["summary_error"].isna().all()
    assert str(frame["summary_tokens_output"].dtype) == "Int64"


async def test_resume_sends_only_rows_whose_answer_is_missing(llm_emulator: LLMEmulator) -> None:
    provider = make_claude(llm_emulator, max_retries=0)
    frame = tickets()
    llm_emulator.enqueue(Reply(text="one"), Fault.server_error())
    await frame.llm.acomplete(
        "{text}", provider=provider, out="summary", concurrency=1, progress=False
    )
    assert list(frame["summary_status"]) == ["ok", "error", "ok"]
    assert "HTTP 500" in frame.loc["t2", "summary_error"]

    llm_emulator.reset()
    await frame.llm.acomplete(
        "{text}", provider=provider, out="summary", resume=True, progress=False
    )

    assert [sent_prompt(request) for request in llm_emulator.requests] == ["wifi down"]
    assert list(frame["summary"]) == ["one", "wifi down", "coffee machine empty"]
    assert list(frame["summary_status"]) == ["ok"] * 3
    assert frame["summary_error"].isna().all()
    await provider.aclose()


async def test_an_interrupted_run_keeps_finished_rows_in_the_frame(
    llm_emulator: LLMEmulator, claude: ClaudeProvider
) -> None:
    frame = tickets()
    llm_emulator.enqueue(Reply(text="quick"), *[Reply(text="slow", first_token_delay_s=60)] * 2)
    task = asyncio.create_task(
        frame.llm.acomplete("{text}", provider=claude, out="summary", concurrency=1, progress=False)
    )
    await wait_until(lambda: len(llm_emulator.requests) == 2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert list(frame["summary_status"]) == ["ok", "cancelled", "cancelled"]
    assert frame.loc["t1", "summary"] == "quick"
    assert frame["summary"].iloc[1:].isna().all()


async def test_a_template_naming_a_missing_column_lists_the_columns(
    llm_emulator: LLMEmulator, claude: ClaudeProvider
) -> None:
    with pytest.raises(BatchInputError, match="body") as error:
        await tickets().llm.acomplete("Summarise: {body}", provider=claude, progress=False)

    assert "its columns are: text, lang" in str(error.value)
    assert llm_emulator.requests == []


def test_a_positional_template_field_is_refused() -> None:
    with pytest.raises(BatchInputError, match="positional"):
        tickets().llm.complete("Summarise: {}", provider="unused")


def test_sync_accessor_runs_from_sync_code(llm_emulator: LLMEmulator) -> None:
    provider = make_claude(llm_emulator)
    frame = tickets()
    frame.llm.complete("Echo {text}", provider=provider, out="summary", progress=False)

    assert list(frame["summary"]) == [f"Echo {t}" for t in frame["text"]]


def test_interrupting_the_sync_accessor_keeps_finished_rows_and_says_how_to_resume(
    llm_emulator: LLMEmulator,
) -> None:
    frame = tickets()
    llm_emulator.enqueue(Reply(text="quick"), *[Reply(text="slow", first_token_delay_s=60)] * 2)
    interrupt_when(lambda: len(llm_emulator.requests) == 2)
    with pytest.raises(BatchInterrupted, match="resume=True"):
        frame.llm.complete(
            "{text}",
            provider=make_claude(llm_emulator),
            out="summary",
            concurrency=1,
            progress=False,
        )

    assert list(frame["summary_status"]) == ["ok", "cancelled", "cancelled"]
    assert frame.loc["t1", "summary"] == "quick"
