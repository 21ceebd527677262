"""Build typed DataFrame columns from the ledger, fast enough for millions of rows.

The storage hands over whole stored columns as numpy arrays (``storage.LedgerStorage.
read_columns``); this module turns them into the frame's dtypes. Label columns arrive as integer
codes, so categoricals are built without hashing strings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from orchestify_nb.usage.storage import (
    LABEL_FIELDS,
    NULL_INTEGER,
    TOKEN_FIELDS,
    Filters,
    LedgerStorage,
)

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pandas as pd

    from orchestify_nb.usage.storage import Values

Kind = Literal["text", "time", "int", "nullable_int", "float", "micros", "bool", "label"]


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
        Column("usage_estimated", "bool", "usage_estimated"),
        Column("latency_s", "micros", "latency_us"),
        Column("time_to_first_token_s", "micros", "time_to_first_token_us"),
        Column("cell_execution_count", "nullable_int", "cell_execution_count"),
        Column("step", "nullable_int", "step"),
        Column("saved_usd", "float", "saved_usd"),
        Column("prompt_cache_saved_usd", "float", "prompt_cache_saved_usd"),
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
    "mode",
    "input_tokens",
    "output_tokens",
    "cache_write_tokens",
    "cache_read_tokens",
    "reasoning_tokens",
    "cost_usd",
    "saved_usd",
    "prompt_cache_saved_usd",
    "priced",
    "usage_estimated",
    "price_source",
    "latency_s",
    "time_to_first_token_s",
    "finish_reason",
    "error_type",
    "agent",
    "tag",
    "notebook_path",
    "cell_execution_count",
    "run_id",
    "step",
    "batch_job_id",
    "user",
    "project",
)


def read_frame(
    store: LedgerStorage, filters: Filters, names: Sequence[str], *, ordered: bool = True
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
    values = store.read_columns(filters, list(dict.fromkeys(c.source for c in columns)))
    labels = store.labels() if any(column.kind == "label" for column in columns) else {}
    data = {column.name: _convert(column, values[column.source], labels) for column in columns}
    frame = pd.DataFrame(data, columns=[column.name for column in columns])
    if ordered and not frame["started_at"].is_monotonic_increasing:
        frame = frame.sort_values("started_at", kind="stable", ignore_index=True)
    return frame[list(names)]


def _convert(column: Column, values: Values, labels: dict[int, str]) -> Any:
    """One column's array (see ``scan.py``) as a Series or array of the column's dtype."""
    import numpy as np
    import pandas as pd

    kind = column.kind
    if kind == "text":
        return pd.Series(values, dtype="str")
    if kind == "float":
        return pd.Series(values, dtype="float64")
    if kind == "time":
        return pd.Series(values.view("datetime64[ns]")).dt.tz_localize("UTC")
    if kind == "int":
        return pd.arrays.IntegerArray(values, np.zeros(values.shape, dtype=bool))
    if kind == "bool":
        return pd.Series(values.astype(bool))
    if kind == "nullable_int":
        return pd.arrays.IntegerArray(values, values == NULL_INTEGER)
    if kind == "micros":
        seconds = values / 1e6
        seconds[values == NULL_INTEGER] = np.nan
        return pd.Series(seconds, dtype="float64")
    return _categorical(values, labels)


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
