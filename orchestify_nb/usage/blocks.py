"""Sealed blocks: every complete run of ``BLOCK_ROWS`` rows of ``calls``, also kept packed.

A DataFrame of a million calls is then built from a few hundred blobs per column with
``np.frombuffer`` (tens of milliseconds) instead of a million values passing through SQL text
(about 45 ms per column plus parsing; see ``scan.py``). A block is sealed by whoever writes its
last row (``Ledger.record``), and otherwise by the next reader (``seal_pending``): rows written by
an older version or inserted with plain SQL. The triggers in ``schema.py`` unseal a block as soon
as one of its rows changes, so a sealed block always holds exactly its rows.

A blob is one code byte naming the little-endian dtype, a CRC-32 (4 bytes, little-endian), then
the values: integers in the smallest type that holds the block's values (most columns fit in one
or two bytes), the cost as float64 (bit for bit), and ids as a JSON array (code ``j``). The CRC
covers the block's number, row count and time span, the column's name and the blob, so a block
that was edited or truncated (by hand, a tool or a bad disk) is noticed when it is read: its
rows are then read from ``calls`` and the block is sealed again from them. The CRC finds damage,
not forgery: whoever can write the file can also write the rows.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from orchestify_nb.usage.scan import concatenated, last_seq, parse, value_kind
from orchestify_nb.usage.schema import BLOCK_ROWS, CALL_COLUMNS

if TYPE_CHECKING:
    from orchestify_nb.usage.storage import Values

logger = logging.getLogger("orchestify_nb.usage")

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


class DamagedBlockError(ValueError):
    """A sealed block does not match its checksum, its row count or its format."""


@dataclass(frozen=True, slots=True)
class BlockHeader:
    """What a sealed block says about itself besides its columns; part of every blob's CRC."""

    block: int
    row_count: int
    earliest: int | None
    latest: int | None

    def crc(self, column: str, code: bytes, payload: bytes) -> int:
        span = struct.pack(
            "<qqqq", self.block, self.row_count, self.earliest or 0, self.latest or 0
        )
        return zlib.crc32(payload, zlib.crc32(span + column.encode() + code))


def _encode_integers(values: Values) -> tuple[bytes, bytes]:
    """Integers in the smallest dtype that holds all of them: (code, payload)."""
    import numpy as np

    low, high = (int(values.min()), int(values.max())) if values.size else (0, 0)
    for code in _INTEGER_CODES:
        limits = np.iinfo(_DTYPES[code])
        if limits.min <= low and high <= limits.max:
            return code, values.astype(_DTYPES[code]).tobytes()
    raise AssertionError("int64 values always fit the int64 code")


def encode(column: str, text: str | None, header: BlockHeader) -> bytes:
    """A column of a block, from its concatenated text (``scan.concatenated``), as a blob."""
    if value_kind(column) == "id":
        code, payload = b"j", (text or "[]").encode()
    elif value_kind(column) == "float":
        code, payload = b"d", parse(column, text).astype("<f8").tobytes()
    else:
        code, payload = _encode_integers(parse(column, text))
    return code + struct.pack("<I", header.crc(column, code, payload)) + payload


def decode(column: str, blob: bytes | None, header: BlockHeader) -> Values:
    """A blob back to its values (in the packed dtype; ids as an object array), after checking
    its CRC and that it holds ``header.row_count`` values; ``DamagedBlockError`` otherwise."""
    import numpy as np

    if not isinstance(blob, bytes) or len(blob) < 5:
        raise DamagedBlockError(f"the {column} blob of block {header.block} is missing or short")
    code, (stored,), payload = blob[:1], struct.unpack("<I", blob[1:5]), blob[5:]
    if code != b"j" and code not in _DTYPES:
        raise DamagedBlockError(f"the {column} blob of block {header.block} has no known format")
    if header.crc(column, code, payload) != stored:
        raise DamagedBlockError(f"the {column} blob of block {header.block} fails its checksum")
    try:
        if code == b"j":
            values = np.array(json.loads(payload.decode()), dtype=object)
        else:
            values = np.frombuffer(payload, dtype=_DTYPES[code])
    except ValueError as error:  # json and utf-8 errors are ValueErrors too
        raise DamagedBlockError(f"the {column} blob of block {header.block}: {error}") from None
    if values.shape != (header.row_count,):
        raise DamagedBlockError(
            f"the {column} blob of block {header.block} holds {values.size} values, "
            f"not its {header.row_count} rows"
        )
    return values


def seal(connection: sqlite3.Connection, blocks: Sequence[int]) -> None:
    """Seal ``blocks`` from their rows in one write transaction (replacing any sealed copy).

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
            header = BlockHeader(block, int(started.size), *span)
            blobs = [
                encode(column, text, header)
                for column, text in zip(CALL_COLUMNS, texts, strict=True)
            ]
            connection.execute(_INSERT_SQL, (block, header.row_count, *span, *blobs))
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


@dataclass(slots=True)
class SealedRead:
    """What ``read_sealed`` found: ``(first seq, arrays)`` pieces; the blocks whose rows need
    no other read (read, empty, or wholly outside the window); the damaged blocks."""

    pieces: list[tuple[int, dict[str, Values]]]
    covered: set[int]
    damaged: list[int]


def read_sealed(
    connection: sqlite3.Connection,
    columns: Sequence[str],
    since_ns: int | None = None,
    until_ns: int | None = None,
) -> SealedRead:
    """The sealed blocks that may hold rows started in ``[since_ns, until_ns)``, each checked;
    the caller reads every row outside ``covered`` from ``calls`` (damaged blocks included)."""
    selected = ", ".join(["block", "row_count", "min_started_at_ns", "max_started_at_ns", *columns])
    found = SealedRead([], set(), [])
    for block, row_count, earliest, latest, *blobs in connection.execute(
        f"SELECT {selected} FROM sealed_blocks"
    ):
        header = BlockHeader(block, row_count, earliest, latest)
        try:  # checked even when skipped: the time span in the header decides the skipping
            values = {
                column: decode(column, blob, header)
                for column, blob in zip(columns, blobs, strict=True)
            }
            if not 0 <= row_count <= BLOCK_ROWS:
                raise DamagedBlockError(f"block {block} claims {row_count} rows")
        except (DamagedBlockError, struct.error, TypeError) as error:
            logger.warning("ledger block %d is damaged (%s); reading its rows", block, error)
            found.damaged.append(block)
            continue
        found.covered.add(block)
        if not row_count:
            continue
        if (since_ns is not None and latest < since_ns) or (
            until_ns is not None and earliest >= until_ns
        ):
            continue
        found.pieces.append((block * BLOCK_ROWS, values))
    return found


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
