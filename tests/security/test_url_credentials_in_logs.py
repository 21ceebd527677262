"""Credentials written into a ``base_url`` (``https://user:password@gateway/...``) appear in no
log line of any logger at DEBUG (httpx's request line, the SDKs' and LiteLLM's debug output),
complete or stream, on every backend."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import pytest

from orchestify_nb import OpenAIProvider
from orchestify_nb.providers.base import LLMProvider
from orchestify_nb.providers.claude import ClaudeProvider
from orchestify_nb.providers.litellm_provider import LiteLLMProvider
from orchestify_nb.providers.types import StreamEvent
from orchestify_nb.testing import LLMEmulator
from tests.security.leaks import FakeKeys, assert_no_key_in_logs

USER, PASSWORD = "svc-gateway-user", "HUNTER2-PASSWORD-9f8e7d6c"


def with_credentials(url: str) -> str:
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{USER}:{PASSWORD}@{rest}"


def build(kind: str, emulator: LLMEmulator, keys: FakeKeys) -> LLMProvider:
    anthropic_url = with_credentials(emulator.base_url)
    openai_url = with_credentials(emulator.openai_base_url)
    if kind == "claude":
        return ClaudeProvider(provider_id=kind, api_key=keys.anthropic, base_url=anthropic_url)
    if kind == "gpt":
        return OpenAIProvider(
            provider_id=kind, api_key=keys.openai, base_url=openai_url, default_model="gpt-4o"
        )
    if kind == "litellm_openai":
        model, key, url = "openai/gpt-4o-mini", keys.openai, openai_url
    else:
        model, key, url = "anthropic/claude-haiku-4-5", keys.anthropic, anthropic_url
    return LiteLLMProvider(provider_id=kind, api_key=key, base_url=url, default_model=model)


async def _collect(events: AsyncIterator[StreamEvent]) -> list[StreamEvent]:
    return [event async for event in events]


@pytest.mark.parametrize("kind", ["claude", "gpt", "litellm_openai", "litellm_anthropic"])
async def test_base_url_credentials_reach_no_log_line_complete_or_stream(
    kind: str, keys: FakeKeys, llm_emulator: LLMEmulator, debug_logs: pytest.LogCaptureFixture
) -> None:
    provider = build(kind, llm_emulator, keys)
    try:
        answer = await provider.complete("Say hi.")
        streamed = await _collect(provider.stream("Say hi again."))
    finally:
        await provider.aclose()

    assert answer.content == "Say hi." and streamed[-1].type == "done"
    assert any(r.name.split(".")[0] in ("httpx", "httpx2") for r in debug_logs.records)
    encoded = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()  # as the header sends it
    assert_no_key_in_logs(debug_logs.records, [PASSWORD, f"{USER}:{PASSWORD}", encoded])
    for record in debug_logs.records:
        assert f"{USER}:" not in record.getMessage(), record.getMessage()
