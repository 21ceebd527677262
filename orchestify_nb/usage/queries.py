"""Plain-SQL readers of the ledger: totals, cost per model and whole records (no pandas).

They serve the paths that must stay light: ``registry``/panel totals, ``%llm cost``, and tests
comparing rows with responses.
"""

from __future__ import annotations

from dataclasses import fields

from orchestify_nb.tokens import TokenCounts
from orchestify_nb.usage.record import UsageRecord
from orchestify_nb.usage.store import Filters, LedgerStore, from_ns
from orchestify_nb.usage.totals import TokenUsage

#: UsageRecord's fields, read from the ``usage`` view (times as nanoseconds), then its
#: ``tokens`` from the token columns, in ``TokenCounts`` field order.
_RECORD_FIELDS = tuple(
    field.name for field in fields(UsageRecord) if field.name not in ("tokens", "usage_estimated")
)
_TOKEN_COLUMNS = (
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
)
_TIMES = ("started_at", "finished_at")


def _code(store: LedgerStore, text: str) -> int:
    """The label's code, or -1 (matching nothing) if no row has used it yet."""
    found = store.existing_label_ids([text])
    return found[0] if found else -1


def totals(store: LedgerStore, filters: Filters) -> TokenUsage:
    """Sums over the matching calls, in the provider's ``TokenUsage`` form."""
    with store.lock:
        where, params = store.where(filters)
        row = store.connection.execute(
            "SELECT count(*), total(input_tokens), total(output_tokens), total(cost_usd), "
            "total(cache_read_tokens), total(cache_write_tokens), total(reasoning_tokens), "
            "total(status_label = ?), total(status_label = ?), "
            "total(cost_usd IS NULL AND (input_tokens > 0 OR output_tokens > 0)) "
            f"FROM calls{where}",
            [_code(store, "error"), _code(store, "cancelled"), *params],
        ).fetchone()
    return TokenUsage(
        call_count=int(row[0]),
        tokens=TokenCounts(
            input=int(row[1]),
            output=int(row[2]),
            cache_read=int(row[4]),
            cache_write=int(row[5]),
            reasoning=int(row[6]),
        ),
        total_cost_usd=float(row[3]),
        error_count=int(row[7]),
        cancelled_count=int(row[8]),
        unpriced_calls=int(row[9]),
    )


def cost_by_model(store: LedgerStore, filters: Filters) -> list[tuple[str, float, int]]:
    """``(model, cost_usd, calls)`` per model, costliest first."""
    with store.lock:
        where, params = store.where(filters)
        rows = store.connection.execute(
            "SELECT model.text, total(c.cost_usd), count(*) FROM calls AS c "
            f"JOIN labels AS model ON model.id = c.model_label{where} "
            "GROUP BY c.model_label ORDER BY 2 DESC, 3 DESC",
            params,
        ).fetchall()
    return [(str(model), float(cost), int(calls)) for model, cost, calls in rows]


def read_records(store: LedgerStore, filters: Filters, limit: int | None) -> list[UsageRecord]:
    """Matching rows as records, oldest first; ``limit`` keeps the newest N."""
    columns = ", ".join(
        [f"u.{name}_ns" if name in _TIMES else f"u.{name}" for name in _RECORD_FIELDS]
        + [f"u.{name}" for name in _TOKEN_COLUMNS]
    )
    with store.lock:
        where, params = store.where(filters)
        newest = f"SELECT rowid FROM calls{where} ORDER BY started_at_ns DESC, rowid DESC"
        if limit is not None:
            newest += f" LIMIT {int(limit)}"
        rows = store.connection.execute(
            f"SELECT {columns} FROM calls AS c JOIN usage AS u ON u.id = c.id "
            f"WHERE c.rowid IN ({newest}) ORDER BY c.started_at_ns, c.rowid",
            params,
        ).fetchall()
    records = []
    for row in rows:
        counted = len(_RECORD_FIELDS)
        values = dict(zip(_RECORD_FIELDS, row[:counted], strict=True))
        values["tokens"] = TokenCounts(*row[counted:])
        for name in _TIMES:
            values[name] = from_ns(values[name])
        values["priced"] = bool(values["priced"])
        records.append(UsageRecord(**values))
    return records
