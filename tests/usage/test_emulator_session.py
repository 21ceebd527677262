"""A scripted session over real HTTP: every call's tokens and cost land in the ledger exactly as
the responses report them, whichever SDK made the call, and the DataFrame shows the same numbers."""

from __future__ import annotations

import pytest

from orchestify_nb.errors import OverloadedError
from orchestify_nb.providers.claude import ClaudeProvider
from orchestify_nb.providers.openai_provider import OpenAIProvider
from orchestify_nb.providers.types import LLMResponse
from orchestify_nb.testing import Fault, LLMEmulator, Reply
from orchestify_nb.usage.context import call_context
from orchestify_nb.usage.ledger import Ledger


@pytest.fixture
async def session(
    llm_emulator: LLMEmulator, claude: ClaudeProvider, openai: OpenAIProvider
) -> list[LLMResponse]:
    """Five answers (complete and stream, cached and reasoning tokens) and one failed call."""
    llm_emulator.enqueue(
        Reply(text="Paris.", input_tokens=1_200, output_tokens=40),
        Reply(
            text="Cached.",
            input_tokens=12_000,
            output_tokens=800,
            cache_read_tokens=8_000,
            cache_write_tokens=2_000,
        ),
        Reply(text="Blue.", input_tokens=300, output_tokens=90, reasoning_tokens=60),
        Reply(
            text="Streamed from OpenAI.",
            input_tokens=5_000,
            output_tokens=250,
            cache_read_tokens=4_096,
        ),
        Reply(text="Streamed from Claude.", input_tokens=700, output_tokens=33),
        Fault.overloaded(),
    )
    responses = [await claude.complete("Capital of France?")]
    with call_context(tag="experiment", agent="critic"):
        responses.append(await claude.complete("What did we cache?"))
        responses.append(await openai.complete("Colour of the sky?"))
        for provider in (openai, claude):
            events = [event async for event in provider.stream("Stream something.")]
            assert events[-1].response is not None
            responses.append(events[-1].response)
    with pytest.raises(OverloadedError):
        await claude.complete("This one fails.")
    return responses


def test_ledger_rows_match_every_responses_tokens_and_cost_exactly(
    session: list[LLMResponse], isolated_ledger: Ledger
) -> None:
    responses = session

    records = {record.id: record for record in isolated_ledger.records()}
    assert len(records) == 6
    for response in responses:
        assert response.record_id is not None
        row = records.pop(response.record_id)
        assert row.status == "ok"
        assert (row.provider_id, row.model, row.model_requested) == (
            response.provider_id,
            response.model,
            response.model_requested,
        )
        assert (row.input_tokens, row.output_tokens) == (
            response.tokens_input,
            response.tokens_output,
        )
        assert (row.cache_read_tokens, row.cache_write_tokens, row.reasoning_tokens) == (
            response.cache_read_tokens,
            response.cache_write_tokens,
            response.reasoning_tokens,
        )
        assert response.priced and response.cost_usd is not None
        assert row.cost_usd == response.cost_usd  # the same float, bit for bit
        assert (row.priced, row.price_source) == (True, response.price_source)
        assert row.finish_reason == response.finish_reason
        assert row.session_id == isolated_ledger.session_id
    [failed] = records.values()
    assert (failed.status, failed.error_type, failed.cost_usd) == ("error", "OverloadedError", None)


def test_ledger_totals_equal_the_providers_in_memory_usage(
    session: list[LLMResponse],
    claude: ClaudeProvider,
    openai: OpenAIProvider,
    isolated_ledger: Ledger,
) -> None:

    for provider in (claude, openai):
        in_memory, stored = provider.get_usage(), isolated_ledger.totals(provider.provider_id)
        assert stored.call_count == in_memory.call_count
        assert stored.total_cost_usd == pytest.approx(in_memory.total_cost_usd, rel=1e-12)
        assert (stored.total_input, stored.total_output) == (
            in_memory.total_input,
            in_memory.total_output,
        )
        assert stored.error_count == in_memory.error_count
    overall, combined = isolated_ledger.totals(), claude.get_usage() + openai.get_usage()
    assert (overall.call_count, overall.error_count) == (combined.call_count, 1) == (6, 1)
    assert overall.total_cost_usd == pytest.approx(combined.total_cost_usd, rel=1e-12)
    assert overall.total_cache_read == combined.total_cache_read == 8_000 + 4_096


def test_the_dataframe_shows_the_same_costs_tags_and_agents(
    session: list[LLMResponse], isolated_ledger: Ledger
) -> None:
    responses = session

    frame = isolated_ledger.to_dataframe().set_index("id")
    for response in responses:
        assert frame.at[response.record_id, "cost_usd"] == response.cost_usd
        assert frame.at[response.record_id, "input_tokens"] == response.tokens_input
    tagged = isolated_ledger.to_dataframe(tag="experiment")
    assert len(tagged) == 4
    assert set(tagged["agent"]) == {"critic"}
    summary = isolated_ledger.summary(by=["provider"])
    assert summary.loc["claude", "calls"] == 4
    assert summary.loc["claude", "error_rate"] == pytest.approx(0.25)
    assert summary["cost_usd"].sum() == pytest.approx(sum(r.cost_usd or 0 for r in responses))


async def test_a_run_id_and_step_in_the_call_context_label_each_turns_row(
    llm_emulator: LLMEmulator, claude: ClaudeProvider, isolated_ledger: Ledger
) -> None:
    llm_emulator.enqueue(Reply(text="First."), Reply(text="Second."), Reply(text="Alone."))
    with call_context(run_id="run-7"):
        for step in (1, 2):
            with call_context(step=step):
                await claude.complete(f"Turn {step}.")
    await claude.complete("Outside any run.")

    rows = [(record.run_id, record.step, record.mode) for record in isolated_ledger.records()]
    assert rows == [("run-7", 1, "realtime"), ("run-7", 2, "realtime"), (None, None, "realtime")]
