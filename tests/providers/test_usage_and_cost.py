"""Tokens and dollars: counted by our convention (cache tokens inside ``tokens_input``) and
priced to the cent, for whole and streamed answers, in the response and in the ledger.

Expected costs are worked out by hand from the published prices:
claude-sonnet-4-6: $3 input, $15 output, $0.30 cache read, $3.75 cache write (per MTok);
gpt-4o: $2.50 input, $10 output, $1.25 cached input (OpenAI has no cache-write charge).
"""

from __future__ import annotations

import pytest

from orchestify_nb.providers.base import LLMProvider
from orchestify_nb.providers.types import LLMResponse
from orchestify_nb.testing import LLMEmulator, Reply
from orchestify_nb.usage.ledger import Ledger
from tests.providers.conftest import Backend

# 12,000 prompt tokens in all: 8,000 read from the cache, 2,000 written to it (Anthropic only).
CLAUDE_REPLY = Reply(
    text="A cached answer.",
    input_tokens=12_000,
    output_tokens=800,
    cache_read_tokens=8_000,
    cache_write_tokens=2_000,
)
# (12,000 - 8,000 - 2,000) x $3 + 8,000 x $0.30 + 2,000 x $3.75 + 800 x $15, per million
CLAUDE_COST = (2_000 * 3 + 8_000 * 0.30 + 2_000 * 3.75 + 800 * 15) / 1e6  # $0.0279

OPENAI_REPLY = Reply(
    text="A cached answer.", input_tokens=12_000, output_tokens=800, cache_read_tokens=8_000
)
# (12,000 - 8,000) x $2.50 + 8,000 x $1.25 + 800 x $10, per million
OPENAI_COST = (4_000 * 2.50 + 8_000 * 1.25 + 800 * 10) / 1e6  # $0.028


def scripted_usage(backend: Backend) -> tuple[Reply, float]:
    return (CLAUDE_REPLY, CLAUDE_COST) if backend.speaks_anthropic else (OPENAI_REPLY, OPENAI_COST)


def assert_usage_and_cost(response: LLMResponse, reply: Reply, cost: float) -> None:
    assert response.tokens_input == reply.input_tokens
    assert response.tokens_output == reply.output_tokens
    assert response.cache_read_tokens == reply.cache_read_tokens
    assert response.cache_write_tokens == reply.cache_write_tokens
    assert response.priced is True
    assert response.cost_usd == pytest.approx(cost, abs=1e-9)
    assert round(response.cost_usd or 0.0, 2) == round(cost, 2)


async def test_complete_counts_cache_tokens_and_prices_them_to_the_cent(
    provider: LLMProvider, llm_emulator: LLMEmulator, backend: Backend, isolated_ledger: Ledger
) -> None:
    reply, cost = scripted_usage(backend)
    llm_emulator.enqueue(reply)

    response = await provider.complete("What did we cache?")

    assert_usage_and_cost(response, reply, cost)
    [record] = isolated_ledger.records()
    assert record.id == response.record_id
    assert record.status == "ok"
    assert (record.input_tokens, record.output_tokens) == (reply.input_tokens, reply.output_tokens)
    assert record.cache_read_tokens == reply.cache_read_tokens
    assert record.cache_write_tokens == reply.cache_write_tokens
    assert record.cost_usd == pytest.approx(cost, abs=1e-9)
    assert record.provider_type == provider.provider_type
    assert record.model_requested == backend.model


async def test_stream_counts_cache_tokens_and_prices_them_to_the_cent(
    provider: LLMProvider, llm_emulator: LLMEmulator, backend: Backend, isolated_ledger: Ledger
) -> None:
    reply, cost = scripted_usage(backend)
    llm_emulator.enqueue(reply)

    events = [event async for event in provider.stream("What did we cache?")]

    final = events[-1].response
    assert final is not None
    assert_usage_and_cost(final, reply, cost)
    [record] = isolated_ledger.records()
    assert record.status == "ok"
    assert record.cost_usd == pytest.approx(cost, abs=1e-9)
    assert record.time_to_first_token_s is not None


REASONING_REPLY = Reply(
    text="42.",
    thinking="Let me weigh the options carefully. " * 5,
    output_tokens=300,
    reasoning_tokens=250,
)


async def test_reasoning_tokens_are_reported_inside_output_tokens(
    provider: LLMProvider, llm_emulator: LLMEmulator, isolated_ledger: Ledger
) -> None:
    llm_emulator.enqueue(REASONING_REPLY)

    response = await provider.complete("Think, then answer.")

    assert response.tokens_output == 300
    assert response.reasoning_tokens == 250
    [record] = isolated_ledger.records()
    assert record.reasoning_tokens == 250


async def test_streamed_reasoning_tokens_are_reported_inside_output_tokens(
    provider: LLMProvider, llm_emulator: LLMEmulator, isolated_ledger: Ledger
) -> None:
    llm_emulator.enqueue(REASONING_REPLY)

    events = [event async for event in provider.stream("Think, then answer.")]

    final = events[-1].response
    assert final is not None
    assert (final.tokens_output, final.reasoning_tokens) == (300, 250)
    [record] = isolated_ledger.records()
    assert record.reasoning_tokens == 250


async def test_provider_totals_add_up_every_call(
    provider: LLMProvider, llm_emulator: LLMEmulator, backend: Backend
) -> None:
    reply, cost = scripted_usage(backend)
    llm_emulator.enqueue(reply, reply)

    await provider.complete("one")
    [event async for event in provider.stream("two")]

    usage = provider.get_usage()
    assert usage.call_count == 2
    assert usage.total_input == 2 * (reply.input_tokens or 0)
    assert usage.total_output == 2 * (reply.output_tokens or 0)
    assert usage.total_cache_read == 2 * reply.cache_read_tokens
    assert usage.total_cost_usd == pytest.approx(2 * cost, abs=1e-9)
    provider.reset_usage()
    assert provider.get_usage().call_count == 0
