"""A tool loop with extended thinking on Claude: the signed thinking of the assistant turn that
called the tools goes back, unchanged and first, with the tool results (the API refuses the
results otherwise), carried by ``LLMResponse.provider_blocks`` and ``to_message()``.

Each test runs on both routes to the Anthropic API: the anthropic SDK (``ClaudeProvider``) and
LiteLLM's ``anthropic/`` models, whose ``thinking_blocks`` carry the same blocks."""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest

from orchestify_nb.errors import BadRequestError
from orchestify_nb.providers.base import LLMProvider
from orchestify_nb.providers.claude import ClaudeProvider
from orchestify_nb.providers.litellm_provider import LiteLLMProvider, StreamedThinkingBlocks
from orchestify_nb.providers.openai_provider import OpenAIProvider
from orchestify_nb.providers.types import LLMMessage, LLMResponse, ToolCall, ToolSpec
from orchestify_nb.testing import LLMEmulator, Reply
from orchestify_nb.testing.anthropic_api import sign_thinking
from tests.providers.conftest import BACKENDS

WEATHER = ToolSpec(
    name="get_weather",
    description="Current weather for a city.",
    parameters={"type": "object", "properties": {"city": {"type": "string"}}},
)
CALL = ToolCall(id="toolu_01", name="get_weather", arguments={"city": "Paris"})
THOUGHT = "The user wants the weather in Paris; the get_weather tool can tell."
THINKING: dict[str, Any] = {"tools": [WEATHER], "thinking": 2048, "max_tokens": 4096}


ANTHROPIC_ROUTES = [backend for backend in BACKENDS if backend.speaks_anthropic]
#: Runs a test once per route to the Anthropic API (``claude``, ``litellm-anthropic``).
anthropic_routes = pytest.mark.parametrize(
    "backend", ANTHROPIC_ROUTES, indirect=True, ids=[backend.name for backend in ANTHROPIC_ROUTES]
)


@pytest.fixture
def claude(make_provider: Callable[..., LLMProvider]) -> LLMProvider:
    """A thinking Claude model on the route under test, without retries."""
    return make_provider(max_retries=0)


async def ask(provider: LLMProvider, messages: list[LLMMessage], streamed: bool) -> LLMResponse:
    if not streamed:
        return await provider.complete(messages, **THINKING)
    events = [event async for event in provider.stream(messages, **THINKING)]
    final = events[-1].response
    assert final is not None
    return final


@anthropic_routes
@pytest.mark.parametrize("streamed", [False, True], ids=["complete", "stream"])
async def test_a_tool_loop_with_thinking_sends_the_signed_thinking_back_before_the_tool_use(
    claude: LLMProvider, llm_emulator: LLMEmulator, streamed: bool
) -> None:
    llm_emulator.enqueue(
        Reply(thinking=THOUGHT, tool_calls=[CALL], chunk_chars=7), Reply(text="It is 18 °C.")
    )
    messages = [LLMMessage(role="user", content="Weather in Paris?")]

    first = await ask(claude, messages, streamed)
    messages.append(first.to_message())
    messages.append(LLMMessage(role="tool", content='{"temp": 18}', tool_call_id=CALL.id))
    second = await ask(claude, messages, streamed)

    signed = {"type": "thinking", "thinking": THOUGHT, "signature": sign_thinking(THOUGHT)}
    assert first.provider_blocks == (signed,)
    assert first.tool_calls == [CALL] and first.thinking == THOUGHT
    assert "signature" not in repr(first)  # long opaque blobs stay out of the repr
    assert second.content == "It is 18 °C."
    assistant = llm_emulator.requests[1].body["messages"][1]
    assert assistant["role"] == "assistant"
    assert assistant["content"] == [
        signed,
        {"type": "tool_use", "id": CALL.id, "name": CALL.name, "input": CALL.arguments},
    ]


@anthropic_routes
async def test_a_tool_turn_without_its_thinking_is_refused_by_the_api(
    claude: LLMProvider, llm_emulator: LLMEmulator
) -> None:
    """What ``to_message()`` prevents: the turn rebuilt by hand loses the signed thinking."""
    llm_emulator.enqueue(Reply(thinking=THOUGHT, tool_calls=[CALL]))
    first = await claude.complete("Weather in Paris?", **THINKING)
    messages = [
        LLMMessage(role="user", content="Weather in Paris?"),
        LLMMessage(role="assistant", content=first.content, tool_calls=tuple(first.tool_calls)),
        LLMMessage(role="tool", content='{"temp": 18}', tool_call_id=CALL.id),
    ]

    with pytest.raises(BadRequestError, match="must start with a thinking block"):
        await claude.complete(messages, **THINKING)


@anthropic_routes
@pytest.mark.parametrize("streamed", [False, True], ids=["complete", "stream"])
async def test_redacted_thinking_is_kept_in_order_and_replayed_verbatim(
    claude: LLMProvider, llm_emulator: LLMEmulator, streamed: bool
) -> None:
    llm_emulator.enqueue(
        Reply(thinking=THOUGHT, redacted_thinking="EncryptedBlob==", tool_calls=[CALL]),
        Reply(text="Done."),
    )
    messages = [LLMMessage(role="user", content="Weather in Paris?")]

    first = await ask(claude, messages, streamed)
    messages += [
        first.to_message(),
        LLMMessage(role="tool", content="18", tool_call_id=CALL.id),
    ]
    await ask(claude, messages, streamed)

    assert [block["type"] for block in first.provider_blocks] == ["thinking", "redacted_thinking"]
    assert first.provider_blocks[1] == {"type": "redacted_thinking", "data": "EncryptedBlob=="}
    sent = llm_emulator.requests[1].body["messages"][1]["content"]
    assert sent[:2] == list(first.provider_blocks)
    assert sent[2]["type"] == "tool_use"


@anthropic_routes
async def test_the_final_answer_turn_carries_its_thinking_into_the_next_question(
    claude: LLMProvider, llm_emulator: LLMEmulator
) -> None:
    llm_emulator.enqueue(Reply(text="Paris.", thinking=THOUGHT), Reply(text="About 2 million."))
    messages = [LLMMessage(role="user", content="Capital of France?")]

    messages.append((await claude.complete(messages, **THINKING)).to_message())
    messages.append(LLMMessage(role="user", content="Its population?"))
    await claude.complete(messages, **THINKING)

    assert llm_emulator.requests[1].body["messages"][1]["content"] == [
        {"type": "thinking", "thinking": THOUGHT, "signature": sign_thinking(THOUGHT)},
        {"type": "text", "text": "Paris."},
    ]


async def test_other_providers_ignore_claudes_provider_blocks(llm_emulator: LLMEmulator) -> None:
    provider = OpenAIProvider(api_key="k", base_url=llm_emulator.openai_base_url, max_retries=0)
    turn = LLMMessage(
        role="assistant",
        content="",
        tool_calls=(CALL,),
        provider_blocks=({"type": "thinking", "thinking": THOUGHT, "signature": "sig"},),
    )
    messages = [
        LLMMessage(role="user", content="Weather in Paris?"),
        turn,
        LLMMessage(role="tool", content="18", tool_call_id=CALL.id),
    ]

    await provider.complete(messages, model="gpt-4o", tools=[WEATHER])
    await provider.aclose()

    sent = llm_emulator.requests[0].body["messages"][1]
    assert set(sent) == {"role", "content", "tool_calls"}
    assert THOUGHT not in str(llm_emulator.requests[0].body)


@pytest.mark.parametrize(
    ("first_class", "model"),
    [(ClaudeProvider, "claude-sonnet-4-6"), (LiteLLMProvider, "anthropic/claude-sonnet-4-6")],
    ids=["claude-then-litellm", "litellm-then-claude"],
)
async def test_a_tool_loop_can_move_between_claude_and_litellm_mid_conversation(
    llm_emulator: LLMEmulator, first_class: type[LLMProvider], model: str
) -> None:
    """Both keep the blocks in the Messages API's own shape, so either takes the other's."""
    settings: dict[str, Any] = {"api_key": "k", "base_url": llm_emulator.base_url, "max_retries": 0}
    second_class = LiteLLMProvider if first_class is ClaudeProvider else ClaudeProvider
    second_model = "claude-sonnet-4-6" if first_class is LiteLLMProvider else model
    first_provider = first_class(default_model=model, **settings)
    second_provider = second_class(default_model=second_model, **settings)
    llm_emulator.enqueue(Reply(thinking=THOUGHT, tool_calls=[CALL]), Reply(text="18 °C."))
    messages = [LLMMessage(role="user", content="Weather in Paris?")]

    messages.append((await first_provider.complete(messages, **THINKING)).to_message())
    messages.append(LLMMessage(role="tool", content="18", tool_call_id=CALL.id))
    second = await second_provider.complete(messages, **THINKING)
    await first_provider.aclose()
    await second_provider.aclose()

    assert second.content == "18 °C."
    assert llm_emulator.requests[1].body["messages"][1]["content"][0] == {
        "type": "thinking",
        "thinking": THOUGHT,
        "signature": sign_thinking(THOUGHT),
    }


def test_litellm_stream_fragments_become_whole_signed_blocks_in_their_order() -> None:
    """LiteLLM streams each block as numbered fragments (text pieces, then the signature);
    unsigned thinking and fragments without a number cannot go back and are left out."""
    fragments: list[dict[str, Any]] = [
        {"type": "thinking", "thinking": "Let me ", "index": 0},
        {"type": "thinking", "thinking": "think.", "index": 0},
        {"type": "thinking", "thinking": "", "signature": "sig-", "index": 0},
        {"type": "thinking", "thinking": "", "signature": "nature", "index": 0},
        {"type": "thinking", "thinking": "stray", "signature": "s"},  # no index
        {"type": "thinking", "thinking": "unsigned", "index": 2},
        {"type": "redacted_thinking", "data": "Blob==", "index": 1},
    ]
    streamed = StreamedThinkingBlocks()

    for fragment in fragments:
        streamed.add(SimpleNamespace(thinking_blocks=[fragment]))
    streamed.add(SimpleNamespace(thinking_blocks=None))  # a delta carrying none

    assert streamed.blocks() == (
        {"type": "thinking", "thinking": "Let me think.", "signature": "sig-nature"},
        {"type": "redacted_thinking", "data": "Blob=="},
    )
