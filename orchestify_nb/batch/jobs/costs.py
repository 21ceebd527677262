"""What a batch job costs, and its ledger rows (``mode="batch"``) booked once per request.

Batch prices come from ``pricing.price_batch_call``: a config ``pricing:`` override (times its
``batch_factor``, else the provider's documented 50% discount), else genai-prices' own batch
price, else the realtime price times that discount. A row's ``saved_usd`` is the realtime
price of the same usage minus what the batch cost, so ``%llm usage`` can show the saving.
Identical prompts were sent once, so they are booked once.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from orchestify_nb.batch.jobs.plan import BatchApi
from orchestify_nb.batch.jobs.wire import RowResult
from orchestify_nb.pricing import ModelPrice, PriceQuote, price_batch_call
from orchestify_nb.tokens import TokenCounts
from orchestify_nb.usage.identity import project_for
from orchestify_nb.usage.ledger import Ledger
from orchestify_nb.usage.record import UsageRecord


class BatchPricer:
    """A job's requests at the batch rate, each distinct token pair priced once (pricing one
    costs ~10 µs, and a job's 100,000 requests share few distinct counts)."""

    def __init__(
        self,
        api: BatchApi,
        model: str,
        overrides: Mapping[str, ModelPrice] | None,
        base_url: str | None = None,
    ) -> None:
        self.api, self.model = api, model
        self._overrides, self._base_url = overrides, base_url
        self._quotes: dict[tuple[int, int], tuple[PriceQuote, float | None]] = {}

    def quote(self, result: RowResult) -> tuple[PriceQuote, float | None]:
        """``(batch-rate quote, saved_usd)`` of one request: a request that did not succeed
        costs $0 and saved nothing (``None``)."""
        key = (result.input_tokens, result.output_tokens)
        if key not in self._quotes:
            batch, realtime = price_batch_call(
                provider_type=self.api,
                model=self.model,
                tokens=TokenCounts(input=key[0], output=key[1]),
                overrides=self._overrides,
                base_url=self._base_url,
            )
            self._quotes[key] = (batch, realtime.cost_usd)
        quote, realtime_usd = self._quotes[key]
        if result.status != "succeeded":
            return PriceQuote(0.0, quote.priced, quote.source), None
        if realtime_usd is None or quote.cost_usd is None:
            return quote, None
        return quote, realtime_usd - quote.cost_usd


def book(
    ledger: Ledger,
    *,
    pricer: BatchPricer,
    provider_job_id: str,
    results: Mapping[str, RowResult],
    provider_id: str | None = None,
    tag: str | None = None,
) -> int:
    """Write one ``mode="batch"`` ledger row per request of a provider job, all in one
    transaction (``Ledger.record_many``), priced by ``pricer``; returns how many."""
    now = datetime.now(UTC)
    project = project_for(ledger.project, None)  # once, not per row: it resolves paths
    api, model = pricer.api, pricer.model
    records = []
    for result in results.values():
        quote, saved = pricer.quote(result)
        ok = result.status == "succeeded"
        records.append(
            UsageRecord(
                provider_id=provider_id or api,
                provider_type=api,
                model_requested=model,
                model=model,
                started_at=now,
                finished_at=now,
                status="ok" if ok else "error",
                tokens=TokenCounts(input=result.input_tokens, output=result.output_tokens),
                cost_usd=quote.cost_usd,
                priced=quote.priced,
                price_source=quote.source,
                error_type=None if ok else result.status,
                mode="batch",
                batch_job_id=provider_job_id,
                saved_usd=saved,
                project=project,
                tag=tag,
            )
        )
    ledger.record_many(records)
    return len(records)
