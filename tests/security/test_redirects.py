"""A redirect from the API host to another origin (host or port) must not carry the key or the
configured secret headers there, on any backend, complete or stream.

Two loopback servers: the "API" answers every request with a 307 or 302 to the second one,
which records every header and body it receives. API calls follow no redirect: the call ends in
``RedirectRefusedError`` naming the status, and the second server hears nothing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from orchestify_nb import OpenAIProvider
from orchestify_nb.errors import ProviderError, RedirectRefusedError
from orchestify_nb.providers.base import LLMProvider
from orchestify_nb.providers.claude import ClaudeProvider
from orchestify_nb.providers.litellm_provider import LiteLLMProvider
from orchestify_nb.providers.types import StreamEvent
from tests.security.leaks import FakeKeys, assert_no_key
from tests.security.loopback_servers import Server, not_found, redirect_to, serve

GATEWAY_SECRET = "gw-secret-REDIRECTCHECK-7f3a9c2e1b"


def build(kind: str, api: str, keys: FakeKeys) -> LLMProvider:
    """One backend with a key and a secret extra header, pointed at ``api``."""
    headers = {"X-Gateway-Token": GATEWAY_SECRET}
    common: dict[str, Any] = {"provider_id": kind, "headers": headers, "max_retries": 0}
    if kind == "claude":
        return ClaudeProvider(api_key=keys.anthropic, base_url=api, **common)
    if kind == "gpt":
        return OpenAIProvider(api_key=keys.openai, base_url=f"{api}/v1", **common)
    if kind == "litellm_openai":
        model, key, url = "openai/gpt-4o-mini", keys.openai, f"{api}/v1"
    else:
        model, key, url = "anthropic/claude-haiku-4-5", keys.anthropic, api
    return LiteLLMProvider(api_key=key, base_url=url, default_model=model, **common)


KINDS = ("claude", "gpt", "litellm_openai", "litellm_anthropic")


async def _drain(events: AsyncIterator[StreamEvent]) -> None:
    async for _ in events:
        pass


def _calls(provider: LLMProvider) -> dict[str, Callable[[], Awaitable[object]]]:
    return {
        "complete": lambda: provider.complete("Tell me a secret."),
        "stream": lambda: _drain(provider.stream("Tell me a secret.")),
    }


def _assert_nothing_secret_reached(collector: Server, keys: FakeKeys) -> None:
    for request in collector.received:
        text = request.text()
        assert_no_key(text, keys.all, f"a request the redirect target received ({request.path})")
        assert GATEWAY_SECRET not in text, "the secret header followed the redirect"


@pytest.mark.parametrize("status", [307, 302])
@pytest.mark.parametrize("kind", KINDS)
async def test_a_redirect_to_another_origin_receives_no_key_or_secret_header(
    kind: str, status: int, keys: FakeKeys
) -> None:
    with serve(not_found) as collector, serve(redirect_to(collector.url, status)) as api:
        provider = build(kind, api.url, keys)
        try:
            for call in _calls(provider).values():
                with pytest.raises(ProviderError):
                    await call()
        finally:
            await provider.aclose()
    assert api.received, "the API server was never called"
    _assert_nothing_secret_reached(collector, keys)


@pytest.mark.parametrize("kind", KINDS)
async def test_a_redirect_is_refused_as_a_typed_error_naming_the_status(
    kind: str, keys: FakeKeys
) -> None:
    with serve(not_found) as collector, serve(redirect_to(collector.url, 307)) as api:
        provider = build(kind, api.url, keys)
        try:
            for name, call in _calls(provider).items():
                with pytest.raises(RedirectRefusedError) as caught:
                    await call()
                message = str(caught.value)
                assert "307" in message and "redirects are not followed" in message, name
                assert collector.url in message, name  # where it pointed, for the user to judge
                assert not caught.value.retryable
        finally:
            await provider.aclose()
    assert collector.received == []
