"""What a batch job costs, and its ledger rows (``mode="batch"``) booked once per request.

Batch price = the realtime price (config ``pricing:`` override, else genai-prices) times the
provider's documented batch discount: both Anthropic's Message Batches and OpenAI's Batch API
charge 50% of the standard rate. ``BATCH_DISCOUNT`` holds these factors. A row's ``saved_usd``
is the realtime price of the same usage minus what the batch cost, so ``%llm usage`` can show
the saving. Identical prompts were sent once, so they are booked once.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from orchestify_nb.batch.jobs.plan import BatchApi
from orchestify_nb.batch.jobs.wire import RowResult
from orchestify_nb.pricing import ModelPrice, PriceQuote, price_call
from orchestify_nb.tokens import TokenCounts
from orchestify_nb.usage.identity import project_for
from orchestify_nb.usage.ledger import Ledger
from orchestify_nb.usage.record import UsageRecord

#: Batch price as a fraction of the realtime price, per provider (both document 50%).
BATCH_DISCOUNT: dict[BatchApi, float] = {"anthropic": 0.5, "openai": 0.5}


def batch_quote(
    api: BatchApi,
    model: str,
    tokens: TokenCounts,
    overrides: Mapping[str, ModelPrice] | None = None,
) -> tuple[PriceQuote, float | None]:
    """``(batch-rate quote, realtime cost)`` of one request's usage."""
    realtime = price_call(provider_type=api, model=model, tokens=tokens, overrides=overrides)
    if realtime.cost_usd is None:
        return realtime, None
    factor = BATCH_DISCOUNT[api]
    source = f"{realtime.source} x {factor:g} (batch rate)"
    return PriceQuote(realtime.cost_usd * factor, True, source), realtime.cost_usd


def book(
    ledger: Ledger,
    *,
    api: BatchApi,
    model: str,
    provider_job_id: str,
    results: Mapping[str, RowResult],
    overrides: Mapping[str, ModelPrice] | None = None,
) -> int:
    """Write one ``mode="batch"`` ledger row per request of a provider job, all in one
    transaction (``Ledger.record_many``); returns how many."""
    now = datetime.now(UTC)
    project = project_for(ledger.project, None)  # once, not per row: it resolves paths
    quotes: dict[tuple[int, int], tuple[PriceQuote, float | None]] = {}
    records = []
    for result in results.values():
        key = (result.input_tokens, result.output_tokens)
        tokens = TokenCounts(input=key[0], output=key[1])
        if key not in quotes:  # rows share few distinct counts; pricing each costs ~10 µs
            quotes[key] = batch_quote(api, model, tokens, overrides)
        quote, realtime = quotes[key]
        saved = None if realtime is None or quote.cost_usd is None else realtime - quote.cost_usd
        ok = result.status == "succeeded"
        records.append(
            UsageRecord(
                provider_id=api,
                provider_type=api,
                model_requested=model,
                model=model,
                started_at=now,
                finished_at=now,
                status="ok" if ok else "error",
                tokens=tokens,
                cost_usd=quote.cost_usd if ok else 0.0,
                priced=quote.priced,
                price_source=quote.source,
                error_type=None if ok else result.status,
                mode="batch",
                batch_job_id=provider_job_id,
                saved_usd=saved if ok else None,
                project=project,
            )
        )
    ledger.record_many(records)
    return len(records)
