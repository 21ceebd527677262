"""What a call cost, from its token counts and one maintained price data set.

Prices come from ``genai-prices`` (bundled snapshot, no network): it knows tiers and cache
read/write prices for current Claude and GPT models. Models routed through LiteLLM that it does not
know fall back to LiteLLM's own cost map, read from the installed package (without importing
LiteLLM, which takes seconds, unless it is already imported). Config ``pricing:`` overrides win.

genai-prices' own calculation takes 60-170 µs a call, too slow for every row of a batch; its
price for a model is therefore resolved once and the cost per tier derived from that same
calculation (see ``_FastGenaiPrice``), which prices a call in a few microseconds.

An unknown model is *unpriced* (``cost_usd=None``, ``priced=False``): a guess of $0 would make a
bill look smaller than it is. ``price_call`` never raises: pricing runs after the answer arrived,
and a pricing problem must not cost the user that answer.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import sys
from bisect import bisect_left
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache, lru_cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, TypeGuard

from pydantic import ConfigDict, NonNegativeFloat
from pydantic.dataclasses import dataclass as pydantic_dataclass

from orchestify_nb.tokens import TokenCounts

__all__ = [
    "BATCH_DISCOUNT",
    "ModelPrice",
    "PriceQuote",
    "litellm_model_info",
    "price_batch_call",
    "price_call",
    "price_data_version",
]

logger = logging.getLogger("orchestify_nb.pricing")

#: Our provider types mapped to genai-prices provider ids ("litellm" lets genai-prices split an
#: ``azure/gpt-4o``-style model name into its provider prefix itself).
_GENAI_PROVIDER_IDS = {"anthropic": "anthropic", "openai": "openai", "litellm": "litellm"}
_LITELLM_COST_FILE = "model_prices_and_context_window_backup.json"


@pydantic_dataclass(frozen=True, config=ConfigDict(extra="forbid", hide_input_in_errors=True))
class ModelPrice:
    """A user's price for a model, in USD per million tokens (config ``pricing:``).

    ``input_per_mtok`` applies to prompt tokens not read from or written to the cache; a missing
    cache price charges those tokens at the input price (overstating beats understating a bill).
    """

    input_per_mtok: NonNegativeFloat
    output_per_mtok: NonNegativeFloat
    cache_read_per_mtok: NonNegativeFloat | None = None
    cache_write_per_mtok: NonNegativeFloat | None = None
    #: A provider batch job's price as a fraction of this price (``None``: the provider's
    #: documented discount, ``BATCH_DISCOUNT``).
    batch_factor: NonNegativeFloat | None = None

    def cost(self, tokens: TokenCounts) -> float:
        uncached = max(tokens.input - tokens.cache_read - tokens.cache_write, 0)
        read_price = (
            self.input_per_mtok if self.cache_read_per_mtok is None else self.cache_read_per_mtok
        )
        write_price = (
            self.input_per_mtok if self.cache_write_per_mtok is None else self.cache_write_per_mtok
        )
        return (
            uncached * self.input_per_mtok
            + tokens.cache_read * read_price
            + tokens.cache_write * write_price
            + tokens.output * self.output_per_mtok
        ) / 1_000_000


@dataclass(frozen=True, slots=True)
class PriceQuote:
    """The price of one call: ``cost_usd`` is ``None`` and ``priced`` False when unknown."""

    cost_usd: float | None
    priced: bool
    source: str | None


UNPRICED = PriceQuote(None, False, None)

#: A batch job's price as a fraction of the realtime price, per provider type, for models
#: genai-prices has no batch price for: Anthropic's Message Batches and OpenAI's Batch API both
#: document 50% of the standard rate.
BATCH_DISCOUNT: dict[str, float] = {"anthropic": 0.5, "openai": 0.5}


def price_call(
    *,
    provider_type: str,
    model: str,
    tokens: TokenCounts,
    overrides: Mapping[str, ModelPrice] | None = None,
    base_url: str | None = None,
) -> PriceQuote:
    """Price one call's ``tokens`` (``TokenCounts``: input includes the cache reads and writes,
    output includes reasoning).

    Order: a config override for the model, then (local models) free, then genai-prices, then
    LiteLLM's cost map for LiteLLM-routed models; otherwise unpriced. Never raises.
    """
    try:
        tokens = _consistent(tokens)
        override = _find_override(overrides, model) if overrides else None
        if override is not None:
            cost = override.cost(tokens)
            return PriceQuote(cost, True, "config override")
        if provider_type == "local":
            return PriceQuote(0.0, True, "local model (free)")
        genai = _genai_model(provider_type, model, base_url)
        if genai is not None:
            cost = genai.cost(tokens.input, tokens.output, tokens.cache_read, tokens.cache_write)
            return PriceQuote(cost, True, _genai_source())
        if provider_type == "litellm":
            entry = _litellm_cost_entry(model)
            if entry is not None:
                cost = _litellm_cost(entry, tokens)
                return PriceQuote(cost, True, "litellm cost map")
    except Exception:  # pricing must never cost the caller an answer
        logger.warning("could not price %s call to %r", provider_type, model, exc_info=True)
    return UNPRICED


def price_batch_call(
    *,
    provider_type: str,
    model: str,
    tokens: TokenCounts,
    overrides: Mapping[str, ModelPrice] | None = None,
    base_url: str | None = None,
) -> tuple[PriceQuote, PriceQuote]:
    """``(batch-rate quote, realtime quote)`` of one request of a provider batch job.

    Order: a config override (times its ``batch_factor``, else the provider's discount), then
    genai-prices' own batch price for the model, then the realtime price times the provider's
    documented discount (``BATCH_DISCOUNT``). Never raises.
    """
    realtime = price_call(
        provider_type=provider_type,
        model=model,
        tokens=tokens,
        overrides=overrides,
        base_url=base_url,
    )
    if realtime.cost_usd is None:
        return realtime, realtime
    factor = BATCH_DISCOUNT.get(provider_type, 1.0)
    try:
        override = _find_override(overrides, model) if overrides else None
        if override is not None and override.batch_factor is not None:
            factor = override.batch_factor
        elif override is None and provider_type != "local":
            genai = _genai_model(provider_type, model, base_url)
            if genai is not None and genai.has_batch_prices:
                counts = _consistent(tokens)
                cost = genai.cost(
                    counts.input, counts.output, counts.cache_read, counts.cache_write, batch=True
                )
                return PriceQuote(cost, True, f"{_genai_source()} (batch price)"), realtime
    except Exception:  # pricing must never cost the caller an answer
        logger.warning("could not batch-price %s call to %r", provider_type, model, exc_info=True)
    batch_cost = realtime.cost_usd * factor
    return PriceQuote(batch_cost, True, f"{realtime.source} x {factor:g} (batch rate)"), realtime


def _consistent(tokens: TokenCounts) -> TokenCounts:
    """A provider that reports cached tokens beyond its prompt count is inconsistent; bill the
    larger figure rather than refuse to price."""
    cached = tokens.cache_read + tokens.cache_write
    return replace(tokens, input=cached) if tokens.input < cached else tokens


@cache
def price_data_version() -> str:
    """The price data set in use, e.g. ``"genai-prices 0.2.3"`` (recorded with each ledger row)."""
    return _genai_source()


def _find_override(overrides: Mapping[str, ModelPrice], model: str) -> ModelPrice | None:
    """Exact name first; then without a ``provider/`` prefix; then the longest configured name
    the model extends with a ``-suffix`` (APIs answer ``claude-sonnet-4-5-20250929`` for a
    request for ``claude-sonnet-4-5``)."""
    for name in (model, model.split("/", 1)[-1]):
        if name in overrides:
            return overrides[name]
        extended = [key for key in overrides if name.startswith(f"{key}-")]
        if extended:
            return overrides[max(extended, key=len)]
    return None


@lru_cache(maxsize=1024)
def _genai_model(provider_type: str, model: str, base_url: str | None) -> _GenaiModel | None:
    """The genai-prices model priced for a call, or ``None``; looked up once per triple.

    An ``openai``-type provider pointed at another known host (Groq, Azure, ...) by ``base_url`` is
    priced as that host; an unknown host (a proxy, the loopback emulator) as OpenAI.
    """
    from genai_prices import data_snapshot

    snapshot = data_snapshot.get_snapshot()
    attempts: list[tuple[str | None, str | None]] = []
    if base_url and provider_type == "openai":
        attempts.append((None, base_url))
    attempts.append((_GENAI_PROVIDER_IDS.get(provider_type), None))
    for provider_id, api_url in attempts:
        try:
            _provider, model_info = snapshot.find_provider_model(model, None, provider_id, api_url)
        except LookupError:
            continue
        return _GenaiModel(model_info)
    return None


class _GenaiModel:
    """One genai-prices model: its price in force now (prices can change on a date), each
    resolved price kept with what it has learnt about its tiers."""

    def __init__(self, model_info: Any) -> None:
        self._model_info = model_info
        #: By id of genai-prices' standard ModelPrice (it lives as long as the model) and
        #: whether the batch variant was asked for (genai-prices builds that one per call).
        self._prices: dict[tuple[int, bool], _FastGenaiPrice] = {}

    @property
    def has_batch_prices(self) -> bool:
        """Whether genai-prices knows this model's batch price (a ``processing: batch``
        variant); else a batch job is priced with the provider's documented discount."""
        variants = self._model_info.price_variants or ()
        return any(variant.when.get("processing") == "batch" for variant in variants)

    def cost(
        self,
        input_tokens: int,
        output_tokens: int,
        cache_read_tokens: int,
        cache_write_tokens: int,
        *,
        batch: bool = False,
    ) -> float:
        now = datetime.now(tz=UTC)
        model_price = self._model_info.get_prices(now)
        price = self._prices.get((id(model_price), batch))
        if price is None:
            priced = self._model_info.get_prices(now, {"processing": "batch"}) if batch else None
            price = _FastGenaiPrice(priced or model_price)
            self._prices[(id(model_price), batch)] = price
        return float(price.cost(input_tokens, output_tokens, cache_read_tokens, cache_write_tokens))


@dataclass(frozen=True, slots=True)
class _LinearCost:
    """The cost of a call within one tier: a fixed part plus a rate per token of each kind
    (``per_input`` applies to every prompt token; a cache read's or write's rate is the
    difference it makes, so cached tokens need not be subtracted here)."""

    fixed: Decimal
    per_input: Decimal
    per_cache_read: Decimal
    per_cache_write: Decimal
    per_output: Decimal


class _FastGenaiPrice:
    """A genai-prices ``ModelPrice`` priced in microseconds, to the same result.

    genai-prices' ``ModelPrice.calc_price`` re-derives its unit registry and decomposes the usage
    on every call (60-170 µs). Within one tier (chosen by the prompt's total input tokens) that
    cost is linear in the token counts, so for each tier a call falls in, ``calc_price`` itself
    prices a few reference usages once, and every call is priced from the rates they give: the
    same prices, tiers and cache rates as genai-prices, with no formula of ours.
    """

    def __init__(self, model_price: Any) -> None:
        from genai_prices.types import TieredPrices

        self._model_price = model_price  # kept alive: _GenaiModel keys this object by its id
        self._tier_starts = sorted(
            {
                tier.start
                for price in vars(model_price).values()
                if isinstance(price, TieredPrices)
                for tier in price.tiers
            }
        )
        self._tiers: dict[int, _LinearCost | None] = {}

    def cost(
        self, input_tokens: int, output_tokens: int, cache_read_tokens: int, cache_write_tokens: int
    ) -> Decimal:
        tier = bisect_left(self._tier_starts, input_tokens)  # a tier applies above its start
        if tier not in self._tiers:
            self._tiers[tier] = self._learn(tier)
        linear = self._tiers[tier]
        if linear is None or min(output_tokens, cache_read_tokens, cache_write_tokens) < 0:
            # genai-prices rejects a negative count: so must we, not extrapolate a price
            return self._exact(input_tokens, output_tokens, cache_read_tokens, cache_write_tokens)
        return (
            linear.fixed
            + linear.per_input * input_tokens
            + linear.per_cache_read * cache_read_tokens
            + linear.per_cache_write * cache_write_tokens
            + linear.per_output * output_tokens
        )

    def _learn(self, tier: int) -> _LinearCost | None:
        """The rates of one tier, from genai-prices' prices of usages inside it; ``None`` when
        the tier is too narrow to hold two prompt sizes (every call in it is priced exactly)."""
        lowest = self._tier_starts[tier - 1] + 1 if tier else 0
        anchor = max(lowest, 1)  # at least one prompt token, so one can be a cache read
        if tier < len(self._tier_starts) and anchor + 1 > self._tier_starts[tier]:
            return None
        at_anchor = self._exact(anchor, 0, 0, 0)
        per_input = self._exact(anchor + 1, 0, 0, 0) - at_anchor
        return _LinearCost(
            fixed=at_anchor - per_input * anchor,
            per_input=per_input,
            per_cache_read=self._exact(anchor, 0, 1, 0) - at_anchor,
            per_cache_write=self._exact(anchor, 0, 0, 1) - at_anchor,
            per_output=self._exact(anchor, 1, 0, 0) - at_anchor,
        )

    def _exact(
        self, input_tokens: int, output_tokens: int, cache_read_tokens: int, cache_write_tokens: int
    ) -> Decimal:
        from genai_prices import Usage

        usage = Usage(
            input_tokens=input_tokens,
            cache_read_tokens=cache_read_tokens,
            cache_write_tokens=cache_write_tokens,
            output_tokens=output_tokens,
        )
        total: Decimal = self._model_price.calc_price(usage)["total_price"]
        return total


@cache
def _genai_source() -> str:
    try:
        return f"genai-prices {version('genai-prices')}"
    except PackageNotFoundError:
        return "genai-prices"


def litellm_model_info(model: str) -> Mapping[str, Any] | None:
    """LiteLLM's entry for ``model`` (``azure/gpt-4o``, then ``gpt-4o``): prices and
    capabilities such as ``supports_reasoning``, without importing LiteLLM."""
    cost_map = _litellm_cost_map()
    for name in (model, model.split("/", 1)[-1]):
        entry = cost_map.get(name)
        if isinstance(entry, Mapping):
            return entry
    return None


def _litellm_cost_entry(model: str) -> Mapping[str, Any] | None:
    entry = litellm_model_info(model)
    if (
        entry is not None
        and _is_number(entry.get("input_cost_per_token"))
        and _is_number(entry.get("output_cost_per_token"))
    ):
        return entry
    return None


def _litellm_cost_map() -> Mapping[str, Any]:
    """LiteLLM's model cost map: the live one if LiteLLM is already imported, else the copy the
    installed package ships (reading it takes milliseconds; importing LiteLLM takes seconds)."""
    litellm = sys.modules.get("litellm")
    live = getattr(litellm, "model_cost", None)
    if isinstance(live, Mapping):
        return live
    return _bundled_litellm_cost_map()


@cache
def _bundled_litellm_cost_map() -> Mapping[str, Any]:
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    spec = importlib.util.find_spec("litellm")
    if spec is None or not spec.submodule_search_locations:
        return {}
    path = Path(next(iter(spec.submodule_search_locations))) / _LITELLM_COST_FILE
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        logger.warning("LiteLLM's cost map %s could not be read", path)
        return {}
    return loaded if isinstance(loaded, dict) else {}


def _litellm_cost(entry: Mapping[str, Any], tokens: TokenCounts) -> float:
    input_rate = float(entry["input_cost_per_token"])
    output_rate = float(entry["output_cost_per_token"])
    read_rate = _rate(entry, "cache_read_input_token_cost", input_rate)
    write_rate = _rate(entry, "cache_creation_input_token_cost", input_rate)
    reasoning_rate = _rate(entry, "output_cost_per_reasoning_token", output_rate)
    uncached = max(tokens.input - tokens.cache_read - tokens.cache_write, 0)
    reasoning = min(tokens.reasoning, tokens.output)
    return (
        uncached * input_rate
        + tokens.cache_read * read_rate
        + tokens.cache_write * write_rate
        + (tokens.output - reasoning) * output_rate
        + reasoning * reasoning_rate
    )


def _rate(entry: Mapping[str, Any], key: str, default: float) -> float:
    value = entry.get(key)
    return float(value) if _is_number(value) else default


def _is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)
