"""Streams that do not finish: the connection drops, the caller stops reading, or the task is
cancelled. Each surfaces as the right outcome and leaves one ledger record saying what happened,
with the usage the API had reported by then."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import aclosing

import pytest

from orchestify_nb.errors import ProviderConnectionError
from orchestify_nb.providers.base import LLMProvider
from orchestify_nb.testing import Fault, LLMEmulator, Reply
from orchestify_nb.usage.ledger import Ledger
from tests.providers.conftest import Backend

LONG_REPLY = Reply(text="word " * 400, input_tokens=1_500, output_tokens=400, chunk_chars=5)


async def test_dropped_stream_raises_connection_error_and_records_the_partial_call(
    provider: LLMProvider, llm_emulator: LLMEmulator, backend: Backend, isolated_ledger: Ledger
) -> None:
    llm_emulator.enqueue(Fault.drop_mid_stream(after_chunks=8, reply=LONG_REPLY))
    received: list[str] = []

    with pytest.raises(ProviderConnectionError, match="connection"):
        async for event in provider.stream("Talk for a while."):
            received.append(event.text)

    assert received  # the drop came mid-answer, after text was shown ...
    assert len(llm_emulator.requests) == 1  # ... so it is not retried (text would repeat)
    [record] = isolated_ledger.records()
    assert (record.status, record.error_type) == ("error", "ProviderConnectionError")
    assert record.finish_reason == "error"
    if backend.usage_before_end:  # Anthropic reports the prompt's usage in message_start
        assert record.input_tokens == LONG_REPLY.input_tokens
        assert record.cost_usd is not None and record.cost_usd > 0
    else:  # Chat Completions reports usage only in the last chunk, which never came
        assert (record.input_tokens, record.output_tokens) == (0, 0)
        assert record.cost_usd is None


async def test_stream_dropped_before_any_text_is_retried_and_succeeds(
    provider: LLMProvider, llm_emulator: LLMEmulator, isolated_ledger: Ledger
) -> None:
    llm_emulator.enqueue(Fault.drop_mid_stream(after_chunks=1), Reply(text="Fresh start."))

    events = [event async for event in provider.stream("hi")]

    assert "".join(event.text for event in events if event.type == "text") == "Fresh start."
    assert len(llm_emulator.requests) == 2
    assert [record.status for record in isolated_ledger.records()] == ["ok"]


async def test_breaking_out_of_a_stream_records_it_as_cancelled(
    provider: LLMProvider, llm_emulator: LLMEmulator, backend: Backend, isolated_ledger: Ledger
) -> None:
    llm_emulator.enqueue(LONG_REPLY)
    received: list[str] = []

    async with aclosing(provider.stream("Talk for a while.")) as events:
        async for event in events:
            received.append(event.text)
            if len(received) == 3:
                break

    assert received == ["word "] * 3
    [record] = isolated_ledger.records()
    assert (record.status, record.finish_reason) == ("cancelled", "cancelled")
    if backend.usage_before_end:
        assert record.input_tokens == LONG_REPLY.input_tokens


async def test_cancelling_the_task_mid_stream_records_it_as_cancelled(
    make_provider: Callable[..., LLMProvider], llm_emulator: LLMEmulator, isolated_ledger: Ledger
) -> None:
    provider = make_provider()
    llm_emulator.enqueue(Reply(text="slow " * 200, chunk_chars=5, chunk_delay_s=0.05))
    first_text = asyncio.Event()

    async def consume() -> None:
        async for event in provider.stream("Talk slowly."):
            if event.type == "text":
                first_text.set()

    task = asyncio.create_task(consume())
    await first_text.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    [record] = isolated_ledger.records()
    assert record.status == "cancelled"
    assert record.time_to_first_token_s is not None
    # The provider is still usable after a cancelled call.
    llm_emulator.enqueue(Reply(text="Still here."))
    assert (await provider.complete("hi")).content == "Still here."
