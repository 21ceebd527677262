"""How ``SQLiteStore`` answers reads: totals, cost per model, records, spend and whole columns.

The light readers (totals, cost per model, records, spend for budgets) are plain SQL. Whole
columns for DataFrames come from two places: complete blocks of rows from their sealed, packed
copy (``blocks.py``), the rest (the newest rows, blocks not sealed yet, damaged blocks) through SQL
(``scan.py``). Both give the same arrays, so the rows are put back in ``seq`` order and the
filters applied once, in numpy, whatever their origin.
"""

from __future__ import annotations

import functools
import logging
import sqlite3
from collections.abc import Sequence
from dataclasses import fields
from typing import TYPE_CHECKING

from orchestify_nb.tokens import TokenCounts
from orchestify_nb.usage.blocks import read_sealed, seal, seal_pending, unsealed_ranges
from orchestify_nb.usage.record import UsageRecord
from orchestify_nb.usage.scan import last_seq, read_rows, value_dtype
from orchestify_nb.usage.storage import Filters, ProviderSpend, from_ns
from orchestify_nb.usage.totals import TokenUsage, totals_from_sums

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from orchestify_nb.usage.storage import Values
    from orchestify_nb.usage.store import SQLiteStore

logger = logging.getLogger("orchestify_nb.usage")

#: UsageRecord's fields, read from the ``usage`` view (times as nanoseconds).
#: UsageRecord's fields, read from the ``usage`` view (times as nanoseconds), then its
#: ``tokens`` from the token columns, in ``TokenCounts`` field order.
_RECORD_FIELDS = tuple(field.name for field in fields(UsageRecord) if field.name != "tokens")
_TOKEN_COLUMNS = (
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
)
_TIMES = ("started_at", "finished_at")


def _code(store: SQLiteStore, text: str) -> int:
    """The label's code, or -1 (matching nothing) if no row has used it yet."""
    found = store.existing_label_ids([text])
    return found[0] if found else -1


def totals(store: SQLiteStore, filters: Filters) -> TokenUsage:
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
    return totals_from_sums(row)


def cost_by_model(store: SQLiteStore, filters: Filters) -> list[tuple[str, float, int]]:
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


def read_records(store: SQLiteStore, filters: Filters, limit: int | None) -> list[UsageRecord]:
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
        values["usage_estimated"] = bool(values["usage_estimated"])
        records.append(UsageRecord(**values))
    return records


_SPEND_SQL = """
SELECT provider.text,
       total(c.cost_usd),
       total(CASE WHEN c.started_at_ns >= ? THEN c.cost_usd END),
       total(CASE WHEN c.session_id_label = ? THEN c.cost_usd END),
       max(c.rowid),
       total(CASE WHEN c.user_label = ? THEN c.cost_usd END),
       total(CASE WHEN c.user_label = ? AND c.started_at_ns >= ? THEN c.cost_usd END)
FROM calls AS c JOIN labels AS provider ON provider.id = c.provider_id_label
WHERE c.rowid > ?
GROUP BY c.provider_id_label
"""


def spend_after(
    store: SQLiteStore, position: int, day_start_ns: int, session_id: str, user: str | None
) -> list[ProviderSpend]:
    """Spend per provider in the rows after ``position`` (in all, today, by ``session_id``,
    by ``user`` in all and today)."""
    with store.lock:
        session_code = _code(store, session_id)
        user_code = _code(store, user) if user is not None else -1
        rows = store.connection.execute(
            _SPEND_SQL, (day_start_ns, session_code, user_code, user_code, day_start_ns, position)
        ).fetchall()
    return [ProviderSpend.of_row(row) for row in rows]


def _label_filters(store: SQLiteStore, filters: Filters) -> dict[str, list[int]]:
    """The label columns filtered on, each with the codes it may hold."""
    wanted = {
        "provider_id_label": filters.provider,
        "model_label": filters.model,
        "tag_label": filters.tag,
        "status_label": filters.status,
    }
    return {column: store.existing_label_ids(texts) for column, texts in wanted.items() if texts}


def _keep(
    values: dict[str, Values], filters: Filters, codes: dict[str, list[int]]
) -> npt.NDArray[np.bool_] | None:
    """Which rows match ``filters`` (``None``: all of them), as ``SQLiteStore.where`` says."""
    import numpy as np

    conditions = [np.isin(values[column], wanted) for column, wanted in codes.items()]
    if filters.since_ns is not None:
        conditions.append(values["started_at_ns"] >= filters.since_ns)
    if filters.until_ns is not None:
        conditions.append(values["started_at_ns"] < filters.until_ns)
    return functools.reduce(np.logical_and, conditions) if conditions else None


def _seal_quietly(store: SQLiteStore, blocks: Sequence[int] | None) -> None:
    """Seal ``blocks`` (``None``: every complete block not sealed yet). If the file cannot be
    written now, their rows are simply read through SQL."""
    try:
        if blocks is None:
            seal_pending(store.connection)
        else:
            seal(store.connection, blocks)
    except sqlite3.Error as error:
        logger.info("could not seal ledger blocks in %r (%s); reading rows", store.path, error)


def read_columns(store: SQLiteStore, filters: Filters, sources: Sequence[str]) -> dict[str, Values]:
    """The stored columns ``sources`` of the rows matching ``filters``, in ``seq`` order.

    Complete blocks nobody sealed yet are sealed first, and damaged ones again afterwards.
    """
    import numpy as np

    codes = _label_filters(store, filters)
    timed = filters.since_ns is not None or filters.until_ns is not None
    needed = list(dict.fromkeys([*sources, *codes, *(["started_at_ns"] if timed else [])]))
    with store.lock:
        _seal_quietly(store, None)
        with store.snapshot() as connection:
            found = read_sealed(connection, needed, filters.since_ns, filters.until_ns)
            pieces = found.pieces
            for after, last in unsealed_ranges(found.covered, last_seq(connection)):
                pieces.extend(read_rows(connection, needed, after, last))
        if found.damaged:
            _seal_quietly(store, found.damaged)
    pieces.sort(key=lambda piece: piece[0])
    values = {
        column: np.concatenate(
            [piece[column] for _, piece in pieces] or [np.empty(0, value_dtype(column))],
            dtype=value_dtype(column),
        )
        for column in needed
    }
    keep = _keep(values, filters, codes)
    return {column: values[column] if keep is None else values[column][keep] for column in sources}
