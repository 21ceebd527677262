"""A provider's configured headers (``headers:`` and ``options.extra_headers``) are sent with
every request, by each SDK-backed provider type, through the real SDKs to the loopback emulator."""

from __future__ import annotations

import pytest

from orchestify_nb.config import load_config
from orchestify_nb.registry import ProviderRegistry
from orchestify_nb.testing import LLMEmulator

# (provider type, model, which emulator URL)
BACKENDS = [
    ("anthropic", "claude-haiku-4-5", "anthropic"),
    ("openai", "gpt-4o-mini", "openai"),
    ("litellm", "openai/gpt-4o-mini", "openai"),
    ("litellm", "anthropic/claude-haiku-4-5", "anthropic"),
]


@pytest.mark.parametrize(
    ("provider_type", "model", "api"), BACKENDS, ids=[f"{b[0]}-{b[2]}" for b in BACKENDS]
)
async def test_configured_headers_are_sent_with_every_request(
    llm_emulator: LLMEmulator, provider_type: str, model: str, api: str
) -> None:
    base_url = llm_emulator.base_url if api == "anthropic" else llm_emulator.openai_base_url
    config = load_config(
        {
            "providers": {
                "gateway": {
                    "type": provider_type,
                    "api_key": "sk-header-check",
                    "base_url": base_url,
                    "default_model": model,
                    "headers": {"X-Gateway-Team": "research"},
                    "options": {"extra_headers": {"X-Gateway-Trace": "run-7"}},
                }
            }
        }
    )
    registry = ProviderRegistry.from_config(config)
    try:
        await registry.get("gateway").complete("Hello")
        await registry.get("gateway").complete("Hello again")
    finally:
        await registry.aclose()

    assert len(llm_emulator.requests) == 2
    for request in llm_emulator.requests:
        sent = {name.lower(): value for name, value in request.headers.items()}
        assert sent["x-gateway-team"] == "research"
        assert sent["x-gateway-trace"] == "run-7"
        assert "extra_headers" not in request.body
