"""Batches in the usage ledger: every call tagged with the batch id, budgets checked up front."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from orchestify_nb.batch import prepare_batch, run_batch
from orchestify_nb.errors import BudgetExceededError
from orchestify_nb.providers.claude import ClaudeProvider
from orchestify_nb.testing import Fault, LLMEmulator, Reply
from orchestify_nb.usage.budgets import Budget, BudgetWarning
from orchestify_nb.usage.ledger import Ledger
from tests.batch.conftest import make_claude, wait_until

LONG_PROMPTS = [
    f"Summarise ticket {i}: " + "the printer is on fire again. " * 10 for i in range(20)
]


async def test_every_call_lands_in_the_ledger_with_the_batch_tag(
    llm_emulator: LLMEmulator, isolated_ledger: Ledger
) -> None:
    provider = make_claude(llm_emulator, max_retries=0)
    llm_emulator.enqueue(Reply(text="ok"), Fault.server_error())
    result = await run_batch(["a", "b", "c", "d"], provider=provider, concurrency=1, progress=False)
    await run_batch(["other"], provider=provider, tag="another-batch", progress=False)

    records = isolated_ledger.records(tag=result.batch_id)
    assert result.batch_id.startswith("batch-")
    assert Counter(record.status for record in records) == {"ok": 3, "error": 1}
    assert {record.provider_id for record in records} == {"claude_test"}
    assert [r.tag for r in isolated_ledger.records(tag="another-batch")] == ["another-batch"]
    await provider.aclose()


async def test_cancelled_rows_are_recorded_as_cancelled_under_the_batch_tag(
    llm_emulator: LLMEmulator, claude: ClaudeProvider, isolated_ledger: Ledger
) -> None:
    llm_emulator.enqueue(Reply(text="quick"), *[Reply(text="slow", first_token_delay_s=60)] * 3)
    batch = prepare_batch(["a", "b", "c", "d"], provider=claude, concurrency=4, progress=False)
    task = asyncio.create_task(batch.run())
    await wait_until(lambda: batch.result.count("ok") == 1 and len(llm_emulator.requests) == 4)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    records = isolated_ledger.records(tag=batch.result.batch_id)
    assert Counter(record.status for record in records) == {"ok": 1, "cancelled": 3}


async def test_a_batch_whose_input_cost_breaks_a_budget_is_refused_before_sending(
    llm_emulator: LLMEmulator, claude: ClaudeProvider, isolated_ledger: Ledger
) -> None:
    estimate = prepare_batch(LONG_PROMPTS[:1], provider=claude, progress=False).estimate
    assert estimate.input_cost_usd is not None and estimate.input_cost_usd < 0.001
    isolated_ledger.set_budgets([Budget(limit_usd=0.001, period="day")])

    with pytest.raises(BudgetExceededError, match="daily budget") as refused:
        await run_batch(LONG_PROMPTS, provider=claude, progress=False)

    assert "nothing was sent" in str(refused.value)
    assert llm_emulator.requests == []


async def test_a_batch_only_its_ceiling_could_break_warns_and_runs(
    llm_emulator: LLMEmulator, claude: ClaudeProvider, isolated_ledger: Ledger
) -> None:
    prompts, options = LONG_PROMPTS[:2], {"max_tokens": 50_000, "progress": False}
    estimate = prepare_batch(prompts, provider=claude, **options).estimate
    assert estimate.input_cost_usd is not None and estimate.max_cost_usd is not None
    between = (estimate.input_cost_usd + estimate.max_cost_usd) / 2
    isolated_ledger.set_budgets([Budget(limit_usd=between, provider_id="claude_test")])

    with pytest.warns(BudgetWarning, match="may exceed"):
        result = await run_batch(prompts, provider=claude, **options)

    assert result.count("ok") == 2


async def test_a_spent_budget_refuses_the_batch(
    llm_emulator: LLMEmulator, claude: ClaudeProvider, isolated_ledger: Ledger
) -> None:
    await run_batch(["spend something"], provider=claude, progress=False)
    isolated_ledger.set_budgets([Budget(limit_usd=0.0, period="session")])

    with pytest.raises(BudgetExceededError, match="is spent"):
        await run_batch(["one more"], provider=claude, progress=False)

    assert len(llm_emulator.requests) == 1
