"""Sealed blocks of the team ledger: complete ranges of rows kept packed, column by column.

Reading a million rows by COPY costs ~1.5 s even in binary (the server formats, and libpq
hands over, one message per row). So, as the SQLite ledger does, every complete block of
``BLOCK_SEQS`` consecutive ``seq`` numbers is also stored packed: one ``bytea`` per column
(little-endian int64/float64 of the same arrays ``read_columns`` returns; ids joined by
newlines, which ``clean_label`` never lets into an id). A frame of a million rows is then a
few hundred large values, read at network speed.

A block is complete once a row with a higher ``seq`` is committed: writers insert under one
lock, so no later commit can land in it (``postgres_schema``). The writer whose rows complete
a block seals it (one COPY of its rows, on the writer thread); a reader that still finds a
complete block unsealed (rows loaded in bulk, a block dropped by a trigger) seals it first.
Triggers drop a block's copy when any of its rows is inserted, updated or deleted by anyone,
so the copy never disagrees with the rows. Reads with label filters go to SQL
(``postgres_reads``): they are selective, and that is where the filter belongs; time windows
skip blocks outside them and are applied in numpy.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from orchestify_nb.usage.postgres_schema import BLOCK_SEQS, SCHEMA
from orchestify_nb.usage.scan import value_dtype
from orchestify_nb.usage.storage import STORED_COLUMNS, Filters

if TYPE_CHECKING:
    import psycopg

    from orchestify_nb.usage.storage import Values

    Connection = psycopg.Connection[Any]

#: What a block packs: every stored column.
_PACKED = tuple(STORED_COLUMNS)


def sealed(connection: Connection, filters: Filters) -> tuple[list[int], list[int]]:
    """Every sealed block, and those that may hold rows in the filters' time window."""
    rows = connection.execute(
        f"SELECT block, min_started_ns, max_started_ns FROM {SCHEMA}.blocks ORDER BY block"
    ).fetchall()
    since = filters.since_ns if filters.since_ns is not None else -(2**63)
    until = filters.until_ns if filters.until_ns is not None else 2**63 - 1
    wanted = [int(block) for block, low, high in rows if high >= since and low < until]
    return [int(row[0]) for row in rows], wanted


def unsealed_clause(blocks: Sequence[int]) -> str:
    """A condition on ``seq`` for the rows outside the sealed ``blocks`` (ints only, so it
    also works inside ``COPY``)."""
    covered = set(blocks)
    end = max(covered) + 1 if covered else 0
    ranges = [f"seq > {end * BLOCK_SEQS}"] + [
        f"(seq > {block * BLOCK_SEQS} AND seq <= {(block + 1) * BLOCK_SEQS})"
        for block in range(end)
        if block not in covered
    ]
    return "(" + " OR ".join(ranges) + ")"


def complete_unsealed(connection: Connection) -> list[int]:
    """Blocks every row of which is committed that have no sealed copy."""
    row = connection.execute(f"SELECT coalesce(max(seq), 0) FROM {SCHEMA}.calls").fetchone()
    complete = (int(row[0]) if row else 0) // BLOCK_SEQS  # blocks 0 .. complete-1
    if complete == 0:
        return []
    found = connection.execute(
        "SELECT b FROM generate_series(0, %s) AS b "
        f"WHERE NOT EXISTS (SELECT 1 FROM {SCHEMA}.blocks WHERE block = b) "
        f"AND EXISTS (SELECT 1 FROM {SCHEMA}.calls WHERE seq > b * {BLOCK_SEQS} "
        f"AND seq <= (b + 1) * {BLOCK_SEQS})",
        (complete - 1,),
    ).fetchall()
    return [int(row[0]) for row in found]


def seal(connection: Connection, block: int, values: dict[str, Values]) -> None:
    """Store ``values`` (every stored column of the block's rows, in ``seq`` order) packed."""
    import numpy as np

    started = values["started_at_ns"]
    with connection.transaction():
        inserted = connection.execute(
            f"INSERT INTO {SCHEMA}.blocks VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING",
            (block, len(started), int(started.min()), int(started.max())),
        )
        if not inserted.rowcount:
            return  # another reader sealed it meanwhile
        with connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {SCHEMA}.block_columns VALUES (%s, %s, %s)",
                [(block, name, _pack(values[name], np)) for name in _PACKED],
            )


def _pack(array: Values, np: Any) -> bytes:
    if array.dtype == object:
        return "\n".join(array.tolist()).encode()
    return bytes(np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<")).tobytes())


def read(
    connection: Connection, blocks: Sequence[int], columns: Sequence[str]
) -> list[dict[str, Values]]:
    """The ``columns`` of ``blocks``, one dict of arrays per block, in block order."""
    import numpy as np

    if not blocks:
        return []
    found: dict[int, dict[str, Values]] = {block: {} for block in blocks}
    with connection.cursor(binary=True) as cursor:
        cursor.execute(
            f"SELECT block, name, data FROM {SCHEMA}.block_columns "
            "WHERE block = ANY(%s) AND name = ANY(%s)",
            (list(blocks), list(columns)),
        )
        for block, name, data in cursor:
            if name == "id":
                text = bytes(data).decode()
                found[block][name] = np.array(text.split("\n") if text else [], dtype=object)
            else:
                dtype = value_dtype(name).newbyteorder("<")
                found[block][name] = np.frombuffer(data, dtype=dtype).astype(value_dtype(name))
    return [found[block] for block in blocks]
