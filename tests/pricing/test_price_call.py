"""Pricing from the maintained price data: right to the cent, overrides first, unknown is None."""

from __future__ import annotations

import subprocess
import sys

import pytest

from orchestify_nb.pricing import ModelPrice, PriceQuote, price_call, price_data_version
from orchestify_nb.tokens import TokenCounts


def _price(provider_type: str, model: str, **counts: int) -> PriceQuote:
    tokens = TokenCounts(**{name.removesuffix("_tokens"): value for name, value in counts.items()})
    return price_call(
        provider_type=provider_type, model=model, overrides=None, base_url=None, tokens=tokens
    )


def test_claude_sonnet_4_5_priced_with_cache_reads_and_writes() -> None:
    # per MTok: 700 uncached x $3 + 200 cache reads x $0.30 + 100 writes x $3.75 + 500 out x $15
    quote = _price(
        "anthropic",
        "claude-sonnet-4-5",
        input_tokens=1000,
        cache_read_tokens=200,
        cache_write_tokens=100,
        output_tokens=500,
    )
    assert quote.priced
    assert quote.cost_usd == pytest.approx(0.010035, abs=1e-9)
    assert quote.source == price_data_version()
    assert quote.source is not None and quote.source.startswith("genai-prices ")


def test_dated_claude_snapshot_name_prices_like_its_alias() -> None:
    quote = _price("anthropic", "claude-sonnet-4-5-20250929", input_tokens=1000, output_tokens=500)
    assert quote.cost_usd == pytest.approx((1000 * 3 + 500 * 15) / 1e6)


def test_gpt_4o_priced_with_cached_input() -> None:
    # 800 uncached x $2.50 + 200 cached x $1.25 + 500 out x $10, per MTok
    quote = _price("openai", "gpt-4o", input_tokens=1000, cache_read_tokens=200, output_tokens=500)
    assert quote.cost_usd == pytest.approx(0.00725, abs=1e-9)
    assert quote.priced


def test_openai_type_behind_unknown_base_url_is_priced_as_openai() -> None:
    quote = price_call(
        provider_type="openai",
        model="gpt-4o",
        base_url="http://127.0.0.1:9/v1",
        tokens=TokenCounts(input=1_000_000, output=0),
    )
    assert quote.cost_usd == pytest.approx(2.50)


def test_reasoning_tokens_are_billed_inside_output_not_twice() -> None:
    plain = _price("openai", "gpt-4o", input_tokens=100, output_tokens=400)
    with_reasoning = _price(
        "openai", "gpt-4o", input_tokens=100, output_tokens=400, reasoning_tokens=300
    )
    assert with_reasoning.cost_usd == plain.cost_usd


def test_litellm_provider_prefix_is_priced_from_genai_prices() -> None:
    quote = _price("litellm", "azure/gpt-4o", input_tokens=1_000_000, output_tokens=1_000_000)
    assert quote.cost_usd == pytest.approx(2.50 + 10.00)
    assert quote.source is not None and quote.source.startswith("genai-prices")


def test_litellm_model_unknown_to_genai_prices_uses_litellm_cost_map() -> None:
    # LiteLLM's map: $1 in / $3 out / $0.10 cache read per MTok; genai-prices does not list it.
    quote = _price(
        "litellm",
        "abliteration/abliterated-model",
        input_tokens=1_000_000,
        cache_read_tokens=500_000,
        output_tokens=1_000_000,
    )
    assert quote.source == "litellm cost map"
    assert quote.cost_usd == pytest.approx(0.5 * 1.0 + 0.5 * 0.10 + 3.0)


def test_config_override_wins_over_price_data() -> None:
    override = {
        "gpt-4o": ModelPrice(input_per_mtok=1.0, output_per_mtok=2.0, cache_read_per_mtok=0.5)
    }
    quote = price_call(
        provider_type="openai",
        model="gpt-4o-2024-08-06",
        overrides=override,
        tokens=TokenCounts(input=1_000_000, cache_read=400_000, output=1_000_000),
    )
    assert quote == PriceQuote(0.6 * 1.0 + 0.4 * 0.5 + 2.0, True, "config override")


def test_override_without_cache_price_charges_cached_tokens_at_input_price() -> None:
    quote = price_call(
        provider_type="litellm",
        model="openrouter/my-finetune",
        overrides={"my-finetune": ModelPrice(4.0, 8.0)},
        tokens=TokenCounts(input=1_000_000, cache_write=1_000_000, output=0),
    )
    assert quote.cost_usd == pytest.approx(4.0)


@pytest.mark.parametrize(
    ("provider_type", "model"),
    [("openai", "my-private-model"), ("anthropic", "claude-nonexistent-9"), ("litellm", "nope/x")],
)
def test_unknown_model_is_unpriced_never_zero(provider_type: str, model: str) -> None:
    assert _price(provider_type, model, input_tokens=10, output_tokens=10) == PriceQuote(
        None, False, None
    )


def test_local_models_are_free_and_priced() -> None:
    assert _price("local", "gemma-3-270m", input_tokens=10, output_tokens=10) == PriceQuote(
        0.0, True, "local model (free)"
    )


def test_inconsistent_cache_counts_still_price_instead_of_raising() -> None:
    quote = _price("anthropic", "claude-sonnet-4-5", input_tokens=10, cache_read_tokens=1000)
    assert quote.cost_usd == pytest.approx(1000 * 0.30 / 1e6)


def test_model_price_rejects_negative_and_unknown_fields() -> None:
    with pytest.raises(ValueError):
        ModelPrice(input_per_mtok=-1.0, output_per_mtok=1.0)
    with pytest.raises(ValueError):
        ModelPrice(input_per_mtok=1.0, output_per_mtok=1.0, per_image=2.0)  # type: ignore[call-arg]


def test_importing_pricing_loads_neither_genai_prices_nor_litellm() -> None:
    code = (
        "import sys, orchestify_nb.pricing as p; "
        "from orchestify_nb.tokens import TokenCounts; "
        "p.price_call(provider_type='litellm', model='abliteration/abliterated-model', "
        "tokens=TokenCounts(input=1, output=1)); "
        "print('genai_prices' in sys.modules, 'litellm' in sys.modules)"
    )
    before = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, orchestify_nb.pricing; print('genai_prices' in sys.modules)",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    after = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert before.stdout.split() == ["False"]
    # genai-prices is loaded on the first call; LiteLLM's cost map is read without importing it
    assert after.stdout.split() == ["True", "False"]


def test_litellm_model_info_reads_capabilities_without_importing_litellm() -> None:
    code = (
        "import sys; from orchestify_nb.pricing import litellm_model_info as info; "
        "print(info('gpt-4o')['litellm_provider'], info('azure/gpt-4o')['litellm_provider'], "
        "info('no-such-model'), 'litellm' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["openai", "azure", "None", "False"]
