"""A batch uses both caches: rows that share a template's long leading text ask the provider's
prompt cache for it (and read it from the second row on), and ``cache=`` sets the response
cache's mode for every row."""

from __future__ import annotations

import pytest

from orchestify_nb.batch import run_batch
from orchestify_nb.batch.result import BatchInputError
from orchestify_nb.providers.claude import ClaudeProvider
from orchestify_nb.providers.openai_provider import OpenAIProvider
from orchestify_nb.testing import LLMEmulator
from orchestify_nb.usage.ledger import Ledger
from tests.batch.conftest import sent_prompt

GUIDE = "Label the review as the style guide says: positive, negative or mixed. " * 80
REVIEWS = ["Loved it.", "Broke in a week.", "Fine, but loud.", "Would buy again.", "Meh."]


async def test_rows_sharing_a_long_template_prefix_read_it_from_the_prompt_cache(
    claude: ClaudeProvider, llm_emulator: LLMEmulator, isolated_ledger: Ledger
) -> None:
    prompts = [f"{GUIDE}\nReview: {review}" for review in REVIEWS]

    result = await run_batch(prompts, provider=claude, concurrency=1, progress=False)

    assert result.count("ok") == len(REVIEWS)
    for request, review in zip(llm_emulator.requests, REVIEWS, strict=True):
        shared, own = request.body["messages"][-1]["content"]
        assert shared["cache_control"] == {"type": "ephemeral"} and "cache_control" not in own
        assert own["text"].endswith(review)
        assert sent_prompt(request) == f"{GUIDE}\nReview: {review}"
    rows = isolated_ledger.records()
    assert rows[0].tokens.cache_write > 1000 and rows[0].tokens.cache_read == 0
    assert all(row.tokens.cache_read == rows[0].tokens.cache_write for row in rows[1:])
    assert all(row.tokens.cache_write == 0 for row in rows[1:])  # no row's own end is written
    saved = sum(row.prompt_cache_saved_usd or 0.0 for row in rows)
    assert saved > 0


async def test_cache_prompt_false_keeps_a_batch_away_from_the_prompt_cache(
    claude: ClaudeProvider, llm_emulator: LLMEmulator
) -> None:
    prompts = [f"{GUIDE}\nReview: {review}" for review in REVIEWS[:2]]

    await run_batch(prompts, provider=claude, progress=False, cache_prompt=False)

    assert all(isinstance(r.body["messages"][-1]["content"], str) for r in llm_emulator.requests)


async def test_rows_with_nothing_long_in_common_are_sent_unmarked(
    claude: ClaudeProvider, llm_emulator: LLMEmulator
) -> None:
    await run_batch([f"Sentiment of: {r}" for r in REVIEWS[:3]], provider=claude, progress=False)

    assert all(isinstance(r.body["messages"][-1]["content"], str) for r in llm_emulator.requests)


async def test_openai_rows_sharing_a_template_share_one_prompt_cache_key(
    openai: OpenAIProvider, llm_emulator: LLMEmulator
) -> None:
    await run_batch([f"{GUIDE}\nReview: {r}" for r in REVIEWS[:3]], provider=openai, progress=False)

    keys = {request.body.get("prompt_cache_key") for request in llm_emulator.requests}
    assert len(keys) == 1 and None not in keys


async def test_a_batch_in_replay_mode_answers_from_recorded_answers_only(
    openai: OpenAIProvider, llm_emulator: LLMEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ORCHESTIFY_CACHE")
    prompts = [f"Sentiment of: {r}" for r in REVIEWS[:3]]
    bought = await run_batch(prompts, provider=openai, progress=False, cache="refresh")

    replayed = await run_batch(
        [*prompts, "Sentiment of: never asked"], provider=openai, progress=False, cache="replay"
    )

    assert len(llm_emulator.requests) == 3
    assert [row.response.content for row in replayed.rows[:3] if row.response] == [
        row.response.content for row in bought.rows if row.response
    ]
    assert [row.status for row in replayed.rows] == ["ok", "ok", "ok", "error"]
    assert "cache=replay" in str(replayed.rows[3].error)


async def test_an_unknown_batch_cache_mode_is_refused_before_anything_is_sent(
    openai: OpenAIProvider, llm_emulator: LLMEmulator
) -> None:
    with pytest.raises(BatchInputError, match="cache must be one of auto, replay, refresh, off"):
        await run_batch(["Hi"], provider=openai, progress=False, cache="sometimes")

    assert llm_emulator.requests == []
