"""Registry tests build real providers; the ``llm_emulator`` fixture serves their calls."""

from __future__ import annotations

from orchestify_nb.testing.pytest_plugin import llm_emulator

__all__ = ["llm_emulator"]
