"""The three SDK-backed providers, each pointed at the loopback emulator over real HTTP.

Every provider test runs once per *backend*: Claude (anthropic SDK), OpenAI (openai SDK), and
LiteLLM routed both to the Anthropic API and to the OpenAI API. Usage records land in the
isolated default ledger that ``tests/conftest.py`` gives every test.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pytest

from orchestify_nb.providers.base import LLMProvider
from orchestify_nb.providers.claude import ClaudeProvider
from orchestify_nb.providers.litellm_provider import LiteLLMProvider
from orchestify_nb.providers.openai_provider import OpenAIProvider
from orchestify_nb.testing import LLMEmulator
from orchestify_nb.testing.pytest_plugin import llm_emulator

__all__ = [
    "Backend",
    "backend",
    "litellm_capabilities_in_a_fresh_process",
    "llm_emulator",
    "make_provider",
    "provider",
    "python_output",
]

#: Distinctive, so a test can prove it never shows up in an error, a repr or a log.
SECRET_KEY = "sk-ant-test-SECRETSECRET"


def python_output(code: str, env: Mapping[str, str] | None = None) -> str:
    """What ``code`` prints in a fresh interpreter: for what only a new process shows (which
    modules an import pulls in, state built once per process)."""
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        env=None if env is None else dict(env),
    )
    return result.stdout


def litellm_capabilities_in_a_fresh_process(
    capability: str, models: list[str]
) -> tuple[list[bool], bool]:
    """``LiteLLMProvider().<capability>(model)`` for each model, asked in a new interpreter,
    and whether answering imported LiteLLM there (it must not: the import takes seconds)."""
    code = (
        "import sys\n"
        "from orchestify_nb.providers.litellm_provider import LiteLLMProvider\n"
        "provider = LiteLLMProvider()\n"
        f"print([provider.{capability}(m) for m in {models!r}])\n"
        "print('litellm' in sys.modules)\n"
    )
    answers, imported = python_output(code).splitlines()
    parsed: list[bool] = ast.literal_eval(answers)
    return parsed, imported == "True"


@dataclass(frozen=True)
class Backend:
    """How to reach one API through one provider class, and which priced model to ask for."""

    name: str
    provider_class: type[LLMProvider]
    model: str
    api: str  # "anthropic" | "openai": the emulator API the requests land on
    #: Whether usage is known before the stream ends (Anthropic's ``message_start``).
    usage_before_end: bool

    def base_url(self, emulator: LLMEmulator) -> str:
        return emulator.base_url if self.api == "anthropic" else emulator.openai_base_url

    @property
    def speaks_anthropic(self) -> bool:
        return self.api == "anthropic"


BACKENDS = (
    Backend("claude", ClaudeProvider, "claude-sonnet-4-6", "anthropic", usage_before_end=True),
    Backend("openai", OpenAIProvider, "gpt-4o", "openai", usage_before_end=False),
    Backend(
        "litellm-anthropic",
        LiteLLMProvider,
        "anthropic/claude-sonnet-4-6",
        "anthropic",
        usage_before_end=False,
    ),
    Backend("litellm-openai", LiteLLMProvider, "openai/gpt-4o", "openai", usage_before_end=False),
)


@pytest.fixture(params=BACKENDS, ids=[b.name for b in BACKENDS])
def backend(request: pytest.FixtureRequest) -> Backend:
    selected: Backend = request.param
    return selected


@pytest.fixture
async def make_provider(
    backend: Backend, llm_emulator: LLMEmulator
) -> AsyncIterator[Callable[..., LLMProvider]]:
    """Build providers for the backend under test (keyword overrides allowed); all are closed
    on the test's own event loop afterwards."""
    built: list[LLMProvider] = []

    def build(**overrides: Any) -> LLMProvider:
        settings: dict[str, Any] = {
            "api_key": SECRET_KEY,
            "base_url": backend.base_url(llm_emulator),
            "default_model": backend.model,
            "max_retries": 2,
            "timeout": 30.0,
            **overrides,
        }
        provider = backend.provider_class(**settings)
        built.append(provider)
        return provider

    yield build
    for provider in built:
        await provider.aclose()


@pytest.fixture
def provider(make_provider: Callable[..., LLMProvider]) -> LLMProvider:
    """The backend's provider with default settings."""
    return make_provider()
