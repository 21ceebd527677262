"""Building a registry from config, finding providers and agents, and keeping keys out of sight."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from orchestify_nb.config import AgentConfig, ModelPrice, load_config
from orchestify_nb.errors import ConfigError
from orchestify_nb.providers.base import LLMProvider
from orchestify_nb.registry import (
    ProviderRegistry,
    UnknownAgentError,
    UnknownProviderError,
)

ROOT = Path(__file__).parents[2]
EXAMPLE = ROOT / "examples" / "providers.yaml"
KEYS = {
    "ANTHROPIC_API_KEY": "sk-ant-" + "registry-secret-0001",
    "OPENAI_API_KEY": "sk-openai-registry-secret-0002",
    "AZURE_API_KEY": "azure-registry-secret-0003",
}
SDKS = ("anthropic", "openai", "litellm", "llama_cpp")


@pytest.fixture
def example() -> ProviderRegistry:
    return ProviderRegistry.from_config(load_config(EXAMPLE, environ=KEYS))


def test_example_builds_every_provider_without_importing_an_sdk() -> None:
    # A fresh interpreter: other tests in this process have imported the SDKs already.
    code = (
        "import json, sys\n"
        "from orchestify_nb.config import load_config\n"
        "from orchestify_nb.registry import ProviderRegistry\n"
        f"registry = ProviderRegistry.from_config(load_config({str(EXAMPLE)!r}).providers)\n"
        "print(json.dumps({'providers': {pid: type(registry.get(pid)).__name__ "
        "for pid in registry.list_providers()}, "
        f"'sdks': [m for m in {SDKS!r} if m in sys.modules]}}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, **KEYS},
        capture_output=True,
        text=True,
        check=True,
    )
    report = json.loads(result.stdout)
    assert report["providers"] == {
        "claude_main": "ClaudeProvider",
        "openai_main": "OpenAIProvider",
        "azure": "LiteLLMProvider",
        "local": "LocalProvider",
    }
    assert report["sdks"] == []


def test_settings_reach_the_providers(example: ProviderRegistry) -> None:
    claude = example.get("claude_main")
    azure = example.get("azure")
    assert (claude.default_model, claude.max_tokens) == ("claude-sonnet-4-6", 8192)
    assert azure.base_url == "https://myorg.openai.azure.com"
    assert azure.default_options == {"api_version": "2024-10-21"}
    assert claude.has_api_key
    assert claude.pricing_overrides == {
        "ft:gpt-4o-2024-08-06:my-org::abc123": ModelPrice(3.75, 15.0, 1.875)
    }


def test_unset_settings_keep_the_providers_own_defaults() -> None:
    registry = ProviderRegistry.from_config({"c": {"type": "anthropic"}})
    bare = type(registry.get("c"))(provider_id="c")
    provider = registry.get("c")
    assert (provider.default_model, provider.max_tokens, provider.timeout) == (
        bare.default_model,
        bare.max_tokens,
        bare.timeout,
    )
    assert provider.retry_policy.max_retries == bare.retry_policy.max_retries


def test_from_config_accepts_a_config_its_providers_or_a_plain_mapping() -> None:
    config = load_config(EXAMPLE, environ=KEYS)
    assert ProviderRegistry.from_config(config).list_providers() == list(config.providers)
    assert ProviderRegistry.from_config(config.providers).list_providers() == list(config.providers)
    plain = ProviderRegistry.from_config({"gpt": {"type": "openai", "default_model": "gpt-4o"}})
    assert plain.get("gpt").default_model == "gpt-4o"
    with pytest.raises(ConfigError, match=r"key providers\.gpt\.type: unknown provider type"):
        ProviderRegistry.from_config({"gpt": {"type": "opnai"}})


def test_unknown_provider_lists_the_known_ids(example: ProviderRegistry) -> None:
    with pytest.raises(UnknownProviderError) as caught:
        example.get("claude")
    error = caught.value
    assert isinstance(error, KeyError) and isinstance(error, ConfigError)
    assert str(error).startswith("No provider 'claude' (did you mean 'claude_main'?)")
    assert "registered providers: claude_main, openai_main, azure, local" in str(error)
    with pytest.raises(UnknownProviderError, match="No provider is configured"):
        ProviderRegistry().get()


def test_default_provider_is_the_configured_one_else_the_first(example: ProviderRegistry) -> None:
    assert example.default_provider_id == "claude_main"
    assert example.get() is example.get("claude_main")
    first = ProviderRegistry.from_config({"b": {"type": "openai"}, "a": {"type": "anthropic"}})
    assert first.default_provider_id == "b"


def test_agents_resolve_to_their_provider_and_overrides(example: ProviderRegistry) -> None:
    provider, agent = example.resolve_agent("coder")
    assert provider is example.get("openai_main")
    assert (agent.model, agent.max_tokens) == ("gpt-4.1", 4096)
    assert example.get_for_agent("researcher") is example.get("claude_main")
    assert set(example.agents) == {"researcher", "coder", "summarizer"}


def test_get_for_agent_takes_the_seeds_agents_config_argument(example: ProviderRegistry) -> None:
    agents = {"critic": AgentConfig(provider="azure"), "anyone": AgentConfig(system="Be brief.")}
    assert example.get_for_agent("critic", agents) is example.get("azure")
    assert example.get_for_agent("anyone", agents) is example.get("claude_main")
    with pytest.raises(UnknownAgentError) as caught:
        example.get_for_agent("coder", agents)
    assert isinstance(caught.value, KeyError)
    assert str(caught.value).startswith("No agent 'coder'; configured agents: critic, anyone")


def test_register_and_container_protocol() -> None:
    registry = ProviderRegistry.from_config({"a": {"type": "openai"}})
    extra = ProviderRegistry.from_config({"b": {"type": "anthropic"}}).get("b")
    registry.register("b", extra)
    assert len(registry) == 2
    assert "b" in registry and "zzz" not in registry
    assert list(registry) == registry.list_providers() == ["a", "b"]
    assert registry.get("b") is extra
    with pytest.raises(TypeError, match="expected an LLMProvider"):
        registry.register("c", object())  # type: ignore[arg-type]


def test_describe_rows_say_type_model_capabilities_and_whether_a_key_is_present(
    example: ProviderRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    keyless = ProviderRegistry.from_config({"gpt": {"type": "openai", "default_model": "gpt-4o"}})
    rows = {info.provider_id: info.as_row() for info in example.describe() + keyless.describe()}
    assert rows["claude_main"] == {
        "id": "claude_main (default)",
        "type": "anthropic",
        "default model": "claude-sonnet-4-6",
        "capabilities": "tools, thinking, images, PDFs",
        "key": "yes",
        "base url": "-",
    }
    assert rows["local"]["key"] == "not needed"
    assert rows["gpt"]["key"] == "no"
    assert rows["azure"]["base url"] == "https://myorg.openai.azure.com"


def test_no_key_in_repr_rows_summary_or_build_errors(example: ProviderRegistry) -> None:
    texts = [
        repr(example),
        str([info.as_row() for info in example.describe()]),
        example.get_usage_summary(),
        *(repr(example.get(pid)) for pid in example),
    ]
    config = load_config(EXAMPLE, environ=KEYS)
    broken = config.model_copy(deep=True)
    broken.providers["local"].model_path = f"/models/{KEYS['ANTHROPIC_API_KEY']}.gguf"
    with pytest.raises(ConfigError) as caught:
        ProviderRegistry.from_config(broken)
    texts.append(str(caught.value))
    for text in texts:
        for secret in KEYS.values():
            assert secret not in text


def test_a_provider_that_cannot_be_built_is_named_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "orchestify.yaml"
    path.write_text(
        "providers:\n"
        "  gpt:\n    type: openai\n"
        "  tiny:\n    type: local\n    model_path: /nowhere/model.gguf\n"
    )
    config = load_config(path)
    with pytest.raises(ConfigError) as caught:
        ProviderRegistry.from_config(config)
    message = str(caught.value)
    assert message.startswith(f"1 of 2 providers in {path} could not be built: 'tiny' (line 4):")
    assert "/nowhere/model.gguf" in message and "Fix:" in message

    lenient = ProviderRegistry.from_config(config, strict=False)
    assert lenient.list_providers() == ["gpt"]
    assert lenient.build_problem is not None and "'tiny' (line 4)" in str(lenient.build_problem)


def test_every_registered_object_is_a_provider(example: ProviderRegistry) -> None:
    assert all(isinstance(example.get(pid), LLMProvider) for pid in example)
