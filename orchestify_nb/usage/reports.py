"""What ``%llm usage``, ``%llm cost`` and ``%llm budget`` show, built from a ledger.

The magics stay thin: they parse their arguments and display what these return.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, time
from typing import TYPE_CHECKING

from orchestify_nb.usage.budgets import usd

if TYPE_CHECKING:
    import pandas as pd

    from orchestify_nb.usage.ledger import Ledger
    from orchestify_nb.usage.periods import Moment

BUDGET_COLUMNS = (
    "budget",
    "provider",
    "period",
    "limit_usd",
    "spent_usd",
    "remaining_usd",
    "used",
    "state",
)


#: ``%llm usage`` columns, most wanted first: cost and calls stay in view in a narrow notebook.
USAGE_COLUMNS = (
    "cost_usd",
    "calls",
    "saved_usd",
    "prompt_cache_saved_usd",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
    "unpriced_calls",
    "mean_latency_s",
    "error_rate",
)
#: Shown only when some group has a non-zero value.
_OPTIONAL_COLUMNS = (
    "saved_usd",
    "prompt_cache_saved_usd",
    "cache_read_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
    "unpriced_calls",
)
#: Longer labels (fine-tuned model names run to 60 characters) are cut in the middle.
LABEL_WIDTH = 28


def short_label(label: object, width: int = LABEL_WIDTH) -> object:
    """``label`` cut to ``width`` characters with a middle ellipsis (its start and end are what
    tell models apart); anything that is not a string is returned as it is."""
    if not isinstance(label, str) or len(label) <= width:
        return label
    head = (width - 1) // 2
    return f"{label[:head]}…{label[-(width - 1 - head) :]}"


def usage_table(
    ledger: Ledger,
    by: Sequence[str] | str = ("provider", "model"),
    since: Moment | None = None,
    tag: str | Sequence[str] | None = None,
) -> pd.DataFrame:
    """The ledger summary grouped ``by`` (a list or ``"provider,model"``), costliest first.

    Cost and calls come first, columns that are zero throughout are left out and long labels are
    shortened, so the table fits a notebook; ``Ledger.summary`` has every column in full.
    """
    keys = [key.strip() for key in by.split(",") if key.strip()] if isinstance(by, str) else by
    table = ledger.summary(by=list(keys), since=since, tag=tag)
    table = table.sort_values("cost_usd", ascending=False, na_position="last", kind="stable")
    shown = [
        column
        for column in USAGE_COLUMNS
        if column in table.columns
        and (column not in _OPTIONAL_COLUMNS or bool(table[column].fillna(0).astype(bool).any()))
    ]
    table = table[shown]
    return table.rename(index=short_label)


def cost_line(ledger: Ledger, top: int = 3) -> str:
    """One line: total cost and calls, today's cost, unpriced calls, and the costliest models."""
    totals = ledger.totals()
    if not totals.call_count:
        return f"No calls recorded yet in the ledger {ledger.path}."
    midnight = datetime.combine(datetime.now(UTC).date(), time(), tzinfo=UTC)
    today = ledger.totals(since=midnight)
    calls = f"{totals.call_count} call{'s' if totals.call_count != 1 else ''}"
    parts = [f"Total {usd(totals.total_cost_usd)} over {calls} (today {usd(today.total_cost_usd)})"]
    if totals.unpriced_calls:
        parts.append(f"{totals.unpriced_calls} unpriced")
    leaders = [
        f"{model} {usd(cost)} ({count} call{'s' if count != 1 else ''})"
        for model, cost, count in ledger.cost_by_model()[:top]
    ]
    parts.append("top models: " + ", ".join(leaders))
    return " · ".join(parts)


def budget_table(ledger: Ledger) -> pd.DataFrame:
    """Every budget with its limit, what is spent, what remains and its state."""
    import pandas as pd

    known = " (last known total: the team ledger is unreachable)" if ledger.offline else ""
    rows = [
        {
            "budget": status.budget.describe() + known,
            "provider": status.budget.provider_id or "(all)",
            "period": status.budget.period,
            "limit_usd": status.budget.limit_usd,
            "spent_usd": status.spent_usd,
            "remaining_usd": status.remaining_usd,
            "used": status.fraction_used,
            "state": status.state,
        }
        for status in ledger.budget_status()
    ]
    return pd.DataFrame(rows, columns=list(BUDGET_COLUMNS))
