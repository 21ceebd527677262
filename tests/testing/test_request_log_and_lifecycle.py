"""The request log records what was sent (never a key), and stopping leaves nothing behind."""

from __future__ import annotations

import asyncio
import socket
import threading
import time

import anthropic
import httpx2
import openai
import pytest

from orchestify_nb.testing import LLMEmulator, Reply


async def test_log_records_api_path_body_and_stream_flag(
    llm_emulator: LLMEmulator, claude: anthropic.AsyncAnthropic, gpt: openai.AsyncOpenAI
) -> None:
    await claude.messages.create(
        model="claude-haiku-4-5",
        max_tokens=32,
        system="Be brief.",
        messages=[{"role": "user", "content": "Hi"}],
    )
    stream = await gpt.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "Yo"}], stream=True
    )
    _ = [chunk async for chunk in stream]
    first, second = llm_emulator.requests
    assert (first.api, first.path, first.stream) == ("anthropic", "/v1/messages", False)
    assert first.body["system"] == "Be brief."
    assert first.body["max_tokens"] == 32
    assert (second.api, second.path, second.stream) == ("openai", "/v1/chat/completions", True)
    assert second.body["messages"] == [{"role": "user", "content": "Yo"}]
    assert first.received_at <= second.received_at


async def test_log_masks_every_api_key_header(
    llm_emulator: LLMEmulator, claude: anthropic.AsyncAnthropic, gpt: openai.AsyncOpenAI
) -> None:
    await claude.messages.create(
        model="claude-haiku-4-5", max_tokens=8, messages=[{"role": "user", "content": "Hi"}]
    )
    await gpt.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "Hi"}],
        extra_headers={"x-api-key": "test-key", "api-key": "test-key"},
    )
    for entry in llm_emulator.requests:
        assert "test-key" not in repr(entry)
        masked = {name: value for name, value in entry.headers.items() if value == "***"}
        assert masked, f"no key header was masked in {entry.headers}"
    assert llm_emulator.requests[1].headers["authorization"] == "***"
    assert llm_emulator.requests[1].headers["api-key"] == "***"


async def test_reset_forgets_queue_and_log(
    llm_emulator: LLMEmulator, gpt: openai.AsyncOpenAI
) -> None:
    llm_emulator.enqueue(Reply(text="one"), Reply(text="two"))
    await gpt.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "a"}]
    )
    llm_emulator.reset()
    assert (llm_emulator.requests, llm_emulator.pending) == ([], 0)
    completion = await gpt.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "echoed"}]
    )
    assert completion.choices[0].message.content == "echoed"


def test_stop_closes_the_port_and_joins_the_thread() -> None:
    threads_before = set(threading.enumerate())
    with LLMEmulator() as emu:
        port = int(emu.base_url.rsplit(":", 1)[1])
        client = anthropic.Anthropic(base_url=emu.base_url, api_key="test-key", max_retries=0)
        client.messages.create(  # leaves a keep-alive connection open at stop time
            model="claude-haiku-4-5", max_tokens=8, messages=[{"role": "user", "content": "Hi"}]
        )
    assert set(threading.enumerate()) == threads_before
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port)):
        pass
    with pytest.raises(anthropic.APIConnectionError):
        client.messages.create(
            model="claude-haiku-4-5", max_tokens=8, messages=[{"role": "user", "content": "Hi"}]
        )
    client.close()


def test_base_url_before_start_explains_how_to_start() -> None:
    with pytest.raises(RuntimeError, match="not running"):
        _ = LLMEmulator().base_url


def test_a_busy_port_fails_start_without_leaving_a_thread() -> None:
    threads_before = set(threading.enumerate())
    with LLMEmulator() as running:
        busy_port = int(running.base_url.rsplit(":", 1)[1])
        with pytest.raises(OSError):
            LLMEmulator(port=busy_port).start()
    assert set(threading.enumerate()) == threads_before


def test_start_stop_methods_work_without_a_with_block() -> None:
    emu = LLMEmulator().start()
    try:
        with httpx2.Client(base_url=emu.openai_base_url) as http:
            assert http.get("/models").status_code == 200
    finally:
        emu.stop()
    emu.stop()  # a second stop is harmless


async def test_serves_150_concurrent_streams_on_separate_connections() -> None:
    """All 150 requests reach the server before its 5 s latency lets the first one answer."""
    limits = httpx2.Limits(max_connections=200, max_keepalive_connections=200)
    with LLMEmulator(latency_s=5.0) as emu:
        async with openai.AsyncOpenAI(
            base_url=emu.openai_base_url,
            api_key="test-key",
            max_retries=0,
            http_client=openai.DefaultAsyncHttpxClient(limits=limits),
        ) as client:
            answered_at: list[float] = []

            async def ask(number: int) -> str:
                stream = await client.chat.completions.create(
                    model="gpt-4o-mini",
                    messages=[{"role": "user", "content": f"request {number}"}],
                    stream=True,
                )
                answered_at.append(time.time())
                chunks = [chunk async for chunk in stream if chunk.choices]
                return "".join(chunk.choices[0].delta.content or "" for chunk in chunks)

            answers = await asyncio.gather(*(ask(number) for number in range(150)))
        received_at = [entry.received_at for entry in emu.requests]
    assert answers == [f"request {number}" for number in range(150)]
    assert len(received_at) == 150
    assert max(received_at) < min(answered_at)  # served concurrently, not one after another
