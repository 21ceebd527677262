"""Usage summed across providers, and the connectivity check, against the loopback emulator."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from orchestify_nb.config import load_config
from orchestify_nb.errors import ConfigError
from orchestify_nb.registry import ProviderRegistry
from orchestify_nb.testing import LLMEmulator, Reply
from orchestify_nb.usage.ledger import Ledger

GOOD_KEY = "sk-good-registry-key-1234"
BAD_KEY = "sk-bad-registry-key-5678"


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _config_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "orchestify.yaml"
    path.write_text(text)
    return path


async def test_usage_is_summed_per_provider_and_in_total(
    llm_emulator: LLMEmulator, tmp_path: Path
) -> None:
    registry = ProviderRegistry.from_config(
        load_config(
            {
                "providers": {
                    "claude": {
                        "type": "anthropic",
                        "api_key": "k",
                        "base_url": llm_emulator.base_url,
                        "default_model": "claude-sonnet-4-6",
                    },
                    "gpt": {
                        "type": "openai",
                        "api_key": "k",
                        "base_url": llm_emulator.openai_base_url,
                        "default_model": "gpt-4o",
                    },
                }
            }
        )
    )
    llm_emulator.enqueue(
        Reply(
            text="a",
            input_tokens=1000,
            cache_read_tokens=200,
            cache_write_tokens=100,
            output_tokens=500,
        ),
        Reply(text="b", input_tokens=1000, cache_read_tokens=200, output_tokens=500),
    )
    await registry.get("claude").complete("hi")
    await registry.get("gpt").complete("hi")

    total = registry.get_total_usage()
    assert (total.call_count, total.total_input, total.total_output) == (2, 2000, 1000)
    assert total.total_cost_usd == pytest.approx(0.010035 + 0.00725)
    summary = registry.get_usage_summary().splitlines()
    assert summary == [
        "Usage across 2 providers: 2 calls, 2,000 in (400 cache read, 100 cache write) / "
        "1,000 out tokens, $0.0173",
        "  claude (anthropic): 1 call, 1,000 in (200 cache read, 100 cache write) / 500 out "
        "tokens, $0.0100",
        "  gpt (openai): 1 call, 1,000 in (200 cache read) / 500 out tokens, $0.0073",
    ]
    registry.reset_all_usage()
    assert registry.get_total_usage().call_count == 0
    assert registry.get_usage_summary().endswith("gpt (openai): no calls")
    await registry.aclose()


def test_connectivity_check_reports_every_failing_provider_together(tmp_path: Path) -> None:
    with LLMEmulator(api_key=GOOD_KEY) as emulator:
        path = _config_file(
            tmp_path,
            f"""\
providers:
  claude_ok:
    type: anthropic
    api_key: {GOOD_KEY}
    base_url: {emulator.base_url}
  claude_bad_key:
    type: anthropic
    api_key: {BAD_KEY}
    base_url: {emulator.base_url}
  gpt_ok:
    type: openai
    api_key: {GOOD_KEY}
    base_url: {emulator.openai_base_url}
  gpt_bad_key:
    type: openai
    api_key: {BAD_KEY}
    base_url: {emulator.openai_base_url}
  gpt_unreachable:
    type: openai
    api_key: {GOOD_KEY}
    base_url: http://127.0.0.1:{_closed_port()}/v1
""",
        )
        with pytest.raises(ConfigError) as caught:
            ProviderRegistry.from_config(load_config(path), validate_connectivity=True)
        pinged = len(emulator.requests)

    message = str(caught.value)
    assert message.startswith(f"3 of 5 providers in {path} failed the connectivity check: ")
    assert "'claude_bad_key' (line 6): AuthenticationError" in message
    assert "'gpt_bad_key' (line 14): AuthenticationError" in message
    assert "'gpt_unreachable' (line 18): ProviderConnectionError" in message
    assert "claude_ok" not in message and "'gpt_ok'" not in message
    assert "validate_connectivity=False" in message
    assert GOOD_KEY not in message and BAD_KEY not in message
    assert pinged == 4  # one request per reachable provider, no retries


def test_connectivity_check_passes_and_records_tagged_pings(
    llm_emulator: LLMEmulator, isolated_ledger: Ledger
) -> None:
    registry = ProviderRegistry.from_config(
        {
            "claude": {"type": "anthropic", "api_key": "k", "base_url": llm_emulator.base_url},
            "gpt": {"type": "openai", "api_key": "k", "base_url": llm_emulator.openai_base_url},
        },
        validate_connectivity=True,
    )
    assert registry.list_providers() == ["claude", "gpt"]
    bodies = sorted(
        (r.api, r.body.get("max_tokens") or r.body.get("max_completion_tokens"))
        for r in llm_emulator.requests
    )
    assert bodies == [("anthropic", 1), ("openai", 1)]
    isolated_ledger.flush()
    tags = {(r.provider_id, r.tag, r.status) for r in isolated_ledger.records()}
    assert tags == {("claude", "connectivity-check", "ok"), ("gpt", "connectivity-check", "ok")}
    # The pings went through throwaway copies: the registry's own providers have no usage.
    assert registry.get_total_usage().call_count == 0


async def test_async_validate_connectivity_uses_the_registered_providers(
    llm_emulator: LLMEmulator,
) -> None:
    registry = ProviderRegistry.from_config(
        {
            "gpt": {"type": "openai", "api_key": "k", "base_url": llm_emulator.openai_base_url},
            "dead": {
                "type": "anthropic",
                "api_key": "k",
                "base_url": f"http://127.0.0.1:{_closed_port()}",
                "max_retries": 0,
            },
        }
    )
    with pytest.raises(ConfigError) as caught:
        await registry.validate_connectivity()
    assert str(caught.value).startswith("1 of 2 providers failed the connectivity check: 'dead'")
    assert registry.get("gpt").get_usage().call_count == 1
    await registry.aclose()
