"""``df.llm.extract``'s columns: one per field of the schema, with the dtype its type implies.

int → ``Int64``, float → ``float64``, bool → ``boolean``, str → ``string``, datetime →
``datetime64[ns, UTC]``, ``Literal``/``Enum`` → ``category`` (its values as the categories),
anything nested (a model, a list, a dict) → ``object``; ``Optional[X]`` is X's dtype with
missing values. A schema that is not an object (``Literal["pos", "neg"]``, ``int``) fills the
one ``out`` column. Rows that failed keep missing values here and their error in ``<out>_error``.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from orchestify_nb.render.parsed import as_plain_data

if TYPE_CHECKING:
    import pandas as pd

    from orchestify_nb.batch.result import BatchResult

_SCALAR_DTYPES: dict[type, str] = {
    bool: "boolean",  # before int: bool is an int
    int: "Int64",
    float: "float64",
    str: "string",
    datetime: "datetime64[ns, UTC]",
    date: "datetime64[ns]",
}


def field_types(schema: Any) -> dict[str, Any] | None:
    """The schema's fields and their types (a pydantic model, dataclass or TypedDict), or
    ``None`` for a schema that is not an object type."""
    fields = getattr(schema, "model_fields", None)
    if isinstance(fields, dict):
        return {name: info.annotation for name, info in fields.items()}
    if dataclasses.is_dataclass(schema) and isinstance(schema, type):
        return typing.get_type_hints(schema)
    if typing.is_typeddict(schema):
        return typing.get_type_hints(schema)
    return None


def dtype_of(annotation: Any) -> tuple[str, list[Any] | None]:
    """The pandas dtype for a field's type, and the categories when it is a category."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        kept = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        return dtype_of(kept[0]) if len(kept) == 1 else ("object", None)
    if origin is typing.Literal:
        return "category", list(typing.get_args(annotation))
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return "category", [member.value for member in annotation]
    for kind, dtype in _SCALAR_DTYPES.items():
        if annotation is kind:
            return dtype, None
    return "object", None


def typed_column(values: list[Any], annotation: Any, index: pd.Index) -> pd.Series:
    """``values`` (``None`` where missing) as a Series of the dtype ``annotation`` implies."""
    import pandas as pd

    dtype, categories = dtype_of(annotation)
    if categories is not None:
        plain = [value.value if isinstance(value, enum.Enum) else value for value in values]
        return pd.Series(pd.Categorical(plain, categories=categories), index=index)
    if dtype.startswith("datetime64"):
        return pd.Series(pd.to_datetime(values, utc="UTC" in dtype), index=index).astype(dtype)
    if dtype == "object":
        return pd.Series([as_plain_data(value) for value in values], index=index, dtype=object)
    return pd.Series(values, index=index, dtype=dtype)


def write_typed_columns(
    frame: pd.DataFrame, schema: Any, out: str, positions: list[int], result: BatchResult
) -> None:
    """Fill the schema's columns at ``positions`` from the rows' ``parsed`` answers; rows not
    at ``positions`` keep the values they had (a resumed run fills only its rows)."""
    parsed = [
        row.response.parsed if row.status == "ok" and row.response is not None else None
        for row in result.rows
    ]
    write_parsed_columns(frame, schema, out, positions, parsed)


def write_parsed_columns(
    frame: pd.DataFrame, schema: Any, out: str, positions: list[int], parsed: list[Any]
) -> None:
    """Fill the schema's columns at ``positions`` from answers already parsed as ``schema``
    (``None`` where a row has none): realtime rows and collected batch jobs alike."""
    fields = field_types(schema)
    if fields is None:
        columns = {out: (parsed, schema)}
    else:
        columns = {
            name: ([getattr(p, name, None) if p is not None else None for p in parsed], kind)
            if not typing.is_typeddict(schema)
            else ([p.get(name) if p is not None else None for p in parsed], kind)
            for name, kind in fields.items()
        }
    for column, (values, annotation) in columns.items():
        merged: list[Any] = (
            list(frame[column].astype(object).where(frame[column].notna(), None))
            if column in frame.columns
            else [None] * len(frame)
        )
        for position, value in zip(positions, values, strict=True):
            merged[position] = value
        frame[column] = typed_column(merged, annotation, frame.index)
