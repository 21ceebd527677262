"""How ``PostgresStore`` answers reads: totals, cost per model, records, spend, whole columns.

Whole columns come through ``COPY (SELECT ...) TO STDOUT (FORMAT BINARY)``: every column is cast
to an 8-byte ``bigint`` or ``double precision`` with NULL replaced (``NULL_INTEGER``, 0 for a
label code, NaN for money), so each row of the stream has the same width and numpy reads the
whole stream as one structured array, with no Python object per value. Binary COPY was chosen
over Arrow through ADBC's PostgreSQL driver because it needs nothing beyond psycopg (ADBC would
be another native dependency for the same bytes) and reads a million rows well inside the 2 s
budget (``benchmarks/ledger.py --postgres``). Ids, the one text column, come in text COPY.
Filters are pushed into the SQL ``WHERE``, so only matching rows travel.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import fields
from typing import TYPE_CHECKING, Any

from orchestify_nb.tokens import TokenCounts
from orchestify_nb.usage.postgres_schema import SCHEMA
from orchestify_nb.usage.record import UsageRecord
from orchestify_nb.usage.scan import value_dtype, value_kind
from orchestify_nb.usage.storage import (
    LABEL_FIELDS,
    NULL_INTEGER,
    STORED_COLUMNS,
    Filters,
    ProviderSpend,
    from_ns,
)
from orchestify_nb.usage.totals import TokenUsage, totals_from_sums

if TYPE_CHECKING:
    import psycopg

    from orchestify_nb.usage.storage import Values

    Connection = psycopg.Connection[tuple[Any, ...]]

#: Rows below which a read is not split over parallel connections.
SPLIT_ROWS = 200_000

_HEADER = b"PGCOPY\n\xff\r\n\x00"
_CALLS = f"{SCHEMA}.calls"


def where(filters: Filters, codes: dict[str, list[int]]) -> str:
    """The WHERE clause of ``filters`` (label texts already turned into ``codes``). Every value
    is an integer formatted by us, so the clause also works inside ``COPY``."""
    clauses: list[str] = []
    if filters.since_ns is not None:
        clauses.append(f"started_at_ns >= {int(filters.since_ns)}")
    if filters.until_ns is not None:
        clauses.append(f"started_at_ns < {int(filters.until_ns)}")
    for column, wanted in codes.items():
        listed = ", ".join(str(int(code)) for code in wanted) or "NULL"
        clauses.append(f"{column} IN ({listed})")
    return " WHERE " + " AND ".join(clauses) if clauses else ""


def label_codes(connection: Connection, filters: Filters) -> dict[str, list[int]]:
    """The label columns filtered on, each with the codes it may hold."""
    from orchestify_nb.usage.labels import clean_label

    wanted = {
        "provider_id_label": filters.provider,
        "model_label": filters.model,
        "tag_label": filters.tag,
        "status_label": filters.status,
    }
    found: dict[str, list[int]] = {}
    for column, texts in wanted.items():
        if texts:
            rows = connection.execute(
                f"SELECT id FROM {SCHEMA}.labels WHERE text = ANY(%s)",
                ([clean_label(text) for text in texts],),
            ).fetchall()
            found[column] = [int(row[0]) for row in rows]
    return found


def _select(column: str) -> str:
    kind = value_kind(column)
    if kind == "float":
        return f"coalesce({column}, 'NaN')::float8"
    null = 0 if kind == "label" else NULL_INTEGER
    return f"coalesce({column}, {null})::int8"


def row_count(connection: Connection) -> int:
    row = connection.execute(f"SELECT count(*) FROM {_CALLS}").fetchone()
    return int(row[0]) if row else 0


def labels(connection: Connection) -> dict[int, str]:
    rows = connection.execute(f"SELECT id, text FROM {SCHEMA}.labels").fetchall()
    return {int(code): str(text) for code, text in rows}


def seq_ranges(connection: Connection, parts: int) -> list[tuple[int, int]]:
    """``(after, last)`` ranges of ``seq`` splitting the table into about equal parts (one
    part for a small table; from the index, not a scan)."""
    row = connection.execute(
        f"SELECT coalesce(min(seq), 1) - 1, coalesce(max(seq), 0) FROM {_CALLS}"
    ).fetchone()
    first, last = (int(row[0]), int(row[1])) if row else (0, 0)
    if last - first < SPLIT_ROWS:
        return [(first, last)]
    cuts = [first + (last - first) * index // parts for index in range(parts)] + [last]
    return list(itertools.pairwise(cuts))


def read_columns(
    connection: Connection,
    filters: Filters,
    codes: dict[str, list[int]],
    columns: Sequence[str],
    bounds: tuple[int, int],
) -> dict[str, Values]:
    """The stored ``columns`` (and ``started_at_ns``) of the matching rows with ``seq`` in
    ``(after, last]``, in commit order."""
    return read_rows(
        connection,
        filters,
        codes,
        columns,
        f"seq > {int(bounds[0])} AND seq <= {int(bounds[1])}",
    )


def read_rows(
    connection: Connection,
    filters: Filters,
    codes: dict[str, list[int]],
    columns: Sequence[str],
    condition: str,
) -> dict[str, Values]:
    """The stored ``columns`` (and ``started_at_ns``) of the matching rows that also meet
    ``condition`` (SQL on ``seq``, built from integers), in commit order."""
    clause = where(filters, codes)
    clause += f"{' AND' if clause else ' WHERE'} {condition}"
    numeric = list(dict.fromkeys([*(c for c in columns if c != "id"), "started_at_ns"]))
    query = f"SELECT {', '.join(_select(c) for c in numeric)} FROM {_CALLS}{clause} ORDER BY seq"
    values = _binary_columns(connection, query, numeric)
    if "id" in columns:
        values["id"] = _ids(connection, f"SELECT id FROM {_CALLS}{clause} ORDER BY seq")
    return values


def oldest_first(parts: Sequence[dict[str, Values]], columns: Sequence[str]) -> dict[str, Values]:
    """The parts joined, ordered by ``started_at`` (stable, so commit order breaks ties)."""
    import numpy as np

    joined = {
        column: np.concatenate([part[column] for part in parts])
        for column in dict.fromkeys([*columns, "started_at_ns"])
    }
    started = joined["started_at_ns"]
    if started.size and not bool(np.all(started[1:] >= started[:-1])):
        order = np.argsort(started, kind="stable")
        return {column: joined[column][order] for column in columns}
    return {column: joined[column] for column in columns}


def _copy_bytes(connection: Connection, query: str, options: str) -> bytes:
    buffer = bytearray()
    with connection.cursor() as cursor, cursor.copy(f"COPY ({query}) TO STDOUT{options}") as copy:
        for chunk in copy:
            buffer += chunk
    return bytes(buffer)


def _binary_columns(
    connection: Connection, query: str, columns: Sequence[str]
) -> dict[str, Values]:
    import numpy as np

    data = _copy_bytes(connection, query, " (FORMAT BINARY)")
    if not data.startswith(_HEADER):
        raise ValueError("unexpected COPY BINARY header from PostgreSQL")
    extension = int.from_bytes(data[15:19], "big")
    body = memoryview(data)[19 + extension : len(data) - 2]  # the trailer is int16 -1
    fields_: list[tuple[str, str]] = [("count", ">i2")]
    for index, column in enumerate(columns):
        fields_ += [
            (f"length{index}", ">i4"),
            (column, ">f8" if value_kind(column) == "float" else ">i8"),
        ]
    rows = np.frombuffer(body, dtype=np.dtype(fields_))
    return {column: rows[column].astype(value_dtype(column)) for column in columns}


def _ids(connection: Connection, query: str) -> Values:
    import numpy as np

    data = _copy_bytes(connection, query, "")
    if b"\\" in data:  # text COPY escaped something: let psycopg decode each value
        texts = [row[0] for row in connection.execute(query)]
    else:
        texts = data.decode().split("\n")[:-1]
    return np.array(texts, dtype=object)


def totals(connection: Connection, filters: Filters) -> TokenUsage:
    codes = label_codes(connection, filters)
    statuses: dict[str, int] = dict(
        connection.execute(
            f"SELECT text, id FROM {SCHEMA}.labels WHERE text IN ('error', 'cancelled')"
        ).fetchall()
    )
    row = connection.execute(
        "SELECT count(*), coalesce(sum(input_tokens), 0), coalesce(sum(output_tokens), 0), "
        "coalesce(sum(cost_usd), 0), coalesce(sum(cache_read_tokens), 0), "
        "coalesce(sum(cache_write_tokens), 0), coalesce(sum(reasoning_tokens), 0), "
        "count(*) FILTER (WHERE status_label = %s), count(*) FILTER (WHERE status_label = %s), "
        "count(*) FILTER (WHERE cost_usd IS NULL AND (input_tokens > 0 OR output_tokens > 0)) "
        f"FROM {_CALLS}{where(filters, codes)}",
        (statuses.get("error", -1), statuses.get("cancelled", -1)),
    ).fetchone()
    assert row is not None
    return totals_from_sums(row)


def cost_by_model(connection: Connection, filters: Filters) -> list[tuple[str, float, int]]:
    clause = where(filters, label_codes(connection, filters))
    rows = connection.execute(
        f"SELECT m.text, coalesce(sum(c.cost_usd), 0), count(*) FROM "
        f"(SELECT * FROM {_CALLS}{clause}) c JOIN {SCHEMA}.labels m ON m.id = c.model_label "
        "GROUP BY m.text ORDER BY 2 DESC, 3 DESC"
    ).fetchall()
    return [(str(model), float(cost), int(calls)) for model, cost, calls in rows]


_RECORD_FIELDS = tuple(field.name for field in fields(UsageRecord) if field.name != "tokens")


def read_records(
    connection: Connection, filters: Filters, limit: int | None, labels: dict[int, str]
) -> list[UsageRecord]:
    """Matching rows as records, oldest first; ``limit`` keeps the newest N."""
    clause = where(filters, label_codes(connection, filters))
    newest = f"SELECT * FROM {_CALLS}{clause} ORDER BY started_at_ns DESC, seq DESC"
    if limit is not None:
        newest += f" LIMIT {int(limit)}"
    cursor = connection.execute(
        f"SELECT {', '.join(STORED_COLUMNS)} FROM ({newest}) c ORDER BY started_at_ns, seq"
    )
    records = []
    for row in cursor.fetchall():
        stored = dict(zip(STORED_COLUMNS, row, strict=True))
        values: dict[str, Any] = {
            field: labels.get(stored[f"{field}_label"] or 0) for field in LABEL_FIELDS
        }
        values["tokens"] = TokenCounts(
            input=stored["input_tokens"],
            output=stored["output_tokens"],
            cache_read=stored["cache_read_tokens"],
            cache_write=stored["cache_write_tokens"],
            reasoning=stored["reasoning_tokens"],
        )
        micros = {"latency_s": "latency_us", "time_to_first_token_s": "time_to_first_token_us"}
        for name, column in micros.items():
            values[name] = None if stored[column] is None else stored[column] / 1e6
        for name in (
            "id",
            "cost_usd",
            "cell_execution_count",
            "step",
            "saved_usd",
            "prompt_cache_saved_usd",
        ):
            values[name] = stored[name]
        values["started_at"] = from_ns(stored["started_at_ns"])
        values["finished_at"] = from_ns(stored["finished_at_ns"])
        values["priced"] = bool(stored["priced"])
        values["usage_estimated"] = bool(stored["usage_estimated"])
        records.append(
            UsageRecord(**{k: v for k, v in values.items() if k in _RECORD_FIELDS or k == "tokens"})
        )
    return records


def spend_after(
    connection: Connection, position: int, day_start_ns: int, session_id: str, user: str | None
) -> list[ProviderSpend]:
    """Spend per provider in the rows committed after ``position`` (see postgres_schema)."""
    rows = connection.execute(
        "SELECT p.text, coalesce(sum(c.cost_usd), 0), "
        "coalesce(sum(c.cost_usd) FILTER (WHERE c.started_at_ns >= %(day)s), 0), "
        "coalesce(sum(c.cost_usd) FILTER (WHERE s.text = %(session)s), 0), max(c.seq), "
        "coalesce(sum(c.cost_usd) FILTER (WHERE u.text = %(user)s), 0), "
        "coalesce(sum(c.cost_usd) FILTER (WHERE u.text = %(user)s "
        "AND c.started_at_ns >= %(day)s), 0) "
        f"FROM {_CALLS} c JOIN {SCHEMA}.labels p ON p.id = c.provider_id_label "
        f"JOIN {SCHEMA}.labels s ON s.id = c.session_id_label "
        f"LEFT JOIN {SCHEMA}.labels u ON u.id = c.user_label "
        "WHERE c.seq > %(after)s GROUP BY p.text",
        {"day": day_start_ns, "session": session_id, "user": user, "after": position},
    ).fetchall()
    return [ProviderSpend.of_row(row) for row in rows]
