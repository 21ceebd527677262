"""The emulator's own tests use its fixture; importing it works before the pytest11 entry point."""

from __future__ import annotations

from orchestify_nb.testing.pytest_plugin import llm_emulator

__all__ = ["llm_emulator"]
