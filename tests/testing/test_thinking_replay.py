"""Signed thinking, as the Anthropic API checks it when a tool loop sends it back: the blocks the
emulator issued are accepted unchanged, an altered one is refused, and with thinking enabled the
assistant turn that called tools must start with its thinking."""

from __future__ import annotations

from typing import Any

import anthropic
import pytest

from orchestify_nb.providers.types import ToolCall
from orchestify_nb.testing import LLMEmulator, Reply

WEATHER = ToolCall(id="toolu_01", name="get_weather", arguments={"city": "Paris"})
THOUGHT = "The user wants the weather; the tool knows it."
THINKING_ON: dict[str, Any] = {"type": "enabled", "budget_tokens": 1024}


def follow_up(assistant_content: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    """The second request of a tool loop: the question, the assistant turn, the tool result."""
    return {
        "model": "claude-haiku-4-5",
        "max_tokens": 2048,
        "messages": [
            {"role": "user", "content": "Weather in Paris?"},
            {"role": "assistant", "content": assistant_content},
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": WEATHER.id, "content": "18 C"}],
            },
        ],
        **extra,
    }


async def first_turn(emulator: LLMEmulator, client: anthropic.AsyncAnthropic) -> list[Any]:
    """The assistant's content blocks (thinking, tool_use) as the API would have them back."""
    emulator.enqueue(Reply(thinking=THOUGHT, tool_calls=[WEATHER]))
    message = await client.messages.create(
        model="claude-haiku-4-5",
        max_tokens=2048,
        thinking=THINKING_ON,
        messages=[{"role": "user", "content": "Weather in Paris?"}],
    )
    return [block.model_dump(exclude_none=True) for block in message.content]


async def test_signed_thinking_sent_back_unchanged_is_accepted(
    llm_emulator: LLMEmulator, claude: anthropic.AsyncAnthropic
) -> None:
    content = await first_turn(llm_emulator, claude)
    llm_emulator.enqueue(Reply(text="It is 18 C."))

    answer = await claude.messages.create(**follow_up(content, thinking=THINKING_ON))

    assert [block["type"] for block in content] == ["thinking", "tool_use"]
    assert answer.content[0].type == "text" and answer.content[0].text == "It is 18 C."


@pytest.mark.parametrize("altered", ["thinking", "signature"])
async def test_an_altered_thinking_block_is_refused_like_the_real_api(
    llm_emulator: LLMEmulator, claude: anthropic.AsyncAnthropic, altered: str
) -> None:
    content = await first_turn(llm_emulator, claude)
    content[0][altered] = content[0][altered][:-3] + "xyz"

    with pytest.raises(anthropic.BadRequestError, match="Invalid `signature` in `thinking` block"):
        await claude.messages.create(**follow_up(content, thinking=THINKING_ON))


async def test_with_thinking_on_a_tool_turn_must_start_with_its_thinking(
    llm_emulator: LLMEmulator, claude: anthropic.AsyncAnthropic
) -> None:
    content = await first_turn(llm_emulator, claude)
    without_thinking = content[1:]
    llm_emulator.enqueue(Reply(text="Fine without thinking."))

    with pytest.raises(
        anthropic.BadRequestError, match="Expected `thinking` or `redacted_thinking`"
    ):
        await claude.messages.create(**follow_up(without_thinking, thinking=THINKING_ON))
    answer = await claude.messages.create(**follow_up(without_thinking))  # thinking off: fine

    assert answer.content[0].type == "text" and answer.content[0].text == "Fine without thinking."


async def test_redacted_thinking_is_sent_whole_and_accepted_back(
    llm_emulator: LLMEmulator, claude: anthropic.AsyncAnthropic
) -> None:
    reply = Reply(thinking=THOUGHT, redacted_thinking="opaque-ciphertext", tool_calls=[WEATHER])
    llm_emulator.enqueue(reply, reply)
    arguments: dict[str, Any] = {
        "model": "claude-haiku-4-5",
        "max_tokens": 2048,
        "thinking": THINKING_ON,
        "messages": [{"role": "user", "content": "Weather in Paris?"}],
    }

    message = await claude.messages.create(**arguments)
    async with claude.messages.stream(**arguments) as stream:
        streamed = await stream.get_final_message()

    for answer in (message, streamed):
        assert [block.type for block in answer.content] == [
            "thinking",
            "redacted_thinking",
            "tool_use",
        ]
        assert answer.content[1].type == "redacted_thinking"
        assert answer.content[1].data == "opaque-ciphertext"
    redacted_first = [block.model_dump(exclude_none=True) for block in message.content][1:]
    llm_emulator.enqueue(Reply(text="It is 18 C."))
    answer = await claude.messages.create(**follow_up(redacted_first, thinking=THINKING_ON))
    assert answer.content[0].type == "text"
