"""Tool calls and extended thinking: offered in our types, sent in each API's shape, and
answered back as ``ToolCall`` objects, streamed fragments and thinking deltas."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from orchestify_nb.errors import UnsupportedOptionError
from orchestify_nb.providers.base import LLMProvider
from orchestify_nb.providers.types import LLMMessage, ToolCall, ToolSpec
from orchestify_nb.testing import LLMEmulator, Reply
from tests.providers.conftest import Backend

WEATHER = ToolSpec(
    name="get_weather",
    description="Current weather for a city.",
    parameters={
        "type": "object",
        "properties": {"city": {"type": "string"}, "unit": {"type": "string"}},
        "required": ["city"],
    },
)
CALL = ToolCall(id="toolu_01", name="get_weather", arguments={"city": "Paris", "unit": "C"})


async def test_complete_returns_tool_calls_and_sends_the_tool_in_the_api_shape(
    provider: LLMProvider, llm_emulator: LLMEmulator, backend: Backend
) -> None:
    llm_emulator.enqueue(Reply(tool_calls=[CALL]))

    response = await provider.complete("Weather in Paris?", tools=[WEATHER])

    assert response.tool_calls == [CALL]
    assert response.finish_reason == "tool_calls"
    [sent] = llm_emulator.requests[0].body["tools"]
    if backend.speaks_anthropic:
        assert sent["name"] == "get_weather"
        assert sent["input_schema"] == WEATHER.parameters
    else:
        assert sent == {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "Current weather for a city.",
                "parameters": WEATHER.parameters,
            },
        }


async def test_tool_results_go_back_as_the_api_expects_and_the_answer_follows(
    provider: LLMProvider, llm_emulator: LLMEmulator, backend: Backend
) -> None:
    llm_emulator.enqueue(Reply(text="It is 18 °C in Paris."))
    conversation = [
        LLMMessage(role="user", content="Weather in Paris?"),
        LLMMessage(role="assistant", content="", tool_calls=(CALL,)),
        LLMMessage(role="tool", content='{"temp": 18}', tool_call_id=CALL.id),
    ]

    response = await provider.complete(conversation, tools=[WEATHER])

    assert response.content == "It is 18 °C in Paris."
    turns = llm_emulator.requests[0].body["messages"]
    if backend.speaks_anthropic:
        assert turns[1]["role"] == "assistant"
        [tool_use] = [block for block in turns[1]["content"] if block["type"] == "tool_use"]
        assert (tool_use["id"], tool_use["name"]) == (CALL.id, CALL.name)
        assert tool_use["input"] == CALL.arguments
        assert turns[2]["role"] == "user"
        [result] = turns[2]["content"]
        assert result["type"] == "tool_result"
        assert result["tool_use_id"] == CALL.id
        assert "18" in json.dumps(result["content"])
    else:
        [call] = turns[1]["tool_calls"]
        assert call["id"] == CALL.id
        assert call["function"]["name"] == CALL.name
        assert json.loads(call["function"]["arguments"]) == CALL.arguments
        assert turns[2] == {"role": "tool", "tool_call_id": CALL.id, "content": '{"temp": 18}'}


async def test_streamed_tool_call_fragments_assemble_into_the_final_tool_call(
    provider: LLMProvider, llm_emulator: LLMEmulator
) -> None:
    second = ToolCall(id="toolu_02", name="get_weather", arguments={"city": "Oslo"})
    llm_emulator.enqueue(Reply(tool_calls=[CALL, second], chunk_chars=5))

    events = [event async for event in provider.stream("Paris and Oslo?", tools=[WEATHER])]

    fragments = [event.tool_call for event in events if event.type == "tool_call"]
    assert len(fragments) > 4  # names first, then the JSON in 5-character pieces
    by_index: dict[int, str] = {}
    for fragment in fragments:
        assert fragment is not None
        by_index[fragment.index] = by_index.get(fragment.index, "") + fragment.arguments_delta
    assert {index: json.loads(text) for index, text in by_index.items()} == {
        0: CALL.arguments,
        1: second.arguments,
    }
    final = events[-1].response
    assert final is not None
    assert final.tool_calls == [CALL, second]
    assert final.finish_reason == "tool_calls"


def thinking_model(backend: Backend) -> str:
    """A model of the backend's family that supports thinking (GPT-4o does not reason)."""
    return (
        backend.model
        if backend.speaks_anthropic
        else backend.model.replace("gpt-4o", "gpt-5.4-mini")
    )


async def test_thinking_streams_thinking_deltas_before_the_answer(
    provider: LLMProvider, llm_emulator: LLMEmulator, backend: Backend
) -> None:
    thought = "The user wants a number; six times seven is forty-two."
    llm_emulator.enqueue(Reply(text="42", thinking=thought, chunk_chars=8))

    events = [
        event
        async for event in provider.stream(
            "6 x 7?", model=thinking_model(backend), thinking=2048, max_tokens=4096
        )
    ]

    kinds = [event.type for event in events]
    assert kinds.index("thinking") < kinds.index("text")
    thinking = "".join(event.text for event in events if event.type == "thinking")
    final = events[-1].response
    assert final is not None
    assert thinking == final.thinking == thought
    assert final.content == "42"
    body = llm_emulator.requests[0].body
    if backend.speaks_anthropic:
        assert body["thinking"] == {"type": "enabled", "budget_tokens": 2048}
        assert "temperature" not in body
    else:
        assert body["reasoning_effort"] == "low"
        assert body["max_completion_tokens"] == 4096
        assert "max_tokens" not in body


async def test_thinking_with_temperature_is_refused_before_anything_is_sent(
    provider: LLMProvider, llm_emulator: LLMEmulator, backend: Backend
) -> None:
    with pytest.raises(UnsupportedOptionError, match="temperature") as caught:
        await provider.complete(
            "6 x 7?", model=thinking_model(backend), thinking=2048, max_tokens=4096, temperature=0.2
        )

    assert "Drop" in str(caught.value)
    assert llm_emulator.requests == []


async def test_a_misspelled_option_is_refused_before_anything_is_sent(
    provider: LLMProvider, llm_emulator: LLMEmulator
) -> None:
    with pytest.raises(UnsupportedOptionError, match="top_pp"):
        await provider.complete("hi", top_pp=0.5)

    assert llm_emulator.requests == []


async def test_supported_passthrough_options_reach_the_api(
    make_provider: Callable[..., LLMProvider], llm_emulator: LLMEmulator, backend: Backend
) -> None:
    configured, per_call = (
        ({"stop_sequences": ["END"]}, {"metadata": {"user_id": "u-1"}})
        if backend.name == "claude"
        else ({"top_p": 0.5}, {"temperature": 0.3})
    )
    provider = make_provider(options=configured)

    await provider.complete("hi", **per_call)

    body = llm_emulator.requests[0].body
    assert {name: body[name] for name in {**configured, **per_call}} == {**configured, **per_call}
