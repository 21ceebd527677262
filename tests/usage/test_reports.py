"""What %llm usage, %llm cost and %llm budget show."""

from __future__ import annotations

from datetime import timedelta

import pytest

from orchestify_nb.usage.budgets import Budget
from orchestify_nb.usage.ledger import Ledger
from orchestify_nb.usage.record import UsageRecord
from orchestify_nb.usage.reports import budget_table, cost_line, usage_table
from tests.usage.conftest import make_record


@pytest.fixture
def ledger(isolated_ledger: Ledger) -> Ledger:
    now = UsageRecord.now()
    for record in [
        make_record(model="claude-sonnet-4-6", cost_usd=1.25, tag="exp"),
        make_record(model="claude-sonnet-4-6", cost_usd=0.75),
        make_record(model="claude-haiku-4-5", cost_usd=0.125, tag="exp"),
        make_record(provider_id="openai", model="gpt-4o", cost_usd=0.5),
        make_record(provider_id="openai", model="ft:mine", cost_usd=None, priced=False),
        make_record(model="claude-opus-4-1", cost_usd=9.0, started_at=now - timedelta(days=40)),
    ]:
        isolated_ledger.record(record)
    return isolated_ledger


def test_usage_table_groups_as_asked_costliest_first(ledger: Ledger) -> None:
    table = usage_table(ledger, by="provider, model", since="7d")
    by_tag = usage_table(ledger, by=["model"], tag="exp")

    assert list(table.index) == [
        ("claude", "claude-sonnet-4-6"),
        ("openai", "gpt-4o"),
        ("claude", "claude-haiku-4-5"),
        ("openai", "ft:mine"),
    ]
    assert table["calls"].sum() == 5
    assert by_tag["cost_usd"].to_dict() == {"claude-sonnet-4-6": 1.25, "claude-haiku-4-5": 0.125}


def test_cost_line_gives_the_total_today_unpriced_calls_and_top_models(ledger: Ledger) -> None:
    line = cost_line(ledger)

    assert line == (
        "Total $11.62 over 6 calls (today $2.62) · 1 unpriced · top models: "
        "claude-opus-4-1 $9.00 (1 call), claude-sonnet-4-6 $2.00 (2 calls), "
        "gpt-4o $0.5000 (1 call)"
    )


def test_cost_line_of_an_empty_ledger_says_so(isolated_ledger: Ledger) -> None:
    assert cost_line(isolated_ledger) == "No calls recorded yet in the ledger :memory:."


def test_budget_table_shows_limit_spent_remaining_and_state(ledger: Ledger) -> None:
    ledger.set_budgets([Budget(2.5, "day", "claude"), Budget(10.0, "total")])

    table = budget_table(ledger)

    assert table.to_dict("records") == [
        {
            "budget": "the daily budget for provider 'claude'",
            "provider": "claude",
            "period": "day",
            "limit_usd": 2.5,
            "spent_usd": 2.125,
            "remaining_usd": 0.375,
            "used": 0.85,
            "state": "warning",
        },
        {
            "budget": "the total budget across all providers",
            "provider": "(all)",
            "period": "total",
            "limit_usd": 10.0,
            "spent_usd": 11.625,
            "remaining_usd": 0.0,
            "used": 1.1625,
            "state": "exceeded",
        },
    ]


def test_budget_table_without_budgets_is_empty_with_its_columns(isolated_ledger: Ledger) -> None:
    table = budget_table(isolated_ledger)

    assert table.empty and list(table.columns)[:4] == ["budget", "provider", "period", "limit_usd"]


def test_usage_shows_what_the_response_and_prompt_caches_saved_only_when_they_saved(
    ledger: Ledger,
) -> None:
    assert "saved_usd" not in usage_table(ledger).columns
    assert "prompt_cache_saved_usd" not in usage_table(ledger).columns

    ledger.record(make_record(model="claude-sonnet-4-6", cost_usd=0.5, prompt_cache_saved_usd=0.25))
    ledger.record(
        make_record(model="claude-sonnet-4-6", cost_usd=0.1, prompt_cache_saved_usd=-0.05)
    )
    ledger.record(make_record(model="gpt-4o", cost_usd=0.0, saved_usd=0.5, mode="cache"))
    table = usage_table(ledger, by="model", since="7d")

    assert table.loc["claude-sonnet-4-6", "prompt_cache_saved_usd"] == pytest.approx(0.20)
    assert table.loc["gpt-4o", "saved_usd"] == pytest.approx(0.5)
    assert table.loc["claude-haiku-4-5", "saved_usd"] == 0.0
