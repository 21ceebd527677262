"""The ipywidgets chat panel (``orchestify_nb.widgets.Panel``, ``%llm panel``)."""

from __future__ import annotations

from orchestify_nb.panel.panel import Panel

__all__ = ["Panel"]
