"""Sealed blocks: every complete run of ``BLOCK_ROWS`` rows of ``calls``, also kept packed.

A DataFrame of a million calls is then built from a few hundred blobs per column with
``np.frombuffer`` (tens of milliseconds) instead of a million values passing through SQL text
(about 45 ms per column plus parsing; see ``scan.py``). A block is sealed by whoever writes its
last row (``Ledger.record``), and otherwise by the next reader (``seal_pending``): rows written by
an older version or inserted with plain SQL. The triggers in ``schema.py`` unseal a block as soon
as one of its rows changes, so a sealed block always holds exactly its rows.

A blob is one code byte naming the little-endian dtype, then the values: integers in the
smallest type that holds the block's values (most columns fit in one or two bytes), the cost as
float64 (bit for bit), and ids as a JSON array (code ``j``).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from orchestify_nb.usage.scan import concatenated, last_seq, parse, value_kind
from orchestify_nb.usage.schema import BLOCK_ROWS, CALL_COLUMNS

if TYPE_CHECKING:
    from orchestify_nb.usage.scan import Values

#: Code byte -> dtype of the values that follow it (``j``: a JSON array of ids).
_DTYPES: dict[bytes, str] = {
    b"B": "<u1",
    b"b": "<i1",
    b"H": "<u2",
    b"h": "<i2",
    b"I": "<u4",
    b"i": "<i4",
    b"q": "<i8",
    b"d": "<f8",
}
#: Integer codes, smallest first.
_INTEGER_CODES = (b"B", b"b", b"H", b"h", b"I", b"i", b"q")
#: Blocks sealed per write transaction when catching up, so other writers wait at most ~0.1 s.
SEAL_BATCH = 16

_INSERT_SQL = (
    "INSERT OR REPLACE INTO sealed_blocks (block, row_count, min_started_at_ns, "
    f"max_started_at_ns, {', '.join(CALL_COLUMNS)}) "
    f"VALUES (?, ?, ?, ?, {', '.join('?' for _ in CALL_COLUMNS)})"
)


def _encode_integers(values: Values) -> bytes:
    """Integers in the smallest dtype that holds all of them."""
    import numpy as np

    low, high = (int(values.min()), int(values.max())) if values.size else (0, 0)
    for code in _INTEGER_CODES:
        limits = np.iinfo(_DTYPES[code])
        if limits.min <= low and high <= limits.max:
            return code + values.astype(_DTYPES[code]).tobytes()
    raise AssertionError("int64 values always fit the int64 code")


def encode(column: str, text: str | None) -> bytes:
    """A column of a block, from its concatenated text (``scan.concatenated``), as a blob."""
    if value_kind(column) == "id":
        return b"j" + (text or "[]").encode()
    values = parse(column, text)
    if value_kind(column) == "float":
        return b"d" + values.astype("<f8").tobytes()
    return _encode_integers(values)


def decode(blob: bytes) -> Values:
    """A blob back to its values (in the packed dtype; ids as an object array)."""
    import numpy as np

    code = blob[:1]
    if code == b"j":
        return np.array(json.loads(blob[1:].decode()), dtype=object)
    return np.frombuffer(blob, dtype=_DTYPES[code], offset=1)


def seal(connection: sqlite3.Connection, blocks: Sequence[int]) -> None:
    """Seal ``blocks`` from their rows in one write transaction.

    The caller holds the store's lock; ``connection`` must be in autocommit mode.
    """
    if not blocks:
        return
    started_index = CALL_COLUMNS.index("started_at_ns")
    connection.execute("BEGIN IMMEDIATE")
    try:
        for block in blocks:
            after = block * BLOCK_ROWS
            texts = concatenated(connection, CALL_COLUMNS, after, after + BLOCK_ROWS)
            started = parse("started_at_ns", texts[started_index])
            span = (int(started.min()), int(started.max())) if started.size else (None, None)
            blobs = [encode(column, text) for column, text in zip(CALL_COLUMNS, texts, strict=True)]
            connection.execute(_INSERT_SQL, (block, int(started.size), *span, *blobs))
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise


def pending(connection: sqlite3.Connection) -> list[int]:
    """Complete blocks (their last ``seq`` is taken) that are not sealed."""
    sealed = {int(row[0]) for row in connection.execute("SELECT block FROM sealed_blocks")}
    return [block for block in range(last_seq(connection) // BLOCK_ROWS) if block not in sealed]


def seal_pending(connection: sqlite3.Connection) -> None:
    """Seal every complete block that is not sealed, ``SEAL_BATCH`` blocks per transaction."""
    blocks = pending(connection)
    for start in range(0, len(blocks), SEAL_BATCH):
        seal(connection, blocks[start : start + SEAL_BATCH])


def read_sealed(
    connection: sqlite3.Connection,
    columns: Sequence[str],
    since_ns: int | None = None,
    until_ns: int | None = None,
) -> tuple[list[tuple[int, dict[str, Values]]], set[int]]:
    """The sealed blocks that may hold rows started in ``[since_ns, until_ns)``, as
    ``(first seq, arrays)`` pieces, and the numbers of all sealed blocks (read, empty, or
    wholly outside the window): the caller reads every other row from ``calls``."""
    selected = ", ".join(["block", "row_count", "min_started_at_ns", "max_started_at_ns", *columns])
    pieces: list[tuple[int, dict[str, Any]]] = []
    covered: set[int] = set()
    for block, row_count, earliest, latest, *blobs in connection.execute(
        f"SELECT {selected} FROM sealed_blocks"
    ):
        covered.add(block)
        if not row_count:
            continue
        if (since_ns is not None and latest < since_ns) or (
            until_ns is not None and earliest >= until_ns
        ):
            continue
        values = {column: decode(blob) for column, blob in zip(columns, blobs, strict=True)}
        pieces.append((block * BLOCK_ROWS, values))
    return pieces, covered


def unsealed_ranges(covered: set[int], last_seq: int) -> list[tuple[int, int]]:
    """``(after_seq, last_seq)`` ranges of the rows outside ``covered`` blocks, merged."""
    ranges: list[tuple[int, int]] = []
    for block in range(-(-last_seq // BLOCK_ROWS)):
        if block in covered:
            continue
        after, last = block * BLOCK_ROWS, min((block + 1) * BLOCK_ROWS, last_seq)
        if ranges and ranges[-1][1] == after:
            ranges[-1] = (ranges[-1][0], last)
        else:
            ranges.append((after, last))
    return ranges
