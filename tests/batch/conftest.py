"""Fixtures for batch tests: providers pointed at the loopback emulator, and request helpers."""

from __future__ import annotations

import asyncio
import signal
import threading
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from orchestify_nb.providers.claude import ClaudeProvider
from orchestify_nb.providers.openai_provider import OpenAIProvider
from orchestify_nb.testing import LLMEmulator, RecordedRequest
from orchestify_nb.testing.pytest_plugin import llm_emulator  # noqa: F401 (the fixture)

CLAUDE_MODEL = "claude-sonnet-4-6"


def make_claude(emulator: LLMEmulator, **kwargs: Any) -> ClaudeProvider:
    """A real ClaudeProvider (anthropic SDK over HTTP) talking to ``emulator``."""
    settings: dict[str, Any] = {
        "provider_id": "claude_test",
        "api_key": "sk-ant-test-key",
        "base_url": emulator.base_url,
        "default_model": CLAUDE_MODEL,
    }
    return ClaudeProvider(**{**settings, **kwargs})


@pytest.fixture
async def openai(llm_emulator: LLMEmulator) -> AsyncIterator[OpenAIProvider]:  # noqa: F811
    provider = OpenAIProvider(
        provider_id="openai_test",
        api_key="sk-openai-test-key",
        base_url=llm_emulator.openai_base_url,
        default_model="gpt-4o",
    )
    yield provider
    await provider.aclose()


@pytest.fixture
async def claude(llm_emulator: LLMEmulator) -> AsyncIterator[ClaudeProvider]:  # noqa: F811
    provider = make_claude(llm_emulator)
    yield provider
    await provider.aclose()


def sent_prompt(request: RecordedRequest) -> str:
    """The text of the last user message of a recorded request (either API)."""
    content = request.body["messages"][-1]["content"]
    if isinstance(content, str):
        return content
    return "".join(part.get("text", "") for part in content if isinstance(part, dict))


def most_in_any_window(times: list[float], window_s: float) -> int:
    """The largest number of ``times`` falling in any half-open window of ``window_s`` seconds."""
    ordered = sorted(times)
    return max(
        sum(1 for later in ordered[i:] if later < start + window_s)
        for i, start in enumerate(ordered)
    )


async def wait_until(condition: Callable[[], bool], timeout_s: float = 20.0) -> None:
    """Poll ``condition`` (state of the emulator's thread or of a running batch) until true.

    Polling, not an event: the emulator runs on its own thread and offers no notification.
    """
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout_s} s")
        await asyncio.sleep(0.01)


def interrupt_when(condition: Callable[[], bool]) -> None:
    """Send this process SIGINT once ``condition`` holds: the main thread, blocked in a sync
    batch call, gets a ``KeyboardInterrupt`` exactly as a kernel interrupt delivers one."""

    def watch() -> None:
        while not condition():
            time.sleep(0.01)
        signal.raise_signal(signal.SIGINT)

    threading.Thread(target=watch, daemon=True).start()
