"""Fixtures for the leak tests: fresh fake keys in the environment, a config file that names them
through ``${VAR}``, and the registry built from it against the loopback emulator."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from orchestify_nb.config import load_config
from orchestify_nb.registry import ProviderRegistry
from orchestify_nb.testing import LLMEmulator
from tests.security.leaks import FakeKeys, write_config

RegistryFactory = Callable[..., ProviderRegistry]


@pytest.fixture
def keys(monkeypatch: pytest.MonkeyPatch) -> FakeKeys:
    """New keys per test, exported as the variables the config files reference."""
    fresh = FakeKeys.new()
    for name, value in fresh.environ.items():
        monkeypatch.setenv(name, value)
    return fresh


@pytest.fixture
def config_path(tmp_path: Path, keys: FakeKeys, llm_emulator: LLMEmulator) -> Path:
    """The config file every backend is built from, pointed at the emulator."""
    return write_config(
        tmp_path / "orchestify.yaml",
        anthropic_url=llm_emulator.base_url,
        openai_url=llm_emulator.openai_base_url,
    )


@pytest.fixture
async def make_registry(
    tmp_path: Path, keys: FakeKeys, llm_emulator: LLMEmulator
) -> AsyncIterator[RegistryFactory]:
    """Registries loaded from a real config file of every backend; all are closed on the
    test's loop afterwards."""
    built: list[ProviderRegistry] = []

    def build(
        *, base_url: str | None = None, max_retries: int = 0, timeout: float = 30.0
    ) -> ProviderRegistry:
        """``base_url`` (a root URL such as a closed port) replaces the emulator's for both APIs."""
        path = write_config(
            tmp_path / f"config-{len(built)}.yaml",
            anthropic_url=base_url or llm_emulator.base_url,
            openai_url=f"{base_url}/v1" if base_url else llm_emulator.openai_base_url,
            max_retries=max_retries,
            timeout=timeout,
        )
        registry = ProviderRegistry.from_config(load_config(path))
        built.append(registry)
        return registry

    yield build
    for registry in built:
        await registry.aclose()


#: The SDK and transport loggers raised to DEBUG next to ours: whatever they print at their most
#: verbose must not contain a key either.
SDK_LOGGERS = (
    "httpx",
    "httpx2",
    "httpcore",
    "httpcore2",
    "openai",
    "anthropic",
    "litellm",
    "LiteLLM",
    "LiteLLM Router",
    "LiteLLM Proxy",
)


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Every logger at DEBUG, captured (levels are restored after the test)."""
    from orchestify_nb.providers.litellm_provider import import_litellm

    import_litellm()  # its one-time setup quietens LiteLLM's loggers: run it before raising them
    caplog.set_level(logging.DEBUG)
    for name in SDK_LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog
