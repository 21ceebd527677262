"""What a notebook shows when it displays our objects: providers, the registry, config models
(and their ``model_dump``/``model_dump_json``), answers and stream events. A key read from a
config file is in none of them, before or after the provider has sent a request with it."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestify_nb.config import OrchestifyConfig, ProviderConfig, default_config, load_config
from orchestify_nb.registry import ProviderRegistry
from tests.security.conftest import RegistryFactory
from tests.security.leaks import (
    ANTHROPIC_KEY_ENV,
    BACKENDS,
    OPENAI_KEY_ENV,
    Backend,
    FakeKeys,
    assert_no_key,
)


def config_views(config: OrchestifyConfig | ProviderConfig) -> dict[str, str]:
    return {
        "repr": repr(config),
        "str": str(config),
        "model_dump()": repr(config.model_dump()),
        "model_dump(mode='json')": repr(config.model_dump(mode="json")),
        "model_dump_json()": config.model_dump_json(),
    }


def test_config_models_and_their_dumps_show_no_key(config_path: Path, keys: FakeKeys) -> None:
    config = load_config(config_path)

    for provider_id, provider_config in config.providers.items():
        assert provider_config.api_key is not None
        assert provider_config.api_key.get_secret_value() in keys.all  # the key really is there
        for view, text in config_views(provider_config).items():
            assert_no_key(text, keys.all, f"ProviderConfig {provider_id} {view}")
    for view, text in config_views(config).items():
        assert_no_key(text, keys.all, f"OrchestifyConfig {view}")


def registry_views(registry: ProviderRegistry) -> dict[str, str]:
    return {
        "repr(registry)": repr(registry),
        "str(registry)": str(registry),
        "registry.get_usage_summary()": registry.get_usage_summary(),
        "registry.describe()": repr([info.as_row() for info in registry.describe()]),
        "repr(registry.config)": repr(registry.config),
    }


@pytest.mark.parametrize("backend", BACKENDS, ids=[b.provider_id for b in BACKENDS])
async def test_provider_registry_and_answers_show_no_key_after_real_calls(
    backend: Backend, keys: FakeKeys, make_registry: RegistryFactory
) -> None:
    registry = make_registry()
    provider = registry.get(backend.provider_id)

    answer = await provider.complete("Hello there.")
    events = [event async for event in provider.stream("Hello again.")]

    assert provider.has_api_key and answer.content == "Hello there."
    views = {
        **registry_views(registry),
        "repr(provider)": repr(provider),
        "str(provider)": str(provider),
        "repr(vars(provider))": repr(vars(provider)),
        "repr(answer)": repr(answer),
        "repr(answer.raw_response)": repr(answer.raw_response),
        "repr(stream events)": repr(events),
        "provider.get_usage()": repr(provider.get_usage()),
    }
    for view, text in views.items():
        assert_no_key(text, keys.all, view)


def test_embedded_default_config_from_key_variables_shows_no_key(keys: FakeKeys) -> None:
    """With no config file, keys come from ``ANTHROPIC_API_KEY``/``OPENAI_API_KEY``."""
    environ = {"ANTHROPIC_API_KEY": keys.anthropic, "OPENAI_API_KEY": keys.openai}
    config = default_config(environ=environ)
    registry = ProviderRegistry.from_config(config, strict=False)

    assert {"claude", "openai"} <= set(config.providers) and registry.get("claude").has_api_key
    views = {**config_views(config), **registry_views(registry)}
    for view, text in views.items():
        assert_no_key(text, keys.all, f"default config {view}")


def test_a_gateway_key_sent_as_an_extra_header_is_as_hidden_as_api_key(
    keys: FakeKeys, tmp_path: Path
) -> None:
    path = tmp_path / "orchestify.yaml"
    path.write_text(
        "providers:\n  gateway:\n    type: openai\n"
        f"    api_key: ${{{OPENAI_KEY_ENV}}}\n    base_url: https://gateway.example/v1\n"
        "    options:\n      extra_headers:\n"
        f"        x-portkey-api-key: ${{{ANTHROPIC_KEY_ENV}}}\n",
        encoding="utf-8",
    )
    config = load_config(path)

    assert "x-portkey-api-key" in config.providers["gateway"].options["extra_headers"]
    for view, text in config_views(config).items():
        assert_no_key(text, keys.all, f"OrchestifyConfig {view}")
