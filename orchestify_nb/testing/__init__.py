"""A loopback Anthropic + OpenAI API server for tests: ``with LLMEmulator() as emu: ...``.

The real SDKs, pointed at ``emu.base_url`` (Anthropic) or ``emu.openai_base_url`` (OpenAI), talk
to it over real HTTP; the test scripts what comes back with ``emu.enqueue(Reply(...))`` or
``emu.enqueue(Fault.rate_limit(retry_after=1))`` and inspects ``emu.requests``. The pytest
fixture ``llm_emulator`` lives in ``orchestify_nb.testing.pytest_plugin``.
"""

from __future__ import annotations

from orchestify_nb.testing.emulator import LLMEmulator
from orchestify_nb.testing.script import Fault, RecordedRequest, Reply

__all__ = ["Fault", "LLMEmulator", "RecordedRequest", "Reply"]
