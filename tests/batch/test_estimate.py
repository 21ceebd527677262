"""The estimate shown before a batch: tokens counted offline, cost priced per row."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from orchestify_nb.batch import prepare_batch
from orchestify_nb.providers.claude import ClaudeProvider
from orchestify_nb.testing import LLMEmulator
from orchestify_nb.token_counting import HEURISTIC_METHOD, get_token_counter
from tests.batch.conftest import make_claude


@pytest.fixture
def fresh_counter() -> Iterator[None]:
    get_token_counter.cache_clear()
    yield
    get_token_counter.cache_clear()


def test_tokens_are_counted_with_tiktoken_when_an_encoding_is_on_disk(
    fresh_counter: None,
) -> None:
    counter = get_token_counter()
    assert counter.method == "tiktoken o200k_base"
    assert counter.count_text("Hello world") == 2


def test_without_an_offline_encoding_the_count_is_a_labelled_heuristic(
    fresh_counter: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", "")  # tiktoken's switch for "no cache": never used
    counter = get_token_counter()
    assert counter.method == HEURISTIC_METHOD
    assert counter.count_text("x" * 40) == 10


def test_estimate_counts_every_row_and_prices_input_and_ceiling(
    llm_emulator: LLMEmulator, claude: ClaudeProvider
) -> None:
    prompts = ["short", "a much longer prompt " * 20]
    batch = prepare_batch(prompts, provider=claude, max_tokens=100, system="Be brief.")
    estimate = batch.estimate

    assert estimate.rows == 2
    assert estimate.row_input_tokens[1] > estimate.row_input_tokens[0] > 3
    assert estimate.input_tokens == sum(estimate.row_input_tokens)
    assert estimate.max_output_tokens == 200
    assert estimate.input_cost_usd is not None and estimate.max_cost_usd is not None
    assert 0 < estimate.input_cost_usd < estimate.max_cost_usd
    assert estimate.model == "claude-sonnet-4-6"
    assert estimate.method in estimate.summary()
    assert llm_emulator.requests == []


def test_an_unpriced_model_gives_an_unknown_cost_not_zero(llm_emulator: LLMEmulator) -> None:
    provider = make_claude(llm_emulator, default_model="claude-unreleased-9")
    estimate = prepare_batch(["hi"], provider=provider).estimate

    assert estimate.input_cost_usd is None and estimate.max_cost_usd is None
    assert "cost unknown" in estimate.summary()
