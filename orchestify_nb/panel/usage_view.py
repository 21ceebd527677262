"""The panel's money view: the running usage strip and the Usage tab's ledger summary.

The strip sums the registry's per-provider totals (this kernel's calls); the tab reads the ledger,
which also holds earlier sessions. pandas is imported only when the tab is drawn.
"""

from __future__ import annotations

import html

from orchestify_nb.providers.types import TokenUsage


def format_cost(cost_usd: float | None) -> str:
    """Dollars with enough digits for cheap calls; unknown prices say so instead of "$0"."""
    if cost_usd is None:
        return "cost unknown"
    if cost_usd == 0:
        return "$0.00"
    return f"${cost_usd:.4f}" if cost_usd >= 0.01 else f"${cost_usd:.6f}"


def strip_html(usage: TokenUsage) -> str:
    """One line: calls, tokens and cost of this session, with stops, errors and unpriced calls."""
    calls = f"<b>{usage.call_count}</b> call{'s' if usage.call_count != 1 else ''}"
    parts = [
        calls,
        f"<b>{usage.total_tokens:,}</b> tokens",
        f"<b>{format_cost(usage.total_cost_usd)}</b>",
    ]
    if usage.unpriced_calls:
        parts.append(f"{usage.unpriced_calls} unpriced")
    if usage.cancelled_count:
        parts.append(f"{usage.cancelled_count} stopped")
    if usage.error_count:
        parts.append(f"{usage.error_count} failed")
    return f'<div class="onb-strip">This session: {" · ".join(parts)}</div>'


def ledger_table_html() -> str:
    """The ledger summary (``usage.reports.usage_table``) as an HTML table, or why there is none."""
    from orchestify_nb.usage import get_default_ledger
    from orchestify_nb.usage.reports import usage_table

    try:
        table = usage_table(get_default_ledger())
    except Exception as error:  # the tab must explain a broken ledger, not raise in a callback
        message = html.escape(" ".join(str(error).split()))
        return f'<div class="onb-error">Could not read the usage ledger: {message}</div>'
    if table.empty:
        return '<div class="onb-empty">No calls in the usage ledger yet.</div>'
    return f'<div class="onb-usage">{table.to_html(border=0, na_rep="–")}</div>'
