"""The ledger's pandas views: the grouped summary and the pivot, reading only the columns needed.

Group keys use the DataFrame's column names (``provider_id``, ``model``, ``tag``...), with two
conveniences: ``provider`` is short for ``provider_id``, and ``hour`` / ``day`` / ``week`` /
``month`` bucket ``started_at`` (UTC).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from orchestify_nb.usage.columns import COLUMNS, read_frame
from orchestify_nb.usage.storage import TOKEN_FIELDS, Filters, LedgerStorage

if TYPE_CHECKING:
    import pandas as pd

ALIASES = {"provider": "provider_id"}
TIME_BUCKETS = ("minute", "hour", "day", "week", "month")
SUMMARY_COLUMNS = (
    "calls",
    *TOKEN_FIELDS,
    "cost_usd",
    "saved_usd",
    "prompt_cache_saved_usd",
    "unpriced_calls",
    "mean_latency_s",
    "error_rate",
)


def _source(key: str) -> str:
    """The stored column a group key reads (``day`` reads ``started_at``)."""
    if key in TIME_BUCKETS:
        return "started_at"
    name = ALIASES.get(key, key)
    if name not in COLUMNS:
        choices = ", ".join(sorted({*COLUMNS, *ALIASES, *TIME_BUCKETS}))
        raise ValueError(f"cannot group the ledger by {key!r}; choose from: {choices}")
    return name


def time_bucket(started_at: pd.Series, bucket: str) -> pd.Series:
    """The start (UTC) of the minute, hour, day, week (Monday) or month of each timestamp."""
    import pandas as pd

    if bucket == "minute":
        return started_at.dt.floor("min")
    if bucket == "hour":
        return started_at.dt.floor("h")
    days = started_at.dt.floor("D")
    if bucket == "day":
        return days
    if bucket == "week":
        return days - pd.to_timedelta(days.dt.dayofweek, unit="D")
    return days - pd.to_timedelta(days.dt.day - 1, unit="D")


def keyed_frame(
    store: LedgerStorage, filters: Filters, keys: Sequence[str], values: Sequence[str]
) -> pd.DataFrame:
    """The columns behind ``keys`` and ``values``, with time buckets and aliases materialised
    under the names the caller used."""
    needed = list(dict.fromkeys([*(_source(key) for key in keys), *values]))
    frame = read_frame(store, filters, needed, ordered=False)
    for key in keys:
        if key in TIME_BUCKETS:
            frame[key] = time_bucket(frame["started_at"], key)
        elif key in ALIASES:
            frame[key] = frame[ALIASES[key]]
    return frame


#: The columns ``summarise`` reads besides the group keys.
SUMMARISED_COLUMNS = (
    "status",
    *TOKEN_FIELDS,
    "cost_usd",
    "saved_usd",
    "prompt_cache_saved_usd",
    "latency_s",
)


def summary(store: LedgerStorage, filters: Filters, by: Sequence[str]) -> pd.DataFrame:
    """Per group: calls, tokens by kind, cost, unpriced calls, mean latency and error rate."""
    keys = list(by)
    return summarise(keyed_frame(store, filters, keys, SUMMARISED_COLUMNS), keys)


def summarise(frame: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    """``summary`` of a ledger DataFrame that holds the ``keys`` and ``SUMMARISED_COLUMNS``."""
    keys = list(keys)
    frame = frame.assign(is_error=frame["status"] == "error")
    frame["is_unpriced"] = frame["cost_usd"].isna() & (
        (frame["input_tokens"] > 0) | (frame["output_tokens"] > 0)
    )
    aggregations = {
        "calls": ("status", "size"),
        **{name: (name, "sum") for name in TOKEN_FIELDS},
        "unpriced_calls": ("is_unpriced", "sum"),
        "mean_latency_s": ("latency_s", "mean"),
        "error_rate": ("is_error", "mean"),
    }
    if not keys:
        frame["all"] = "all"
        keys = ["all"]
    groups = frame.groupby(keys, observed=True, sort=True, dropna=False)
    result = groups.agg(**aggregations)
    # A group whose calls were all unpriced costs "unknown" (NaN), never $0.
    result["cost_usd"] = groups["cost_usd"].sum(min_count=1)
    # What the response cache (replayed answers) and the prompt cache saved; $0 when unused.
    result["saved_usd"] = groups["saved_usd"].sum().astype("float64")
    result["prompt_cache_saved_usd"] = groups["prompt_cache_saved_usd"].sum().astype("float64")
    result["calls"] = result["calls"].astype("Int64")
    result["unpriced_calls"] = result["unpriced_calls"].astype("Int64")
    return result[list(SUMMARY_COLUMNS)]


def pivot(
    store: LedgerStorage,
    filters: Filters,
    *,
    index: str,
    columns: str,
    values: str,
    aggfunc: str,
) -> pd.DataFrame:
    """A table of ``values`` aggregated by ``index`` × ``columns`` (``values="calls"`` counts)."""
    value_source = "status" if values == "calls" else _source(values)
    frame = keyed_frame(store, filters, [index, columns], [value_source])
    if values == "calls":
        frame["calls"], aggfunc = 1, "sum"
    return frame.pivot_table(
        index=index,
        columns=columns,
        values=values,
        aggfunc=aggfunc,
        observed=True,
        fill_value=0 if aggfunc in ("sum", "count") else None,
    )
