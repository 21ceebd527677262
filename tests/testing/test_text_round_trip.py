"""The real SDKs parse the emulator's plain-text answers, streamed and not."""

from __future__ import annotations

import anthropic
import openai

from orchestify_nb.testing import LLMEmulator, Reply

CLAUDE = "claude-haiku-4-5"
GPT = "gpt-4o-mini"


async def test_anthropic_message_returns_scripted_text_and_usage(
    llm_emulator: LLMEmulator, claude: anthropic.AsyncAnthropic
) -> None:
    llm_emulator.enqueue(Reply(text="Hello!", input_tokens=12, output_tokens=5))
    message = await claude.messages.create(
        model=CLAUDE, max_tokens=64, messages=[{"role": "user", "content": "Hi"}]
    )
    assert [block.type for block in message.content] == ["text"]
    assert message.content[0].text == "Hello!"  # type: ignore[union-attr]
    assert (message.usage.input_tokens, message.usage.output_tokens) == (12, 5)
    assert message.stop_reason == "end_turn"
    assert message.model == CLAUDE


async def test_anthropic_stream_deltas_concatenate_to_scripted_text(
    llm_emulator: LLMEmulator, claude: anthropic.AsyncAnthropic
) -> None:
    llm_emulator.enqueue(Reply(text="The quick brown fox", chunk_chars=3))
    async with claude.messages.stream(
        model=CLAUDE, max_tokens=64, messages=[{"role": "user", "content": "Hi"}]
    ) as stream:
        deltas = [text async for text in stream.text_stream]
        final = await stream.get_final_message()
    assert deltas[0] == "The"
    assert "".join(deltas) == "The quick brown fox"
    assert final.content[0].text == "The quick brown fox"  # type: ignore[union-attr]
    assert final.stop_reason == "end_turn"


async def test_openai_completion_returns_scripted_text_and_usage(
    llm_emulator: LLMEmulator, gpt: openai.AsyncOpenAI
) -> None:
    llm_emulator.enqueue(Reply(text="Hello!", input_tokens=12, output_tokens=5))
    completion = await gpt.chat.completions.create(
        model=GPT, messages=[{"role": "user", "content": "Hi"}]
    )
    assert completion.choices[0].message.content == "Hello!"
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (12, 5)


async def test_openai_stream_deltas_concatenate_to_scripted_text(
    llm_emulator: LLMEmulator, gpt: openai.AsyncOpenAI
) -> None:
    llm_emulator.enqueue(Reply(text="The quick brown fox", chunk_chars=3))
    stream = await gpt.chat.completions.create(
        model=GPT, messages=[{"role": "user", "content": "Hi"}], stream=True
    )
    chunks = [chunk async for chunk in stream]
    text = "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices)
    assert text == "The quick brown fox"
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert all(chunk.usage is None for chunk in chunks)  # no usage chunk unless asked for


async def test_empty_queue_echoes_last_user_message_on_both_apis(
    claude: anthropic.AsyncAnthropic, gpt: openai.AsyncOpenAI
) -> None:
    message = await claude.messages.create(
        model=CLAUDE,
        max_tokens=64,
        messages=[
            {"role": "user", "content": "first"},
            {"role": "assistant", "content": "ok"},
            {"role": "user", "content": [{"type": "text", "text": "echo me"}]},
        ],
    )
    completion = await gpt.chat.completions.create(
        model=GPT, messages=[{"role": "user", "content": "echo you"}]
    )
    assert message.content[0].text == "echo me"  # type: ignore[union-attr]
    assert completion.choices[0].message.content == "echo you"


async def test_queue_is_shared_and_consumed_in_order(
    llm_emulator: LLMEmulator, claude: anthropic.AsyncAnthropic, gpt: openai.AsyncOpenAI
) -> None:
    llm_emulator.enqueue(Reply(text="one"), Reply(text="two"))
    first = await gpt.chat.completions.create(
        model=GPT, messages=[{"role": "user", "content": "Hi"}]
    )
    second = await claude.messages.create(
        model=CLAUDE, max_tokens=8, messages=[{"role": "user", "content": "Hi"}]
    )
    assert first.choices[0].message.content == "one"
    assert second.content[0].text == "two"  # type: ignore[union-attr]
    assert llm_emulator.pending == 0
