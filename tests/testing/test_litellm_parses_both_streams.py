"""litellm's own OpenAI and Anthropic clients parse the emulator's streams, usage included."""

from __future__ import annotations

import os
from typing import Any

import pytest

from orchestify_nb.providers.types import ToolCall
from orchestify_nb.testing import LLMEmulator, Reply

os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"  # before the import: no network
litellm = pytest.importorskip("litellm")

REPLY = Reply(
    text="Streamed through litellm.",
    input_tokens=300,
    output_tokens=20,
    cache_read_tokens=200,
    reasoning_tokens=0,
)


async def _collect(**kwargs: Any) -> tuple[str, Any]:
    stream = await litellm.acompletion(
        messages=[{"role": "user", "content": "Hi"}],
        api_key="test-key",
        stream=True,
        stream_options={"include_usage": True},
        **kwargs,
    )
    text, usage = "", None
    async for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            text += chunk.choices[0].delta.content
        usage = getattr(chunk, "usage", None) or usage
    return text, usage


async def test_litellm_openai_stream_text_and_usage(llm_emulator: LLMEmulator) -> None:
    llm_emulator.enqueue(REPLY)
    text, usage = await _collect(model="openai/gpt-4o-mini", api_base=llm_emulator.openai_base_url)
    assert text == REPLY.text
    assert (usage.prompt_tokens, usage.completion_tokens) == (300, 20)
    assert usage.prompt_tokens_details.cached_tokens == 200
    assert llm_emulator.requests[0].api == "openai"


async def test_litellm_anthropic_stream_text_and_usage(llm_emulator: LLMEmulator) -> None:
    llm_emulator.enqueue(REPLY)
    text, usage = await _collect(
        model="anthropic/claude-sonnet-4-5", api_base=llm_emulator.base_url
    )
    assert text == REPLY.text
    assert usage.prompt_tokens == 300  # litellm adds the cache back in, as we do
    assert usage.completion_tokens == 20
    assert llm_emulator.requests[0].path == "/v1/messages"


async def test_litellm_reads_streamed_tool_calls_from_both_apis(llm_emulator: LLMEmulator) -> None:
    call = ToolCall(id="call_1", name="lookup", arguments={"q": "emulators"})
    llm_emulator.enqueue(Reply(tool_calls=[call]), Reply(tool_calls=[call]))
    for model, api_base in (
        ("openai/gpt-4o-mini", llm_emulator.openai_base_url),
        ("anthropic/claude-sonnet-4-5", llm_emulator.base_url),
    ):
        stream = await litellm.acompletion(
            model=model,
            api_base=api_base,
            api_key="test-key",
            messages=[{"role": "user", "content": "Hi"}],
            stream=True,
        )
        chunks = [chunk async for chunk in stream]
        rebuilt = litellm.stream_chunk_builder(chunks)
        (tool_call,) = rebuilt.choices[0].message.tool_calls
        assert tool_call.function.name == "lookup", model
        assert tool_call.function.arguments.replace(" ", "") == '{"q":"emulators"}', model
