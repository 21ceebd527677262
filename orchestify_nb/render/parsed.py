"""A typed answer (``resp.parsed``) as a table: field and value for one object, a row per item
for a list, the value itself for a scalar such as a ``Literal`` label.

Every value came from the model: each is HTML-escaped; the table around them is ours.
"""

from __future__ import annotations

import dataclasses
import html
import json
from typing import Any


def as_plain_data(value: Any) -> Any:
    """Pydantic models and dataclasses as dicts (recursively), anything else as it is."""
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return dump(mode="json")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, list | tuple):
        return [as_plain_data(item) for item in value]
    return value


def _cell(value: Any) -> str:
    shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return f"<td>{html.escape(shown)}</td>"


def parsed_html(parsed: Any) -> str:
    """The table of a parsed answer (escaped)."""
    data = as_plain_data(parsed)
    if isinstance(data, dict):
        rows = "".join(
            f"<tr><th>{html.escape(str(key))}</th>{_cell(value)}</tr>"
            for key, value in data.items()
        )
        head = "<thead><tr><th>field</th><th>value</th></tr></thead>"
        return f'<table class="onb-parsed">{head}<tbody>{rows}</tbody></table>'
    if isinstance(data, list) and data and all(isinstance(item, dict) for item in data):
        columns = list(dict.fromkeys(key for item in data for key in item))
        head = "".join(f"<th>{html.escape(str(column))}</th>" for column in columns)
        body = "".join(
            "<tr>" + "".join(_cell(item.get(column, "")) for column in columns) + "</tr>"
            for item in data
        )
        return (
            f'<table class="onb-parsed"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
        )
    return f'<table class="onb-parsed"><tbody><tr>{_cell(data)}</tr></tbody></table>'


def parsed_bundle(parsed: Any, note: str) -> dict[str, Any]:
    """The MIME bundle of a typed answer: the table and the footer, its repr, and its JSON."""
    data = as_plain_data(parsed)
    footer = f"<p><sub>{html.escape(note)}</sub></p>" if note else ""
    return {
        "text/plain": f"{parsed!r}\n\n[{note}]" if note else repr(parsed),
        "text/html": parsed_html(parsed) + footer,
        "application/json": data if isinstance(data, dict | list) else {"value": data},
    }


def growing_bundle(text: str, wrapped: bool) -> dict[str, Any] | None:
    """The object a JSON answer describes so far (parsed leniently: an unfinished string or
    object is kept as far as it goes), or ``None`` while nothing of it can be read yet."""
    from pydantic_core import from_json

    try:
        partial = from_json(text, allow_partial="trailing-strings")
    except ValueError:
        return None
    if wrapped and isinstance(partial, dict):  # a non-object type, asked for as {"value": ...}
        partial = partial.get("value", "")
    note = "streaming…"
    return {
        "text/plain": f"{text}\n[{note}]",
        "text/html": parsed_html(partial) + f"<p><sub>{note}</sub></p>",
    }
