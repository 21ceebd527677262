"""The response cache over the real SDKs: an answer bought once is replayed, honestly, and only
for exactly the same request; replay mode never sends anything."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from orchestify_nb.errors import ConfigError, ProviderError
from orchestify_nb.providers.base import LLMProvider
from orchestify_nb.providers.caching import CacheMissError, cache_key, cache_mode
from orchestify_nb.providers.openai_provider import OpenAIProvider
from orchestify_nb.providers.types import ToolCall, ToolSpec
from orchestify_nb.testing import Fault, LLMEmulator, Reply
from orchestify_nb.usage.answer_store import AnswerStore
from orchestify_nb.usage.context import call_context
from orchestify_nb.usage.ledger import Ledger
from tests.providers.conftest import SECRET_KEY, Backend

ANSWER = "Bonn was the capital of West Germany."
WEATHER = ToolSpec(
    name="get_weather",
    description="Weather of a city",
    parameters={"type": "object", "properties": {"city": {"type": "string"}}},
)


@pytest.fixture(autouse=True)
def cache_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """The suite runs with the cache off; these tests are about it."""
    monkeypatch.delenv("ORCHESTIFY_CACHE")


async def test_a_replayed_answer_equals_the_bought_one_and_sends_nothing(
    provider: LLMProvider, llm_emulator: LLMEmulator, isolated_ledger: Ledger
) -> None:
    llm_emulator.enqueue(Reply(text=ANSWER, input_tokens=120, output_tokens=40))
    bought = await provider.complete("Capital of West Germany?", cache="refresh")

    replayed = await provider.complete("Capital of West Germany?", cache="replay")

    assert len(llm_emulator.requests) == 1
    assert replayed.content == bought.content == ANSWER
    assert replayed.tokens == bought.tokens
    assert replayed.cached_at is not None and bought.cached_at is None
    assert replayed.cost_usd == 0.0
    assert bought.cost_usd is not None and bought.cost_usd > 0
    assert replayed.saved_usd == pytest.approx(bought.cost_usd)
    first, second = isolated_ledger.records()
    assert (first.mode, second.mode) == ("realtime", "cache")
    assert second.cost_usd == 0.0 and second.saved_usd == pytest.approx(bought.cost_usd)
    assert second.tokens.total == 0  # nothing was billed for the replay
    assert second.id == replayed.record_id


async def test_a_replayed_stream_yields_the_text_thinking_and_tool_calls_then_done(
    provider: LLMProvider, llm_emulator: LLMEmulator, backend: Backend
) -> None:
    call = ToolCall(id="call_1", name="get_weather", arguments={"city": "Oslo"})
    llm_emulator.enqueue(Reply(text="Let me check.", tool_calls=[call]))
    bought = [e async for e in provider.stream("Weather?", tools=[WEATHER], cache="refresh")]

    replayed = [e async for e in provider.stream("Weather?", tools=[WEATHER], cache="replay")]

    assert len(llm_emulator.requests) == 1
    assert [e.type for e in replayed] == ["text", "tool_call", "done"]
    assert replayed[0].text == "Let me check."
    original, again = bought[-1].response, replayed[-1].response
    assert original is not None and again is not None
    assert again.tool_calls == original.tool_calls
    assert [c.arguments for c in again.tool_calls] == [{"city": "Oslo"}]


async def test_auto_reuses_a_temperature_zero_answer(llm_emulator: LLMEmulator) -> None:
    provider = OpenAIProvider(
        api_key=SECRET_KEY, base_url=llm_emulator.openai_base_url, default_model="gpt-4o"
    )
    llm_emulator.enqueue(Reply(text=ANSWER))

    first = await provider.complete("Capital?", temperature=0)
    second = await provider.complete("Capital?", temperature=0)

    assert len(llm_emulator.requests) == 1
    assert second.content == first.content and second.cached_at is not None
    await provider.aclose()


async def test_auto_sends_a_sampled_call_again(
    make_provider: Callable[..., LLMProvider], llm_emulator: LLMEmulator
) -> None:
    provider = make_provider()
    llm_emulator.enqueue(Reply(text="one"), Reply(text="two"))

    answers = [(await provider.complete("A poem.")).content for _ in range(2)]

    assert answers == ["one", "two"]
    assert len(llm_emulator.requests) == 2


async def test_replay_with_an_empty_cache_names_the_cell_and_sends_nothing(
    provider: LLMProvider, llm_emulator: LLMEmulator
) -> None:
    with (
        call_context(cell_execution_count=7, notebook_path="analysis.ipynb"),
        pytest.raises(CacheMissError) as raised,
    ):
        await provider.complete("Never asked before.", cache="replay")

    assert llm_emulator.requests == []
    message = str(raised.value)
    assert "cache=replay" in message and "In[7]" in message and "analysis.ipynb" in message
    assert "%llm cache import" in message
    assert "\n" not in message


async def test_the_mode_comes_from_a_block_or_the_environment(
    provider: LLMProvider, llm_emulator: LLMEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    with cache_mode("replay"), pytest.raises(CacheMissError):
        await provider.complete("Q")
    monkeypatch.setenv("ORCHESTIFY_CACHE", "replay")
    with pytest.raises(CacheMissError):
        await provider.complete("Q")
    assert llm_emulator.requests == []


async def test_a_bad_mode_is_a_config_error_naming_where_it_came_from(
    provider: LLMProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ORCHESTIFY_CACHE", "forever")
    with pytest.raises(ConfigError, match=r"ORCHESTIFY_CACHE.*auto, replay, refresh, off"):
        await provider.complete("Q")


async def test_off_neither_reuses_nor_keeps(
    provider: LLMProvider, llm_emulator: LLMEmulator
) -> None:
    llm_emulator.enqueue(Reply(text=ANSWER))
    await provider.complete("Q", cache="off")

    with pytest.raises(CacheMissError):
        await provider.complete("Q", cache="replay")


async def test_refresh_asks_again_and_keeps_the_new_answer(
    provider: LLMProvider, llm_emulator: LLMEmulator
) -> None:
    llm_emulator.enqueue(Reply(text="old"), Reply(text="new"))
    await provider.complete("Q", cache="refresh")
    await provider.complete("Q", cache="refresh")

    replayed = await provider.complete("Q", cache="replay")

    assert replayed.content == "new"
    assert len(llm_emulator.requests) == 2


async def test_a_failed_call_is_not_kept(
    make_provider: Callable[..., LLMProvider], llm_emulator: LLMEmulator
) -> None:
    provider = make_provider(max_retries=0)
    llm_emulator.enqueue(Fault.server_error())
    with pytest.raises(ProviderError):
        await provider.complete("Q", cache="refresh")

    with pytest.raises(CacheMissError):
        await provider.complete("Q", cache="replay")


@pytest.mark.parametrize(
    "changed",
    [
        {"prompt": "Capital of West Germany!"},
        {"model": "a smaller one"},
        {"max_tokens": 99},
        {"system": "Be brief"},
        {"tools": [ToolSpec(name="get_weather", parameters={"type": "object"})]},
    ],
    ids=["one-character-of-the-prompt", "model", "max-tokens", "system", "a-tools-schema"],
)
async def test_changing_any_part_of_the_request_misses(
    make_provider: Callable[..., LLMProvider],
    llm_emulator: LLMEmulator,
    backend: Backend,
    changed: dict[str, object],
) -> None:
    if "model" in changed:
        smaller = backend.model.replace("sonnet-4-6", "haiku-4-5").replace("4o", "4o-mini")
        changed = {"model": smaller}
    provider = make_provider()
    asked: dict[str, object] = {"prompt": "Capital of West Germany?", "tools": [WEATHER]}
    llm_emulator.enqueue(Reply(text=ANSWER))
    prompt = asked.pop("prompt")
    await provider.complete(prompt, cache="refresh", **asked)
    varied = {**asked, **changed}

    with pytest.raises(CacheMissError):
        await provider.complete(varied.pop("prompt", prompt), cache="replay", **varied)
    assert len(llm_emulator.requests) == 1


async def test_changing_the_temperature_misses(
    llm_emulator: LLMEmulator,
) -> None:
    provider = OpenAIProvider(
        api_key=SECRET_KEY, base_url=llm_emulator.openai_base_url, default_model="gpt-4o"
    )
    llm_emulator.enqueue(Reply(text=ANSWER))
    await provider.complete("Q", temperature=0, cache="refresh")

    with pytest.raises(CacheMissError):
        await provider.complete("Q", temperature=0.5, cache="replay")
    await provider.aclose()


async def test_changing_the_api_key_still_hits(
    make_provider: Callable[..., LLMProvider], llm_emulator: LLMEmulator
) -> None:
    llm_emulator.enqueue(Reply(text=ANSWER))
    await make_provider().complete("Q", cache="refresh")

    rotated = make_provider(api_key="sk-rotated-" + "x" * 20)
    replayed = await rotated.complete("Q", cache="replay")

    assert replayed.content == ANSWER
    assert len(llm_emulator.requests) == 1


async def test_exported_answers_replay_in_a_fresh_ledger_with_zero_requests(
    make_provider: Callable[..., LLMProvider], llm_emulator: LLMEmulator, tmp_path: Path
) -> None:
    recorded = Ledger(tmp_path / "recorded.sqlite3")
    provider = make_provider(usage_sink=recorded)
    llm_emulator.enqueue(Reply(text="first"), Reply(text="second"))
    originals = [(await provider.complete(q, cache="refresh")).content for q in ("A", "B")]
    store = provider._answer_store()
    exported = store.export(tmp_path / "answers.json")
    recorded.close()

    fresh = Ledger(tmp_path / "fresh.sqlite3")
    replaying = make_provider(usage_sink=fresh)
    assert replaying._answer_store().import_file(tmp_path / "answers.json") == exported == 2
    replayed = [(await replaying.complete(q, cache="replay")).content for q in ("A", "B")]

    assert replayed == originals == ["first", "second"]
    assert len(llm_emulator.requests) == 2  # the recording run's two, none for the replay
    assert SECRET_KEY not in (tmp_path / "answers.json").read_text()
    fresh.close()


async def test_export_writes_only_the_answers_this_session_used(
    make_provider: Callable[..., LLMProvider], llm_emulator: LLMEmulator, tmp_path: Path
) -> None:
    path = tmp_path / "ledger.sqlite3"
    ledger = Ledger(path)
    provider = make_provider(usage_sink=ledger)
    llm_emulator.enqueue(Reply(text="kept"), Reply(text="unused"))
    await provider.complete("used", cache="refresh")
    await provider.complete("stale", cache="refresh")
    used_key = cache_key(provider.provider_type, provider.base_url, provider.build_request("used"))

    next_session = AnswerStore(str(path))  # as a restarted kernel opens the same ledger
    assert next_session.get(used_key) is not None

    assert next_session.export(tmp_path / "answers.json") == 1
    stats = next_session.stats()
    assert (stats.entries, stats.hits_session, stats.misses_session) == (2, 1, 0)
    next_session.close()
    ledger.close()
