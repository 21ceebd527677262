"""``price_call`` prices from rates it learns once per tier; these tests prove the result is
genai-prices' own calculation, call for call: at and across tier boundaries, with cache reads and
writes, for prices that change on a date, several tiers, a per-request price, and tiers too narrow
to learn from."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest
from genai_prices import Usage, calc_price
from genai_prices.types import ModelPrice as GenaiModelPrice
from genai_prices.types import Tier, TieredPrices

from orchestify_nb.pricing import _FastGenaiPrice, price_call
from orchestify_nb.tokens import TokenCounts

#: Prompt sizes at and around the 200k tier of Claude Sonnet 4.5 (a tier applies *above* its
#: start), and around the 32k and 256k tiers of the OpenRouter model below.
BOUNDARIES = (0, 1, 2, 31_999, 32_000, 32_001, 199_999, 200_000, 200_001, 256_000, 256_001)


def usages(seed: int) -> list[tuple[int, int, int, int]]:
    """(input, output, cache read, cache write) with the cached tokens inside the prompt."""
    rng = random.Random(seed)
    prompts = [*BOUNDARIES, *(rng.randint(0, 600_000) for _ in range(40))]
    found = []
    for prompt in prompts:
        read = rng.randint(0, prompt)
        write = rng.randint(0, prompt - read)
        found.append((prompt, rng.randint(0, 64_000), read, write))
    return found


@pytest.mark.parametrize(
    ("provider_type", "model", "genai_provider"),
    [
        ("anthropic", "claude-sonnet-4-5", "anthropic"),  # one tier at 200k, cache rates
        ("anthropic", "claude-sonnet-4-6", "anthropic"),  # prices that change on a date
        ("openai", "gpt-4o", "openai"),  # no tiers, cached input
        ("litellm", "openrouter/qwen/qwen3.7-flash", "openrouter"),  # tiers at 32k and 256k
    ],
)
def test_every_call_costs_what_genai_prices_calculates(
    provider_type: str, model: str, genai_provider: str
) -> None:
    genai_model = model.removeprefix("openrouter/")
    for prompt, output, read, write in usages(seed=len(model)):
        quote = price_call(
            provider_type=provider_type,
            model=model,
            tokens=TokenCounts(input=prompt, output=output, cache_read=read, cache_write=write),
        )
        usage = Usage(
            input_tokens=prompt,
            output_tokens=output,
            cache_read_tokens=read,
            cache_write_tokens=write,
        )
        expected = calc_price(usage, genai_model, provider_id=genai_provider).total_price
        assert quote.priced, (model, prompt)
        assert quote.cost_usd == pytest.approx(float(expected), rel=1e-12, abs=1e-15), (
            model,
            prompt,
            output,
            read,
            write,
        )


def test_crossing_a_tier_reprices_every_token_at_the_tier_rate() -> None:
    below = price_call(
        provider_type="anthropic",
        model="claude-sonnet-4-5",
        tokens=TokenCounts(input=200_000, output=0),
    )
    above = price_call(
        provider_type="anthropic",
        model="claude-sonnet-4-5",
        tokens=TokenCounts(input=200_001, output=0),
    )
    assert below.cost_usd == pytest.approx(200_000 * 3 / 1e6)
    assert above.cost_usd == pytest.approx(200_001 * 6 / 1e6)


def test_a_negative_count_is_unpriced_as_genai_prices_rejects_it() -> None:
    quote = price_call(
        provider_type="openai", model="gpt-4o", tokens=TokenCounts(input=100, output=-5)
    )
    assert not quote.priced and quote.cost_usd is None


def exact(price: GenaiModelPrice, prompt: int, output: int, read: int, write: int) -> Decimal:
    usage = Usage(
        input_tokens=prompt, output_tokens=output, cache_read_tokens=read, cache_write_tokens=write
    )
    total: Decimal = price.calc_price(usage)["total_price"]
    return total


def test_a_per_request_price_and_tiers_too_narrow_to_learn_from_stay_exact() -> None:
    """Tiers one prompt size wide ((1, 2] holds only 2) are priced by genai-prices call by
    call; the per-request price is part of every cost."""
    price = GenaiModelPrice(
        input_mtok=TieredPrices(
            base=Decimal("1"), tiers=[Tier(start=1, price=Decimal("2")), Tier(2, Decimal("4"))]
        ),
        output_mtok=Decimal("8"),
        cache_read_mtok=Decimal("0.1"),
        requests_kcount=Decimal("5"),
    )
    fast = _FastGenaiPrice(price)
    for prompt in (0, 1, 2, 3, 10, 1_000_000):
        for output, read in ((0, 0), (7, 0), (7, min(prompt, 1)), (3, prompt)):
            assert fast.cost(prompt, output, read, 0) == exact(price, prompt, output, read, 0)
