"""Each scripted fault surfaces as the real SDK's matching exception, then the queue moves on."""

from __future__ import annotations

import asyncio
from typing import Any

import anthropic
import httpx2
import openai
import pytest

from orchestify_nb.testing import Fault, LLMEmulator, Reply

CLAUDE_ARGS: dict[str, Any] = {
    "model": "claude-haiku-4-5",
    "max_tokens": 64,
    "messages": [{"role": "user", "content": "Hi"}],
}
GPT_ARGS: dict[str, Any] = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hi"}]}
LONG = Reply(text="a fairly long answer that needs many chunks to stream", chunk_chars=2)


async def test_rate_limit_then_success_on_anthropic(
    llm_emulator: LLMEmulator, claude: anthropic.AsyncAnthropic
) -> None:
    llm_emulator.enqueue(Fault.rate_limit(retry_after=1), Reply(text="ok"))
    with pytest.raises(anthropic.RateLimitError) as caught:
        await claude.messages.create(**CLAUDE_ARGS)
    assert caught.value.status_code == 429
    assert caught.value.response.headers["retry-after"] == "1"
    assert caught.value.body["error"]["type"] == "rate_limit_error"  # type: ignore[index]
    message = await claude.messages.create(**CLAUDE_ARGS)
    assert message.content[0].text == "ok"


async def test_rate_limit_then_success_on_openai(
    llm_emulator: LLMEmulator, gpt: openai.AsyncOpenAI
) -> None:
    llm_emulator.enqueue(Fault.rate_limit(retry_after=2.5), Reply(text="ok"))
    with pytest.raises(openai.RateLimitError) as caught:
        await gpt.chat.completions.create(**GPT_ARGS)
    assert caught.value.response.headers["retry-after"] == "2.5"
    assert caught.value.code == "rate_limit_exceeded"
    completion = await gpt.chat.completions.create(**GPT_ARGS)
    assert completion.choices[0].message.content == "ok"


async def test_sdk_own_retry_honours_retry_after_and_succeeds(llm_emulator: LLMEmulator) -> None:
    llm_emulator.enqueue(Fault.rate_limit(retry_after=0), Reply(text="after retry"))
    async with anthropic.AsyncAnthropic(
        base_url=llm_emulator.base_url, api_key="test-key", max_retries=1
    ) as client:
        message = await client.messages.create(**CLAUDE_ARGS)
    assert message.content[0].text == "after retry"
    assert len(llm_emulator.requests) == 2


async def test_server_error_and_overloaded_on_anthropic(
    llm_emulator: LLMEmulator, claude: anthropic.AsyncAnthropic
) -> None:
    llm_emulator.enqueue(Fault.server_error(), Fault.overloaded())
    with pytest.raises(anthropic.InternalServerError) as server_error:
        await claude.messages.create(**CLAUDE_ARGS)
    assert server_error.value.status_code == 500
    with pytest.raises(anthropic.APIStatusError) as overloaded:
        await claude.messages.create(**CLAUDE_ARGS)
    assert overloaded.value.status_code == 529
    assert overloaded.value.body["error"]["type"] == "overloaded_error"  # type: ignore[index]


async def test_server_error_and_overloaded_on_openai(
    llm_emulator: LLMEmulator, gpt: openai.AsyncOpenAI
) -> None:
    llm_emulator.enqueue(Fault.server_error(), Fault.overloaded())
    with pytest.raises(openai.InternalServerError) as server_error:
        await gpt.chat.completions.create(**GPT_ARGS)
    assert server_error.value.status_code == 500
    with pytest.raises(openai.InternalServerError) as overloaded:
        await gpt.chat.completions.create(**GPT_ARGS)
    assert overloaded.value.status_code == 503


async def test_unauthorized_raises_authentication_error_in_both_sdks(
    llm_emulator: LLMEmulator, claude: anthropic.AsyncAnthropic, gpt: openai.AsyncOpenAI
) -> None:
    llm_emulator.enqueue(Fault.unauthorized(), Fault.unauthorized())
    with pytest.raises(anthropic.AuthenticationError) as claude_error:
        await claude.messages.create(**CLAUDE_ARGS)
    with pytest.raises(openai.AuthenticationError) as gpt_error:
        await gpt.chat.completions.create(**GPT_ARGS)
    assert claude_error.value.body["error"]["type"] == "authentication_error"  # type: ignore[index]
    assert gpt_error.value.code == "invalid_api_key"
    assert "test-key" not in str(claude_error.value) + str(gpt_error.value)


async def test_required_api_key_rejects_other_keys() -> None:
    with LLMEmulator(api_key="right-key") as emu:
        async with (
            anthropic.AsyncAnthropic(base_url=emu.base_url, api_key="right-key") as right,
            openai.AsyncOpenAI(
                base_url=emu.openai_base_url, api_key="wrong", max_retries=0
            ) as wrong,
        ):
            message = await right.messages.create(**CLAUDE_ARGS)
            with pytest.raises(openai.AuthenticationError):
                await wrong.chat.completions.create(**GPT_ARGS)
    assert message.content[0].text == "Hi"


async def test_http_error_gives_a_bad_request_in_each_shape(
    llm_emulator: LLMEmulator, claude: anthropic.AsyncAnthropic, gpt: openai.AsyncOpenAI
) -> None:
    llm_emulator.enqueue(Fault.http_error(400, "prompt too long"), Fault.http_error(400, "nope"))
    with pytest.raises(anthropic.BadRequestError, match="prompt too long"):
        await claude.messages.create(**CLAUDE_ARGS)
    with pytest.raises(openai.BadRequestError, match="nope"):
        await gpt.chat.completions.create(**GPT_ARGS)


async def test_a_422_is_an_invalid_request_error_in_the_anthropic_shape(
    llm_emulator: LLMEmulator, claude: anthropic.AsyncAnthropic
) -> None:
    llm_emulator.enqueue(Fault.http_error(422, "unprocessable"))
    with pytest.raises(anthropic.UnprocessableEntityError, match="unprocessable") as caught:
        await claude.messages.create(**CLAUDE_ARGS)
    assert caught.value.status_code == 422
    assert caught.value.body["error"]["type"] == "invalid_request_error"  # type: ignore[index]


async def test_invalid_requests_get_the_real_apis_400(
    llm_emulator: LLMEmulator, claude: anthropic.AsyncAnthropic, gpt: openai.AsyncOpenAI
) -> None:
    with pytest.raises(anthropic.BadRequestError, match="system"):
        await claude.messages.create(
            model="claude-haiku-4-5",
            max_tokens=8,
            messages=[{"role": "system", "content": "x"}],
        )
    with pytest.raises(openai.BadRequestError, match="messages"):
        await gpt.chat.completions.create(model="gpt-4o-mini", messages=[])
    assert llm_emulator.pending == 0


async def test_dropped_anthropic_stream_raises_after_partial_text(
    llm_emulator: LLMEmulator, claude: anthropic.AsyncAnthropic
) -> None:
    llm_emulator.enqueue(Fault.drop_mid_stream(after_chunks=5, reply=LONG), Reply(text="next"))
    received: list[str] = []
    # anthropic 2.x lets its transport's error escape mid-stream (openai wraps it).
    with pytest.raises(httpx2.RemoteProtocolError):
        async with claude.messages.stream(**CLAUDE_ARGS) as stream:
            async for text in stream.text_stream:
                received.append(text)
    assert 0 < len("".join(received)) < len(LONG.text)
    message = await claude.messages.create(**CLAUDE_ARGS)  # the server keeps serving
    assert message.content[0].text == "next"


async def test_dropped_openai_stream_raises_after_partial_text(
    llm_emulator: LLMEmulator, gpt: openai.AsyncOpenAI
) -> None:
    llm_emulator.enqueue(Fault.drop_mid_stream(after_chunks=4, reply=LONG))
    received: list[str] = []
    with pytest.raises(openai.APIConnectionError):
        stream = await gpt.chat.completions.create(**GPT_ARGS, stream=True)
        async for chunk in stream:
            received.append(chunk.choices[0].delta.content or "")
    assert 0 < len("".join(received)) < len(LONG.text)


async def test_drop_on_a_non_streaming_request_is_a_connection_error(
    llm_emulator: LLMEmulator, claude: anthropic.AsyncAnthropic, gpt: openai.AsyncOpenAI
) -> None:
    llm_emulator.enqueue(Fault.drop_mid_stream(), Fault.drop_mid_stream())
    with pytest.raises(anthropic.APIConnectionError):
        await claude.messages.create(**CLAUDE_ARGS)
    with pytest.raises(openai.APIConnectionError):
        await gpt.chat.completions.create(**GPT_ARGS)


async def test_slow_first_token_holds_back_the_first_delta(
    llm_emulator: LLMEmulator, gpt: openai.AsyncOpenAI
) -> None:
    llm_emulator.enqueue(Fault.slow_first_token(0.3, Reply(text="slow start")))
    stream = await gpt.chat.completions.create(**GPT_ARGS, stream=True)
    arrivals: list[tuple[str, float]] = []
    loop_time = asyncio.get_running_loop().time
    opened = loop_time()
    async for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            arrivals.append((chunk.choices[0].delta.content, loop_time() - opened))
    assert "".join(text for text, _ in arrivals) == "slow start"
    assert arrivals[0][1] >= 0.3  # a lower bound only: never a flaky upper bound
