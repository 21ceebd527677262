"""Budgets: a spent budget refuses the next call before anything is sent, 80 % warns once, and
each period (day, session, total) and scope (one provider, all) counts the right spend."""

from __future__ import annotations

import warnings
from datetime import timedelta

import pytest

from orchestify_nb.config import load_config
from orchestify_nb.errors import BudgetExceededError
from orchestify_nb.providers.claude import ClaudeProvider
from orchestify_nb.providers.openai_provider import OpenAIProvider
from orchestify_nb.testing import LLMEmulator, Reply
from orchestify_nb.usage.budgets import Budget, BudgetWarning, budgets_from_config
from orchestify_nb.usage.ledger import Ledger
from orchestify_nb.usage.record import UsageRecord
from tests.usage.conftest import make_record

# claude-sonnet-4-6 at $3 / $15 per million tokens: 10,000 in + 1,000 out = $0.045
EXPENSIVE = Reply(text="Worth it.", input_tokens=10_000, output_tokens=1_000)


async def test_a_spent_budget_refuses_the_next_call_before_any_request_is_sent(
    llm_emulator: LLMEmulator, claude: ClaudeProvider, isolated_ledger: Ledger
) -> None:
    isolated_ledger.set_budgets([Budget(limit_usd=0.04, period="day", provider_id="claude")])
    llm_emulator.enqueue(EXPENSIVE)
    await claude.complete("Allowed: nothing spent yet.")
    llm_emulator.reset()

    with pytest.raises(BudgetExceededError) as refused:
        await claude.complete("Refused: $0.045 of $0.04 spent.")

    assert llm_emulator.requests == []
    assert len(isolated_ledger) == 1
    message = str(refused.value)
    assert "the daily budget for provider 'claude' is spent" in message
    assert "$0.0450 of $0.0400 today (UTC)" in message
    assert "refused before anything was sent" in message
    assert "Raise limit_usd for this budget under `budgets:`" in message
    assert refused.value.provider_id == "claude"


async def test_a_stream_is_refused_before_its_request_too(
    llm_emulator: LLMEmulator, openai: OpenAIProvider, isolated_ledger: Ledger
) -> None:
    isolated_ledger.record(make_record(provider_id="someone-else", cost_usd=2.0))
    isolated_ledger.set_budgets([Budget(limit_usd=1.0, period="total")])

    with pytest.raises(BudgetExceededError, match="total budget across all providers"):
        async for _event in openai.stream("Refused."):
            pass

    assert llm_emulator.requests == []


def test_eighty_percent_warns_once_per_budget_and_session(isolated_ledger: Ledger) -> None:
    daily, overall = Budget(1.0, "day", "claude"), Budget(10.0, "total")
    isolated_ledger.set_budgets([daily, overall])
    isolated_ledger.record(make_record(cost_usd=0.79))
    with warnings.catch_warnings(record=True) as shown:
        warnings.simplefilter("always")
        isolated_ledger.check_budget("claude")  # 79 %: quiet
        isolated_ledger.record(make_record(cost_usd=0.02))
        isolated_ledger.check_budget("claude")  # 81 %: warns
        isolated_ledger.record(make_record(cost_usd=0.1))
        isolated_ledger.check_budget("claude")  # 91 %: already warned
        isolated_ledger.check_budget("openai")  # the daily budget does not cover openai

    [warning] = shown
    assert warning.category is BudgetWarning
    assert "the daily budget for provider 'claude' is 81% used: $0.8100 of $1.00" in str(
        warning.message
    )


def test_a_budget_counts_only_its_own_period(isolated_ledger: Ledger) -> None:
    two_days_ago = UsageRecord.now() - timedelta(days=2)
    isolated_ledger.record(make_record(started_at=two_days_ago, session_id="old", cost_usd=5.0))
    isolated_ledger.record(make_record(session_id="an-earlier-kernel-today", cost_usd=3.0))
    isolated_ledger.record(make_record(cost_usd=0.5))  # this session, today
    isolated_ledger.set_budgets([Budget(100, "day"), Budget(100, "session"), Budget(100, "total")])

    spent = {status.budget.period: status.spent_usd for status in isolated_ledger.budget_status()}

    assert spent == {"day": 3.5, "session": 0.5, "total": 8.5}


def test_a_provider_budget_ignores_other_providers_and_unpriced_calls(
    isolated_ledger: Ledger,
) -> None:
    isolated_ledger.set_budgets([Budget(1.0, "total", "claude")])
    isolated_ledger.record(make_record(provider_id="openai", model="gpt-4o", cost_usd=50.0))
    isolated_ledger.record(make_record(provider_id="claude", cost_usd=None, priced=False))

    isolated_ledger.check_budget("claude")
    isolated_ledger.record(make_record(provider_id="claude", cost_usd=1.0))
    with pytest.raises(BudgetExceededError, match=r"\$1\.00 of \$1\.00 in total"):
        isolated_ledger.check_budget("claude")
    isolated_ledger.check_budget("openai")


def test_the_budgets_section_of_the_config_becomes_budgets() -> None:
    config = load_config(
        {
            "providers": {"claude_main": {"type": "anthropic", "api_key": "test"}},
            "budgets": {
                "per_day": 10.0,
                "providers": {"claude_main": {"per_session": 2.0, "total": 100.0}},
                "warn_at": 0.9,
            },
        }
    )

    assert budgets_from_config(config.budgets) == [
        Budget(10.0, "day", None, warn_at=0.9),
        Budget(2.0, "session", "claude_main", warn_at=0.9),
        Budget(100.0, "total", "claude_main", warn_at=0.9),
    ]
    assert budgets_from_config(None) == []


def test_a_ledger_from_config_uses_the_env_file_and_the_configs_budgets(
    isolated_ledger: Ledger,
) -> None:
    config = load_config(
        {"ledger": {"path": "/nonexistent/ignored.sqlite3"}, "budgets": {"total": 5}}
    )

    with Ledger.from_config(config) as ledger:
        assert ledger.path != "/nonexistent/ignored.sqlite3"  # ORCHESTIFY_LEDGER wins
        assert ledger.budgets == (Budget(5.0, "total"),)
