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


def strip_html(usage: TokenUsage, scope: str = "This session") -> str:
    """One line: calls, tokens and cost, with stopped, failed and unpriced calls."""
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
    return f'<div class="onb-strip">{scope}: {" · ".join(parts)}</div>'


_TABLE_COLUMNS = {
    "provider": "provider",
    "model": "model",
    "calls": "calls",
    "input_tokens": "input tokens",
    "output_tokens": "output tokens",
    "cache_read_tokens": "cached",
    "cost_usd": "cost",
    "mean_latency_s": "mean latency",
    "error_rate": "errors",
}


def ledger_table_html() -> str:
    """The ledger's totals, and per provider and model (``usage.reports.usage_table``) the calls,
    tokens, cost, latency and error rate, as compact HTML."""
    import pandas as pd

    from orchestify_nb.usage import get_default_ledger
    from orchestify_nb.usage.reports import usage_table

    try:
        ledger = get_default_ledger()
        totals, table = ledger.totals(), usage_table(ledger)
    except Exception as error:  # the tab must explain a broken ledger, not raise in a callback
        message = html.escape(" ".join(str(error).split()))
        return f'<div class="onb-error">Could not read the usage ledger: {message}</div>'
    heading = strip_html(totals, "Usage ledger, all sessions")
    if table.empty:
        return heading
    shown = table.reset_index()
    if "cache_read_tokens" in shown.columns and not shown["cache_read_tokens"].any():
        shown = shown.drop(columns="cache_read_tokens")
    shown = shown[[c for c in _TABLE_COLUMNS if c in shown.columns]].rename(columns=_TABLE_COLUMNS)

    def cost(value: float) -> str:
        return format_cost(None if pd.isna(value) else value)

    def seconds(value: float) -> str:
        return "–" if pd.isna(value) else f"{value:.2f} s"

    def share(value: float) -> str:
        return "–" if pd.isna(value) else f"{value:.0%}"

    body = shown.to_html(
        index=False,
        border=0,
        na_rep="–",
        formatters={"cost": cost, "mean latency": seconds, "errors": share},
    )
    return f'{heading}<div class="onb-usage">{body}</div>'
