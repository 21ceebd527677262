"""What is settled before any request: model names, capabilities, keys, lazy imports, and
clients that follow the event loop they are used on."""

from __future__ import annotations

import asyncio
import os

import pytest

from orchestify_nb.errors import (
    AuthenticationError,
    MissingDependencyError,
    ModelNotSupportedError,
    UnsupportedOptionError,
)
from orchestify_nb.pricing import price_call
from orchestify_nb.providers._sdk import import_sdk
from orchestify_nb.providers.claude import ClaudeProvider
from orchestify_nb.providers.litellm_provider import LiteLLMProvider
from orchestify_nb.providers.openai_provider import OpenAIProvider, reasoning_effort
from orchestify_nb.testing import LLMEmulator, Reply
from orchestify_nb.tokens import TokenCounts
from orchestify_nb.usage.ledger import Ledger
from tests.providers.conftest import litellm_capabilities_in_a_fresh_process, python_output


def test_claude_refuses_a_model_that_is_not_claude_with_a_hint() -> None:
    provider = ClaudeProvider(api_key="k")

    with pytest.raises(ModelNotSupportedError, match="'gpt-4o' is not a Claude model") as caught:
        provider.build_request("hi", model="gpt-4o")

    assert "claude-" in str(caught.value)
    assert "openai or litellm provider" in str(caught.value)


def test_openai_checks_model_names_only_for_api_openai_com() -> None:
    official = OpenAIProvider(api_key="k")
    self_hosted = OpenAIProvider(api_key="k", base_url="http://127.0.0.1:8080/v1")

    with pytest.raises(ModelNotSupportedError, match="not an OpenAI model") as caught:
        official.build_request("hi", model="claude-sonnet-4-6")
    assert "base_url" in str(caught.value)
    assert self_hosted.build_request("hi", model="qwen2.5-7b-instruct").model == (
        "qwen2.5-7b-instruct"
    )
    assert self_hosted.known_models() == [self_hosted.default_model]


@pytest.mark.parametrize(
    ("provider_type", "models"),
    [
        ("anthropic", ClaudeProvider(api_key="k").known_models()),
        ("openai", OpenAIProvider(api_key="k").known_models()),
    ],
)
def test_every_offered_model_including_the_fallback_is_priced(
    provider_type: str, models: list[str]
) -> None:
    fallback = (ClaudeProvider if provider_type == "anthropic" else OpenAIProvider).fallback_model()
    assert fallback in models
    for model in models:
        quote = price_call(
            provider_type=provider_type,
            model=model,
            overrides={},
            base_url=None,
            tokens=TokenCounts(input=1_000, output=1_000, cache_read=0, cache_write=0, reasoning=0),
        )
        assert quote.priced, model


def test_thinking_support_follows_the_model() -> None:
    claude = ClaudeProvider(api_key="k")
    openai = OpenAIProvider(api_key="k")
    litellm = LiteLLMProvider(default_model="anthropic/claude-sonnet-4-6")

    assert claude.supports_thinking("claude-sonnet-4-6")
    assert not claude.supports_thinking("claude-3-5-haiku-latest")
    assert openai.supports_thinking("gpt-5.4-mini") and openai.supports_thinking("o3")
    assert not openai.supports_thinking("gpt-4o")
    assert not openai.supports_thinking("gpt-5-chat-latest")
    assert litellm.supports_thinking("anthropic/claude-sonnet-4-6")
    assert litellm.supports_thinking("openai/gpt-5.4")
    with pytest.raises(UnsupportedOptionError, match="does not support extended thinking"):
        claude.build_request("hi", model="claude-3-5-haiku-latest", thinking=2048)


#: LiteLLM model names whose thinking support comes from its model map, not from their name.
MAPPED_MODELS = {
    "deepseek/deepseek-reasoner": True,
    "gemini/gemini-2.5-pro": True,
    "gemini/gemini-2.0-flash": False,
    "mistral/mistral-large-latest": False,
    "ollama/no-such-model": False,  # not in the map
}


def test_litellm_answers_thinking_support_from_its_model_map_without_importing_it() -> None:
    answers, imported = litellm_capabilities_in_a_fresh_process(
        "supports_thinking", list(MAPPED_MODELS)
    )

    assert answers == list(MAPPED_MODELS.values())
    assert not imported


def test_litellm_thinking_support_agrees_with_litellms_own_answer() -> None:
    from orchestify_nb.providers.litellm_provider import import_litellm

    litellm = import_litellm()
    provider = LiteLLMProvider()

    for model in MAPPED_MODELS:
        assert provider.supports_thinking(model) == litellm.supports_reasoning(model=model), model


@pytest.mark.parametrize("sampling", [{"temperature": 0.2}, {"top_p": 0.9}, {"top_k": 5}])
async def test_claude_refuses_sampling_options_the_current_api_rejects(
    llm_emulator: LLMEmulator, sampling: dict[str, float]
) -> None:
    """The anthropic SDK 2.x sends API version 2026-10-21, which answers 400 to any of them."""
    provider = ClaudeProvider(api_key="k", base_url=llm_emulator.base_url)

    with pytest.raises(UnsupportedOptionError, match="no longer accepts"):
        await provider.complete("hi", **sampling)

    assert llm_emulator.requests == []


@pytest.mark.parametrize(
    ("thinking", "max_tokens", "problem"),
    [(512, 4096, "at least 1024"), (4096, 4096, "below max_tokens")],
)
def test_claude_thinking_budget_is_checked_before_sending(
    thinking: int, max_tokens: int, problem: str
) -> None:
    with pytest.raises(UnsupportedOptionError, match=problem):
        ClaudeProvider(api_key="k").build_request("hi", thinking=thinking, max_tokens=max_tokens)


def test_reasoning_models_take_completion_tokens_and_an_effort_instead_of_a_budget() -> None:
    provider = OpenAIProvider(api_key="k")
    request = provider.build_request("hi", model="gpt-5.4", thinking=20_000, max_tokens=30_000)

    arguments = provider._arguments(request)

    assert arguments["max_completion_tokens"] == 30_000
    assert "max_tokens" not in arguments
    assert arguments["reasoning_effort"] == "high"
    assert [reasoning_effort(b) for b in (1024, 4096, 4097, 16384, 16385)] == [
        "low",
        "low",
        "medium",
        "medium",
        "high",
    ]


def test_a_missing_sdk_names_the_extra_to_install() -> None:
    with pytest.raises(MissingDependencyError, match=r'pip install "orchestify_nb\[nosuch\]"'):
        import_sdk("nosuch_sdk_module", "nosuch")


def test_importing_the_provider_modules_imports_no_sdk() -> None:
    code = (
        "import sys\n"
        "import orchestify_nb.providers.claude, orchestify_nb.providers.openai_provider\n"
        "import orchestify_nb.providers.litellm_provider\n"
        "from orchestify_nb import ClaudeProvider, OpenAIProvider, LiteLLMProvider\n"
        "ClaudeProvider(api_key='k'); OpenAIProvider(api_key='k'); LiteLLMProvider()\n"
        "print(sorted(m for m in ('anthropic', 'openai', 'litellm') if m in sys.modules))\n"
    )
    assert python_output(code).strip() == "[]"


def test_litellm_is_imported_with_its_offline_cost_map_and_no_retries() -> None:
    code = (
        "import os\n"
        "from orchestify_nb.providers.litellm_provider import import_litellm\n"
        "litellm = import_litellm()\n"
        "print(os.environ['LITELLM_LOCAL_MODEL_COST_MAP'], litellm.num_retries,"
        " litellm.suppress_debug_info)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "LITELLM_LOCAL_MODEL_COST_MAP"}
    assert python_output(code, env).split() == ["True", "0", "True"]


async def test_a_missing_key_fails_before_sending_and_names_the_variable(
    llm_emulator: LLMEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    provider = ClaudeProvider(base_url=llm_emulator.base_url, max_retries=0)

    with pytest.raises(AuthenticationError, match="ANTHROPIC_API_KEY"):
        await provider.complete("hi")

    assert llm_emulator.requests == []


async def test_the_key_is_read_from_the_sdk_variable_and_still_kept_secret(
    monkeypatch: pytest.MonkeyPatch, isolated_ledger: Ledger
) -> None:
    env_key = "sk-env-VERYSECRET-0001"
    monkeypatch.setenv("OPENAI_API_KEY", env_key)
    with LLMEmulator(api_key=env_key) as emulator:  # 401 for any other key
        provider = OpenAIProvider(base_url=emulator.openai_base_url, default_model="gpt-4o")
        emulator.enqueue(Reply(text="Authenticated."))

        response = await provider.complete("hi")
        await provider.aclose()

    assert response.content == "Authenticated."
    assert provider.has_api_key
    assert env_key not in repr(provider)


async def test_a_self_hosted_server_needs_no_key(
    llm_emulator: LLMEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    provider = OpenAIProvider(base_url=llm_emulator.openai_base_url, default_model="local-llama")
    llm_emulator.enqueue(Reply(text="No key, no problem."))

    response = await provider.complete("hi")
    await provider.aclose()

    assert response.content == "No key, no problem."
    assert response.priced is False and response.cost_usd is None  # an unknown model is unpriced


def test_one_provider_serves_calls_from_two_event_loops(llm_emulator: LLMEmulator) -> None:
    """The magics run calls on a private loop thread and the panel on the kernel's loop: an SDK
    client bound to the first loop must not be reused on the second."""
    provider = ClaudeProvider(
        api_key="k", base_url=llm_emulator.base_url, default_model="claude-sonnet-4-6"
    )
    llm_emulator.enqueue(Reply(text="first loop"), Reply(text="second loop"))

    first = asyncio.run(provider.complete("hi"))
    second = asyncio.run(provider.complete("hi"))

    assert (first.content, second.content) == ("first loop", "second loop")
