"""Budgets hold under concurrency: each call reserves its worst case before it is sent and gives it
back once it is recorded, so calls in flight together cannot spend past a limit by more than the
documented bound (``orchestify_nb.usage.reservations``)."""

from __future__ import annotations

import asyncio
import gc
import math
import time

import pytest

from orchestify_nb.errors import BudgetExceededError
from orchestify_nb.providers.claude import ClaudeProvider
from orchestify_nb.providers.openai_provider import OpenAIProvider
from orchestify_nb.testing import LLMEmulator, Reply
from orchestify_nb.tokens import TokenCounts
from orchestify_nb.usage.budgets import Budget
from orchestify_nb.usage.ledger import Ledger
from tests.usage.conftest import make_record

GPT_4O_INPUT_USD, GPT_4O_OUTPUT_USD = 2.5e-6, 10e-6
#: max_tokens of each call: at gpt-4o's $10 per million output tokens, a $1.00 worst case.
MAX_TOKENS = 100_000


async def test_fifty_concurrent_calls_spend_at_most_the_session_budget_plus_the_bound(
    llm_emulator: LLMEmulator, openai: OpenAIProvider, isolated_ledger: Ledger
) -> None:
    limit = 5.0
    isolated_ledger.set_budgets([Budget(limit, "session")])
    prompts = [f"Question {index:02}: summarise the report in one line." for index in range(50)]
    llm_emulator.enqueue(
        *(
            Reply(text="Summary.", output_tokens=MAX_TOKENS, first_token_delay_s=0.3)
            for _ in prompts
        )
    )

    async def call(prompt: str) -> float | None:
        response = await openai.complete(prompt, max_tokens=MAX_TOKENS)
        return response.cost_usd

    outcomes = await asyncio.gather(*(call(prompt) for prompt in prompts), return_exceptions=True)

    answered = [outcome for outcome in outcomes if isinstance(outcome, float)]
    refused = [outcome for outcome in outcomes if isinstance(outcome, BudgetExceededError)]
    assert len(answered) + len(refused) == 50, outcomes
    spent = isolated_ledger.budget_status()[0].spent_usd
    # The documented bound: one call's worst case, plus what the prompt estimate (framing +
    # characters / 4) under-counts at the input price, over the answered calls (every prompt
    # here has the same length).
    estimate = 3 + 3 + math.ceil(len(prompts[0]) / 4)
    one_worst_case = MAX_TOKENS * GPT_4O_OUTPUT_USD + estimate * GPT_4O_INPUT_USD
    bound = one_worst_case + sum(
        GPT_4O_INPUT_USD * max(0, record.input_tokens - estimate)
        for record in isolated_ledger.records()
    )
    print(
        f"\n50 concurrent calls, per-session budget ${limit:.2f}: {len(answered)} answered, "
        f"{len(refused)} refused; spent ${spent:.6f}; documented bound +${bound:.6f} "
        f"(without reservations: up to ${50 * (MAX_TOKENS * GPT_4O_OUTPUT_USD):.2f})"
    )
    assert spent == pytest.approx(sum(answered))
    assert spent <= limit + bound
    assert 1 <= len(answered) <= 6
    assert len(llm_emulator.requests) == len(answered)  # refused calls sent nothing
    assert isolated_ledger.budget_status()[0].reserved_usd == 0.0


def test_a_reservation_counts_against_the_budget_until_released(isolated_ledger: Ledger) -> None:
    isolated_ledger.set_budgets([Budget(1.0, "total", "claude")])

    held = isolated_ledger.reserve("claude", 0.6)
    with pytest.raises(BudgetExceededError) as refused:
        isolated_ledger.reserve("claude", 0.6)
    other = isolated_ledger.reserve("openai", 0.9)  # the budget does not cover openai

    message = str(refused.value)
    assert "cannot cover this call while others are in flight" in message
    assert "may cost up to $0.6000" in message
    assert "$0.6000 reserved by calls in flight of $1.00 in total" in message
    assert "Wait for the calls in flight to finish" in message
    assert isolated_ledger.budget_status()[0].reserved_usd == pytest.approx(0.6)
    held.release()
    held.release()  # twice is harmless
    isolated_ledger.reserve("claude", 0.6).release()
    other.release()
    assert isolated_ledger.budget_status()[0].reserved_usd == 0.0


def test_an_unpriced_call_reserves_nothing_but_is_refused_once_the_budget_is_spent(
    isolated_ledger: Ledger,
) -> None:
    isolated_ledger.set_budgets([Budget(1.0)])
    isolated_ledger.reserve("claude", 0.9)

    isolated_ledger.reserve("local", None)  # unknown cost: nothing to hold, nothing spent yet
    assert isolated_ledger.budget_status()[0].reserved_usd == pytest.approx(0.9)
    isolated_ledger.record(make_record(cost_usd=1.0))

    with pytest.raises(BudgetExceededError, match=r"is spent: \$1\.00 of \$1\.00"):
        isolated_ledger.reserve("local", None)


async def test_a_stream_holds_its_reservation_until_it_is_recorded_or_dropped(
    llm_emulator: LLMEmulator, claude: ClaudeProvider, isolated_ledger: Ledger
) -> None:
    isolated_ledger.set_budgets([Budget(100.0)])
    llm_emulator.enqueue(Reply(text="Streamed."))

    stream = claude.stream("Hello", max_tokens=1_000)
    # claude-sonnet-4-6: 1,000 output tokens at $15 per million, plus the prompt at $3.
    assert isolated_ledger.budget_status()[0].reserved_usd == pytest.approx(
        0.015 + (3 + 3 + 2) * 3e-6
    )
    async for _event in stream:
        pass
    assert isolated_ledger.budget_status()[0].reserved_usd == 0.0
    assert len(isolated_ledger) == 1

    dropped = claude.stream("Never iterated")
    assert isolated_ledger.budget_status()[0].reserved_usd > 0
    del dropped
    gc.collect()
    assert isolated_ledger.budget_status()[0].reserved_usd == 0.0


def test_the_worst_case_is_max_tokens_at_the_output_price_plus_the_estimated_prompt() -> None:
    from orchestify_nb.pricing import price_call
    from orchestify_nb.providers.budgeting import estimate_input_tokens, worst_case_cost

    provider = ClaudeProvider(
        provider_id="claude", api_key="test", default_model="claude-sonnet-4-6"
    )
    request = provider.build_request("x" * 400, system="Be brief.", max_tokens=2_000)

    assert estimate_input_tokens(request) == 3 + 3 + 100 + 3  # framing, one message, system
    expected = price_call(
        provider_type="anthropic",
        model="claude-sonnet-4-6",
        tokens=TokenCounts(input=109, output=2_000),
    )
    assert worst_case_cost(provider, request) == pytest.approx(expected.cost_usd)
    assert worst_case_cost(provider, request) == pytest.approx(2_000 * 15e-6 + 109 * 3e-6)
    unpriced = provider.build_request("hi", model="claude-unreleased-9")
    assert worst_case_cost(provider, unpriced) is None


async def test_a_call_that_fits_once_the_calls_in_flight_finish_waits_for_them(
    llm_emulator: LLMEmulator, openai: OpenAIProvider, isolated_ledger: Ledger
) -> None:
    # Each call may cost up to $1.00 but costs $0.10: one fits a $1.50 budget at a time.
    isolated_ledger.set_budgets([Budget(1.5, "session")])
    llm_emulator.enqueue(
        *(Reply(text="Short.", output_tokens=10_000, first_token_delay_s=0.3) for _ in range(2))
    )

    started = time.perf_counter()
    first, second = await asyncio.gather(
        openai.complete("First", max_tokens=MAX_TOKENS),
        openai.complete("Second", max_tokens=MAX_TOKENS),
    )
    elapsed = time.perf_counter() - started

    assert (first.cost_usd or 0) + (second.cost_usd or 0) == pytest.approx(0.2, rel=1e-3)
    assert elapsed >= 0.6  # the second was sent only once the first was recorded
    assert isolated_ledger.budget_status()[0].reserved_usd == 0.0
