"""Usage a server did not report is estimated, never recorded as 0; impossible counts a server
reports (negative, absurd) are replaced by the estimate with a warning, so they cannot refund a
budget."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable

import pytest

from orchestify_nb.providers.base import LLMProvider
from orchestify_nb.providers.openai_provider import OpenAIProvider
from orchestify_nb.providers.types import LLMResponse
from orchestify_nb.testing import LLMEmulator, Reply
from orchestify_nb.usage.ledger import Ledger
from tests.providers.conftest import BACKENDS, Backend

ANSWER = "The llama runs a server that forgets to count. " * 4


async def _ask(provider: LLMProvider, streaming: bool) -> LLMResponse:
    if not streaming:
        return await provider.complete("Count the tokens of this question, please.")
    async for event in provider.stream("Count the tokens of this question, please."):
        if event.response is not None:
            return event.response
    raise AssertionError("no final event")


@pytest.fixture
async def ledger() -> AsyncIterator[Ledger]:
    with Ledger(":memory:") as kept:
        yield kept


@pytest.mark.parametrize(
    "backend", [b for b in BACKENDS if not b.speaks_anthropic], ids=lambda b: b.name
)
async def test_a_stream_whose_server_sends_no_usage_records_estimated_tokens_not_zero(
    backend: Backend,
    make_provider: Callable[..., LLMProvider],
    llm_emulator: LLMEmulator,
    ledger: Ledger,
) -> None:
    # (The Messages API always carries usage; Chat Completions servers may leave it out.)
    provider = make_provider(usage_sink=ledger)
    llm_emulator.enqueue(Reply(text=ANSWER, reports_usage=False))

    response = await _ask(provider, streaming=True)

    assert response.content == ANSWER
    # LiteLLM counts a stream's tokens itself when the server sends none; we count otherwise.
    assert response.usage_estimated is (backend.provider_class is OpenAIProvider)
    assert response.tokens.input >= 8 and response.tokens.output >= 20
    assert response.cost_usd is not None and response.cost_usd > 0
    (record,) = ledger.records()
    assert record.usage_estimated is response.usage_estimated
    assert record.tokens == response.tokens
    assert record.cost_usd == response.cost_usd


@pytest.mark.parametrize("streaming", [False, True], ids=["complete", "stream"])
async def test_negative_usage_from_a_server_is_replaced_by_an_estimate_with_a_warning(
    streaming: bool,
    make_provider: Callable[..., LLMProvider],
    llm_emulator: LLMEmulator,
    ledger: Ledger,
    caplog: pytest.LogCaptureFixture,
) -> None:
    provider = make_provider(usage_sink=ledger)
    llm_emulator.enqueue(Reply(text=ANSWER, input_tokens=40, output_tokens=-1_000_000))

    with caplog.at_level(logging.WARNING, logger="orchestify_nb"):
        response = await _ask(provider, streaming)

    assert response.usage_estimated
    assert response.tokens.output > 0 and response.tokens.input > 0
    assert response.cost_usd is not None and response.cost_usd > 0
    assert ledger.totals().total_cost_usd > 0
    assert any("impossible token counts" in r.getMessage() for r in caplog.records)


async def test_reported_usage_is_kept_as_reported(
    make_provider: Callable[..., LLMProvider], llm_emulator: LLMEmulator, ledger: Ledger
) -> None:
    provider = make_provider(usage_sink=ledger)
    llm_emulator.enqueue(Reply(text=ANSWER, input_tokens=40, output_tokens=25))

    response = await _ask(provider, streaming=True)

    assert not response.usage_estimated
    assert (response.tokens.input, response.tokens.output) == (40, 25)
