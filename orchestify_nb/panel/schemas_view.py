"""``Panel(schemas=[Invoice, ...])``: a chooser of the schemas a typed answer may be asked in.

The chosen one becomes the panel's ``schema`` at each Send (``(text)``: a plain answer). Each is
checked when the panel is made, so a bad one fails there, not at the first Send, and is named as
``output_schema_of`` names it (a class's name, a JSON Schema's title).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import ipywidgets as widgets

from orchestify_nb.providers.structured import OutputSchema, output_schema_of

#: The chooser's first entry: a plain text answer.
NO_SCHEMA = "(text)"


class PanelSchemas:
    """The schemas offered and the dropdown that picks one (or none)."""

    def __init__(self, schemas: Sequence[Any]) -> None:
        self.schemas: dict[str, OutputSchema] = {}
        for value in schemas:
            schema = output_schema_of(value)
            name = (
                schema.name
                if schema.name not in self.schemas
                else f"{schema.name} #{len(self.schemas) + 1}"
            )
            self.schemas[name] = schema
        self.selector = widgets.Dropdown(
            options=[NO_SCHEMA, *self.schemas], value=NO_SCHEMA, description="Schema"
        )

    def chosen(self) -> OutputSchema | None:
        """The schema picked in the dropdown, or ``None`` for a text answer."""
        return self.schemas.get(self.selector.value)
