"""pytest plugin: the ``llm_emulator`` fixture, a fresh running ``LLMEmulator`` per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from orchestify_nb.testing.emulator import LLMEmulator


@pytest.fixture
def llm_emulator() -> Iterator[LLMEmulator]:
    """A running emulator with an empty queue and log; stopped (thread joined) after the test."""
    with LLMEmulator() as emulator:
        yield emulator
