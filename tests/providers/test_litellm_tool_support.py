"""Whether a LiteLLM model takes tools comes from LiteLLM's model map: a model the map says cannot
call functions is refused before sending, any other model (unknown, self-hosted, or mapped
without the flag) is let through."""

from __future__ import annotations

import pytest

from orchestify_nb.errors import UnsupportedOptionError
from orchestify_nb.pricing import litellm_model_info
from orchestify_nb.providers.litellm_provider import LiteLLMProvider
from orchestify_nb.providers.types import ToolSpec
from orchestify_nb.testing import LLMEmulator
from tests.providers.conftest import litellm_capabilities_in_a_fresh_process

WEATHER = ToolSpec(name="get_weather", parameters={"type": "object", "properties": {}})

#: In LiteLLM's map with ``supports_function_calling: false``.
NO_FUNCTION_CALLING = "deepseek/deepseek-reasoner"
#: LiteLLM model name -> whether the provider lets tools through.
TOOL_SUPPORT = {
    NO_FUNCTION_CALLING: False,
    "fireworks_ai/accounts/fireworks/models/llama-v3p1-8b-instruct": False,
    "anthropic/claude-sonnet-4-6": True,  # mapped with the flag true
    "azure/o3-mini": True,  # mapped without the flag, though it calls tools
    "ollama/my-finetune": True,  # not in the map: self-hosted
    "hosted_vllm/acme/unreleased-model": True,
}


def test_the_premise_the_map_marks_some_models_as_unable_to_call_functions() -> None:
    """Guards the examples above against a LiteLLM upgrade that changes them."""
    for model, allowed in TOOL_SUPPORT.items():
        info = litellm_model_info(model)
        if not allowed:
            assert info is not None and info["supports_function_calling"] is False, model
    assert litellm_model_info("ollama/my-finetune") is None
    mapped_without_flag = litellm_model_info("azure/o3-mini")
    assert mapped_without_flag is not None
    assert "supports_function_calling" not in mapped_without_flag


def test_litellm_answers_tool_support_from_its_model_map_without_importing_it() -> None:
    answers, imported = litellm_capabilities_in_a_fresh_process(
        "supports_tools", list(TOOL_SUPPORT)
    )

    assert answers == list(TOOL_SUPPORT.values())
    assert not imported


def test_the_default_model_decides_when_no_model_is_named() -> None:
    assert LiteLLMProvider(default_model="ollama/my-finetune").supports_tools()
    assert not LiteLLMProvider(default_model=NO_FUNCTION_CALLING).supports_tools()


async def test_tools_for_a_model_that_cannot_call_them_are_refused_before_sending(
    llm_emulator: LLMEmulator,
) -> None:
    provider = LiteLLMProvider(api_key="k", base_url=llm_emulator.openai_base_url)

    with pytest.raises(UnsupportedOptionError, match="does not support tool calls"):
        await provider.complete("Weather?", model=NO_FUNCTION_CALLING, tools=[WEATHER])

    assert llm_emulator.requests == []


async def test_tools_for_a_model_the_map_does_not_know_are_sent(
    llm_emulator: LLMEmulator,
) -> None:
    provider = LiteLLMProvider(api_key="k", base_url=llm_emulator.openai_base_url, max_retries=0)

    await provider.complete("Weather?", model="openai/my-self-hosted-llama", tools=[WEATHER])
    await provider.aclose()

    [request] = llm_emulator.requests
    assert request.body["model"] == "my-self-hosted-llama"
    assert [tool["function"]["name"] for tool in request.body["tools"]] == ["get_weather"]


def test_mapped_models_agree_with_litellms_own_answer() -> None:
    from orchestify_nb.providers.litellm_provider import import_litellm

    litellm = import_litellm()
    provider = LiteLLMProvider()

    for model in ("anthropic/claude-sonnet-4-6", *(m for m, ok in TOOL_SUPPORT.items() if not ok)):
        assert provider.supports_tools(model) == litellm.supports_function_calling(model), model
