"""The widget panel: ``Panel(registry=None)``, a chat workbench over every configured provider.

The implementation lives in ``orchestify_nb.panel``; this module is the public name the package
exports and ``%llm panel`` imports.
"""

from __future__ import annotations

from orchestify_nb.panel import Panel

__all__ = ["Panel"]
