"""Real SDK clients pointed at the emulator; the ``llm_emulator`` fixture comes from the plugin.

Importing the fixture works whether or not the pytest11 entry point is installed yet.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import anthropic
import openai
import pytest

from orchestify_nb.testing import LLMEmulator
from orchestify_nb.testing.pytest_plugin import llm_emulator

__all__ = ["claude", "gpt", "llm_emulator"]


@pytest.fixture
async def claude(llm_emulator: LLMEmulator) -> AsyncIterator[anthropic.AsyncAnthropic]:
    """The real async Anthropic SDK, SDK retries off so every fault reaches the test."""
    async with anthropic.AsyncAnthropic(
        base_url=llm_emulator.base_url, api_key="test-key", max_retries=0
    ) as client:
        yield client


@pytest.fixture
async def gpt(llm_emulator: LLMEmulator) -> AsyncIterator[openai.AsyncOpenAI]:
    """The real async OpenAI SDK, SDK retries off so every fault reaches the test."""
    async with openai.AsyncOpenAI(
        base_url=llm_emulator.openai_base_url, api_key="test-key", max_retries=0
    ) as client:
        yield client
