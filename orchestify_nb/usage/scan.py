"""Read whole columns of ``calls`` through SQL, for rows that are not (yet) in a sealed block.

Fetching rows through the ``sqlite3`` cursor builds a Python object per cell (seconds for a
million calls). Instead, one query per range of rows asks SQLite to concatenate each column into
a single text value, and numpy parses it in C. Costs are printed with 17 significant digits, so
every float comes back bit for bit; ids travel as a JSON array, so any text survives.

Every column comes back as one numpy array (``value_dtype``): ids as objects, money as float64
with NaN for NULL, everything else as int64 with NULL as 0 for a label code (codes start at 1)
and as ``NULL_INTEGER`` otherwise. Sealed blocks store the same arrays, so both paths agree.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

from orchestify_nb.usage.storage import FLOAT_COLUMNS, NULL_INTEGER

if TYPE_CHECKING:
    import numpy as np

    from orchestify_nb.usage.storage import Values
#: Rows per query: bounds the size of the concatenated text (about 20 bytes per value).
CHUNK_ROWS = 2_000_000

ValueKind = Literal["id", "float", "label", "integer"]


def value_kind(column: str) -> ValueKind:
    """How a column of ``calls`` is carried: the id as text, money as floats, label codes
    (NULL is 0) and other integers (NULL is ``NULL_INTEGER``)."""
    if column == "id":
        return "id"
    if column in FLOAT_COLUMNS:
        return "float"
    return "label" if column.endswith("_label") else "integer"


def value_dtype(column: str) -> np.dtype[Any]:
    import numpy as np

    kind = value_kind(column)
    return np.dtype(object if kind == "id" else np.float64 if kind == "float" else np.int64)


def _aggregate(column: str) -> str:
    kind = value_kind(column)
    if kind == "id":
        return f"json_group_array({column})"
    if kind == "float":
        return (
            f"group_concat(CASE WHEN {column} IS NULL THEN 'nan' "
            f"ELSE printf('%!.17g', {column}) END, ',')"
        )
    null = 0 if kind == "label" else NULL_INTEGER
    return f"group_concat(ifnull({column}, {null}), ',')"


def last_seq(connection: sqlite3.Connection) -> int:
    """The newest row's ``seq`` (0 when there are none)."""
    return int(connection.execute("SELECT ifnull(max(seq), 0) FROM calls").fetchone()[0])


def concatenated(
    connection: sqlite3.Connection, columns: Sequence[str], after_seq: int, last_seq: int
) -> list[str | None]:
    """Each column of the rows with ``after_seq < seq <= last_seq`` as one text, in ``seq``
    order (``None`` when there are no rows; the id column is then ``"[]"``)."""
    select = ", ".join(_aggregate(column) for column in columns)
    row = connection.execute(
        f"SELECT {select} FROM calls WHERE seq > ? AND seq <= ?", (after_seq, last_seq)
    ).fetchone()
    return list(row)


def parse(column: str, text: str | None) -> Values:
    """A column's concatenated text (from ``concatenated``) as its array."""
    import numpy as np

    if value_kind(column) == "id":
        return np.array(json.loads(text or "[]"), dtype=object)
    dtype = value_dtype(column)
    if not text:
        return np.empty(0, dtype=dtype)
    return np.fromstring(text, sep=",", dtype=dtype)


def read_rows(
    connection: sqlite3.Connection, columns: Sequence[str], after_seq: int, last_seq: int
) -> list[tuple[int, dict[str, Values]]]:
    """The rows with ``after_seq < seq <= last_seq``, as ``(first seq, arrays)`` pieces."""
    pieces = []
    for start in range(after_seq, last_seq, CHUNK_ROWS):
        end = min(start + CHUNK_ROWS, last_seq)
        texts = concatenated(connection, columns, start, end)
        values = {column: parse(column, text) for column, text in zip(columns, texts, strict=True)}
        pieces.append((start, values))
    return pieces
