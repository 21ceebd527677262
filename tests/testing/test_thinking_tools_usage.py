"""Thinking, tool calls and cache/reasoning usage survive the real SDKs' parsing, in both APIs."""

from __future__ import annotations

import json
from typing import Any

import anthropic
import openai

from orchestify_nb.providers.types import ToolCall
from orchestify_nb.testing import LLMEmulator, Reply

CLAUDE = "claude-haiku-4-5"
GPT = "gpt-4o-mini"
WEATHER = ToolCall(id="toolu_01", name="get_weather", arguments={"city": "Paris", "days": [1, 2]})
RICH = Reply(
    text="Sunny.",
    thinking="The user wants weather; call the tool.",
    tool_calls=[WEATHER],
    input_tokens=1200,
    output_tokens=90,
    cache_read_tokens=1000,
    cache_write_tokens=150,
    reasoning_tokens=40,
    chunk_chars=5,
)


ANTHROPIC_ARGS: dict[str, Any] = {
    "model": CLAUDE,
    "max_tokens": 2048,
    "messages": [{"role": "user", "content": "Weather in Paris?"}],
}
OPENAI_ARGS: dict[str, Any] = {
    "model": GPT,
    "messages": [{"role": "user", "content": "Weather in Paris?"}],
}


def _check_anthropic_message(message: anthropic.types.Message) -> None:
    thinking, text, tool_use = message.content
    assert thinking.type == "thinking" and thinking.thinking == RICH.thinking
    assert thinking.signature
    assert text.type == "text" and text.text == "Sunny."
    assert tool_use.type == "tool_use"
    assert (tool_use.id, tool_use.name, tool_use.input) == (
        WEATHER.id,
        WEATHER.name,
        WEATHER.arguments,
    )
    assert message.stop_reason == "tool_use"
    usage = message.usage
    # Anthropic's input_tokens excludes the cache: 1200 total = 50 + 1000 read + 150 written.
    assert (usage.input_tokens, usage.cache_read_input_tokens) == (50, 1000)
    assert (usage.cache_creation_input_tokens, usage.output_tokens) == (150, 90)
    assert usage.output_tokens_details is not None
    assert usage.output_tokens_details.thinking_tokens == 40  # inside the 90


async def test_anthropic_message_carries_thinking_tool_use_and_cache_usage(
    llm_emulator: LLMEmulator, claude: anthropic.AsyncAnthropic
) -> None:
    llm_emulator.enqueue(RICH)
    _check_anthropic_message(await claude.messages.create(**ANTHROPIC_ARGS))


async def test_anthropic_stream_sends_thinking_signature_and_partial_json_deltas(
    llm_emulator: LLMEmulator, claude: anthropic.AsyncAnthropic
) -> None:
    llm_emulator.enqueue(RICH)
    delta_types: list[str] = []
    partial_json: list[str] = []
    thinking_so_far: list[int] = []
    async with claude.messages.stream(**ANTHROPIC_ARGS) as stream:
        async for event in stream:
            if event.type in ("message_start", "message_delta"):
                usage = event.message.usage if event.type == "message_start" else event.usage
                assert usage.output_tokens_details is not None
                thinking_so_far.append(usage.output_tokens_details.thinking_tokens)
            if event.type == "content_block_delta":
                delta_types.append(event.delta.type)
                if event.delta.type == "input_json_delta":
                    partial_json.append(event.delta.partial_json)
        final = await stream.get_final_message()
    assert {"thinking_delta", "signature_delta", "text_delta", "input_json_delta"} <= set(
        delta_types
    )
    assert len(partial_json) > 1
    assert json.loads("".join(partial_json)) == WEATHER.arguments
    assert thinking_so_far == [0, 40]  # nothing generated at message_start; all by the end
    _check_anthropic_message(final)


async def test_anthropic_usage_has_no_thinking_details_without_thinking(
    llm_emulator: LLMEmulator, claude: anthropic.AsyncAnthropic
) -> None:
    llm_emulator.enqueue(Reply(text="Plain."), Reply(text="Plain."))
    message = await claude.messages.create(**ANTHROPIC_ARGS)
    async with claude.messages.stream(**ANTHROPIC_ARGS) as stream:
        streamed = await stream.get_final_message()
    assert message.usage.output_tokens_details is None
    assert streamed.usage.output_tokens_details is None


def _check_openai_usage(usage: openai.types.CompletionUsage | None) -> None:
    assert usage is not None
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (1200, 90, 1290)
    assert usage.prompt_tokens_details is not None
    assert usage.prompt_tokens_details.cached_tokens == 1000
    assert usage.completion_tokens_details is not None
    assert usage.completion_tokens_details.reasoning_tokens == 40


async def test_openai_completion_carries_tool_calls_and_cached_reasoning_usage(
    llm_emulator: LLMEmulator, gpt: openai.AsyncOpenAI
) -> None:
    llm_emulator.enqueue(RICH)
    completion = await gpt.chat.completions.create(**OPENAI_ARGS)
    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content == "Sunny."
    assert choice.message.tool_calls is not None
    (call,) = choice.message.tool_calls
    assert call.type == "function"
    assert (call.id, call.function.name) == (WEATHER.id, WEATHER.name)
    assert json.loads(call.function.arguments) == WEATHER.arguments
    _check_openai_usage(completion.usage)


async def test_openai_stream_sends_tool_call_pieces_and_a_final_usage_chunk(
    llm_emulator: LLMEmulator, gpt: openai.AsyncOpenAI
) -> None:
    llm_emulator.enqueue(RICH)
    stream = await gpt.chat.completions.create(
        **OPENAI_ARGS, stream=True, stream_options={"include_usage": True}
    )
    chunks = [chunk async for chunk in stream]
    pieces: list[str] = []
    names: list[str] = []
    for chunk in chunks:
        for call in (chunk.choices[0].delta.tool_calls or []) if chunk.choices else []:
            assert call.index == 0
            names += [call.function.name] if call.function and call.function.name else []
            pieces += [call.function.arguments] if call.function and call.function.arguments else []
    assert names == [WEATHER.name]
    assert len(pieces) > 1
    assert json.loads("".join(pieces)) == WEATHER.arguments
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Sunny."
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "tool_calls"
    assert chunks[-1].choices == []
    _check_openai_usage(chunks[-1].usage)


async def test_openai_stream_accumulates_with_the_sdk_stream_helper(
    llm_emulator: LLMEmulator, gpt: openai.AsyncOpenAI
) -> None:
    llm_emulator.enqueue(RICH)
    async with gpt.chat.completions.stream(
        **OPENAI_ARGS, stream_options={"include_usage": True}
    ) as stream:
        final = await stream.get_final_completion()
    message = final.choices[0].message
    assert message.content == "Sunny."
    assert message.tool_calls is not None
    assert json.loads(message.tool_calls[0].function.arguments) == WEATHER.arguments
    _check_openai_usage(final.usage)


async def test_stop_reason_length_maps_to_each_apis_value(
    llm_emulator: LLMEmulator, claude: anthropic.AsyncAnthropic, gpt: openai.AsyncOpenAI
) -> None:
    llm_emulator.enqueue(
        Reply(text="cut", stop_reason="length"), Reply(text="cut", stop_reason="length")
    )
    message = await claude.messages.create(**ANTHROPIC_ARGS)
    completion = await gpt.chat.completions.create(**OPENAI_ARGS)
    assert message.stop_reason == "max_tokens"
    assert completion.choices[0].finish_reason == "length"


async def test_count_tokens_and_model_lists_parse_in_both_sdks(
    claude: anthropic.AsyncAnthropic, gpt: openai.AsyncOpenAI
) -> None:
    counted = await claude.messages.count_tokens(
        model=CLAUDE, messages=[{"role": "user", "content": "x" * 400}]
    )
    assert counted.input_tokens >= 100
    claude_ids = [model.id async for model in claude.models.list()]
    gpt_ids = [model.id async for model in gpt.models.list()]
    assert CLAUDE in claude_ids and all(i.startswith("claude-") for i in claude_ids)
    assert GPT in gpt_ids and not any(i.startswith("claude-") for i in gpt_ids)
    assert (await claude.models.retrieve(CLAUDE)).id == CLAUDE
    assert (await gpt.models.retrieve(GPT)).id == GPT
