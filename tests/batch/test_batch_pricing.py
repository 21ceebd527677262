"""Batch prices: genai-prices' own batch price where it has one, a ``pricing:`` entry's
``batch_factor`` over the documented discount, and the estimate before submitting at that rate."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import orchestify_nb.batch  # noqa: F401 (registers df.llm)
from orchestify_nb.batch.estimate import estimate_batch
from orchestify_nb.config import load_config
from orchestify_nb.pricing import ModelPrice, price_batch_call
from orchestify_nb.registry import ProviderRegistry
from orchestify_nb.testing import LLMEmulator
from orchestify_nb.tokens import TokenCounts
from orchestify_nb.usage.ledger import Ledger
from tests.batch.conftest import CLAUDE_MODEL, make_claude


def test_genai_prices_batch_price_is_used_where_it_has_one() -> None:
    # claude-haiku-4-5: $1 / $5 per million input / output tokens, $0.50 / $2.50 in a batch.
    batch, realtime = price_batch_call(
        provider_type="anthropic",
        model="claude-haiku-4-5",
        tokens=TokenCounts(input=1_000_000, output=1_000_000),
    )
    assert realtime.cost_usd == pytest.approx(6.0)
    assert batch.cost_usd == pytest.approx(3.0)
    assert batch.source is not None and batch.source.endswith("(batch price)")


def test_a_pricing_entry_sets_the_batch_rate_and_otherwise_the_discount_applies() -> None:
    tokens = TokenCounts(input=1000, output=100)  # $2 x 1000 + $10 x 100 = $3,000 per million
    own = {"m": ModelPrice(input_per_mtok=2.0, output_per_mtok=10.0, batch_factor=0.4)}
    batch, realtime = price_batch_call(
        provider_type="anthropic", model="m", tokens=tokens, overrides=own
    )
    assert (realtime.cost_usd, batch.cost_usd) == pytest.approx((0.003, 0.0012))
    plain = {"m": ModelPrice(input_per_mtok=2.0, output_per_mtok=10.0)}
    batch, _ = price_batch_call(provider_type="openai", model="m", tokens=tokens, overrides=plain)
    assert batch.cost_usd == pytest.approx(0.0015)
    assert batch.source == "config override x 0.5 (batch rate)"


def test_the_estimate_before_a_batch_job_is_at_the_batch_rate_and_says_so(
    llm_emulator: LLMEmulator,
) -> None:
    pricing = {CLAUDE_MODEL: ModelPrice(input_per_mtok=2.0, output_per_mtok=10.0, batch_factor=0.4)}
    provider = make_claude(llm_emulator, pricing=pricing)
    requests = [provider.build_request("Say alpha", max_tokens=100)]

    estimate = estimate_batch(provider, requests, batch=True)
    realtime = estimate_batch(provider, requests)

    tokens = estimate.input_tokens
    assert estimate.input_cost_usd == pytest.approx(tokens * 2.0 * 0.4 / 1e6)
    assert estimate.max_cost_usd == pytest.approx((tokens * 2.0 + 100 * 10.0) * 0.4 / 1e6)
    assert realtime.input_cost_usd == pytest.approx(tokens * 2.0 / 1e6)
    assert "at the batch rate (config override x 0.4 (batch rate))" in estimate.summary()
    assert "batch" not in realtime.summary()


def test_a_config_pricing_entry_with_batch_factor_prices_a_collected_job(
    llm_emulator: LLMEmulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    ledger = str(tmp_path / "ledger.sqlite3")
    monkeypatch.setenv("ORCHESTIFY_LEDGER", ledger)
    path = tmp_path / "orchestify.yaml"
    path.write_text(
        "providers:\n"
        "  claude:\n"
        "    type: anthropic\n"
        "    api_key: sk-ant-test\n"
        f"    base_url: {llm_emulator.base_url}\n"
        f"    default_model: {CLAUDE_MODEL}\n"
        "pricing:\n"
        f"  {CLAUDE_MODEL}: {{input_per_mtok: 2.0, output_per_mtok: 10.0, batch_factor: 0.4}}\n",
        encoding="utf-8",
    )
    config = load_config(path)
    registry = ProviderRegistry.from_config(config.providers)
    frame = pd.DataFrame({"text": ["alpha"]})
    frame.llm.complete("Say {text}", out="said", mode="batch", provider=registry.get("claude"))
    assert "at the batch rate (config override x 0.4 (batch rate))" in capsys.readouterr().out
    llm_emulator.batches.finish()
    frame.llm.collect(out="said")

    # "Say alpha": 13 prompt tokens, 3 answer tokens (the emulator's count). Realtime:
    # 13 x $2 + 3 x $10 = $56 per million; at 0.4 of that $22.40, $33.60 saved.
    assert frame["said_cost_usd"].iloc[0] == pytest.approx(22.4e-6, rel=1e-12)
    assert frame["said_saved_usd"].iloc[0] == pytest.approx(33.6e-6, rel=1e-12)
    with Ledger(ledger) as book:
        (row,) = book.records()
    assert row.cost_usd == pytest.approx(22.4e-6, rel=1e-12)
    assert row.price_source == "config override x 0.4 (batch rate)"
