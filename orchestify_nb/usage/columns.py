"""Read ledger columns out of SQLite fast enough for millions of rows.

Fetching rows through the ``sqlite3`` cursor builds a Python object per cell (seconds for a
million calls). Instead, one scan per chunk asks SQLite to ``group_concat`` each column into a
single text value, and numpy parses those in C. Label columns arrive as their integer codes, so
categoricals are built without hashing strings; costs are printed with 17 significant digits, so
every float comes back bit for bit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from orchestify_nb.usage.schema import LABEL_FIELDS, TOKEN_FIELDS
from orchestify_nb.usage.store import Filters, LedgerStore

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pandas as pd

Kind = Literal["text", "time", "int", "nullable_int", "float", "micros", "bool", "label"]

#: Stands for NULL in integer columns (no real count, timestamp or id is this negative).
_NULL_INT = -(2**62)
#: Rows per scan: bounds the size of the concatenated text (about 20 bytes per value).
CHUNK_ROWS = 2_000_000


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    kind: Kind
    source: str


def _columns() -> dict[str, Column]:
    specs = [
        Column("id", "text", "id"),
        Column("started_at", "time", "started_at_ns"),
        Column("finished_at", "time", "finished_at_ns"),
        *(Column(field, "label", f"{field}_label") for field in LABEL_FIELDS),
        *(Column(name, "int", name) for name in TOKEN_FIELDS),
        Column("cost_usd", "float", "cost_usd"),
        Column("priced", "bool", "priced"),
        Column("latency_s", "micros", "latency_us"),
        Column("time_to_first_token_s", "micros", "time_to_first_token_us"),
        Column("cell_execution_count", "nullable_int", "cell_execution_count"),
    ]
    return {column.name: column for column in specs}


#: Every DataFrame column, in UsageRecord's vocabulary.
COLUMNS: dict[str, Column] = _columns()

#: The frame's column order: when, who, what, how much, how long.
COLUMN_ORDER: tuple[str, ...] = (
    "id",
    "started_at",
    "finished_at",
    "session_id",
    "provider_id",
    "provider_type",
    "model_requested",
    "model",
    "status",
    "input_tokens",
    "output_tokens",
    "cache_write_tokens",
    "cache_read_tokens",
    "reasoning_tokens",
    "cost_usd",
    "priced",
    "price_source",
    "latency_s",
    "time_to_first_token_s",
    "finish_reason",
    "error_type",
    "agent",
    "tag",
    "notebook_path",
    "cell_execution_count",
)


def _aggregate(column: Column) -> str:
    source = column.source
    if column.kind == "text":
        return f"group_concat({source}, ',')"
    if column.kind == "float":
        return (
            f"group_concat(CASE WHEN {source} IS NULL THEN 'nan' "
            f"ELSE printf('%!.17g', {source}) END, ',')"
        )
    if column.kind == "label":
        return f"group_concat(ifnull({source}, 0), ',')"
    if column.kind in ("nullable_int", "micros"):
        return f"group_concat(ifnull({source}, {_NULL_INT}), ',')"
    return f"group_concat({source}, ',')"


def read_frame(
    store: LedgerStore, filters: Filters, names: Sequence[str], *, ordered: bool = True
) -> pd.DataFrame:
    """The named columns of the rows matching ``filters`` as a typed DataFrame: oldest first
    when ``ordered`` (aggregations skip reading and sorting by ``started_at``)."""
    import pandas as pd

    unknown = [name for name in names if name not in COLUMNS]
    if unknown:
        raise ValueError(f"no ledger column {unknown[0]!r}; choose from: {', '.join(COLUMN_ORDER)}")
    columns = [COLUMNS[name] for name in names]
    if ordered and "started_at" not in names:
        columns.append(COLUMNS["started_at"])
    select = ", ".join(_aggregate(column) for column in columns)
    parts: list[list[str]] = [[] for _ in columns]
    with store.snapshot() as connection:
        where, params = store.where(filters)
        last_rowid = int(
            connection.execute("SELECT ifnull(max(rowid), 0) FROM calls").fetchone()[0]
        )
        labels = dict(connection.execute("SELECT id, text FROM labels").fetchall())
        window = "rowid > ? AND rowid <= ?"
        where = f"{where} AND {window}" if where else f" WHERE {window}"
        for start in range(0, last_rowid, CHUNK_ROWS):
            row = connection.execute(
                f"SELECT {select} FROM calls{where}", [*params, start, start + CHUNK_ROWS]
            ).fetchone()
            for values, text in zip(parts, row, strict=True):
                if text is not None:
                    values.append(text)
    data = {
        column.name: _convert(column, ",".join(texts), labels)
        for column, texts in zip(columns, parts, strict=True)
    }
    frame = pd.DataFrame(data, columns=[c.name for c in columns])
    if ordered and not frame["started_at"].is_monotonic_increasing:
        frame = frame.sort_values("started_at", kind="stable", ignore_index=True)
    return frame[list(names)]


def _numbers(text: str, dtype: type[np.generic]) -> npt.NDArray[Any]:
    import numpy as np

    if not text:
        return np.empty(0, dtype=dtype)
    return np.fromstring(text, sep=",", dtype=dtype)


def _convert(column: Column, text: str, labels: dict[int, str]) -> Any:
    """One column's concatenated text as a Series or array of the column's dtype."""
    import numpy as np
    import pandas as pd

    kind = column.kind
    if kind == "text":
        return pd.Series(text.split(",") if text else [], dtype="str")
    if kind == "float":
        return pd.Series(_numbers(text, np.float64), dtype="float64")
    ints = _numbers(text, np.int64)
    if kind == "time":
        return pd.Series(ints.view("datetime64[ns]")).dt.tz_localize("UTC")
    if kind == "int":
        return pd.array(ints, dtype="Int64")
    if kind == "bool":
        return pd.Series(ints.astype(bool))
    if kind == "nullable_int":
        return pd.arrays.IntegerArray(ints, ints == _NULL_INT)
    if kind == "micros":
        seconds = ints / 1e6
        seconds[ints == _NULL_INT] = np.nan
        return pd.Series(seconds, dtype="float64")
    return _categorical(ints, labels)


def _categorical(codes: npt.NDArray[np.int64], labels: dict[int, str]) -> pd.Categorical:
    """Label codes to a categorical whose categories are the labels present, sorted by text."""
    import numpy as np
    import pandas as pd

    present = np.flatnonzero(np.bincount(codes)) if codes.size else np.empty(0, dtype=np.int64)
    present = present[present != 0]
    ordered = sorted(present.tolist(), key=lambda code: labels[code])
    lookup = np.full(int(codes.max(initial=0)) + 1, -1, dtype=np.int64)
    lookup[ordered] = np.arange(len(ordered))
    return pd.Categorical.from_codes(lookup[codes], categories=[labels[c] for c in ordered])
