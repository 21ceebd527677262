"""Turning a finished call (ok, failed or cancelled) into one ledger row.

Kept apart from the provider base class so that what a row holds is decided in one place: the
response's token counts and timing, the price quote, and the labels of the caller's
``call_context``.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from orchestify_nb.providers.types import LLMResponse
from orchestify_nb.usage.context import current_call_context
from orchestify_nb.usage.record import CallStatus, UsageRecord

if TYPE_CHECKING:
    from orchestify_nb.pricing import PriceQuote


def usage_record(
    *,
    provider_id: str,
    provider_type: str,
    model_requested: str,
    response: LLMResponse,
    quote: PriceQuote | None,
    started_at: datetime,
    status: CallStatus = "ok",
    error_type: str | None = None,
) -> UsageRecord:
    """The ledger row of one call, labelled with the ``call_context`` in force."""
    context = current_call_context()
    return UsageRecord(
        provider_id=provider_id,
        provider_type=provider_type,
        model_requested=model_requested,
        model=response.model,
        started_at=started_at,
        finished_at=UsageRecord.now(),
        status=status,
        input_tokens=response.tokens_input,
        output_tokens=response.tokens_output,
        cache_write_tokens=response.cache_write_tokens,
        cache_read_tokens=response.cache_read_tokens,
        reasoning_tokens=response.reasoning_tokens,
        cost_usd=quote.cost_usd if quote else None,
        priced=quote.priced if quote else False,
        price_source=quote.source if quote else None,
        latency_s=response.latency_s,
        time_to_first_token_s=response.time_to_first_token_s,
        finish_reason=response.finish_reason if status == "ok" else status_reason(status),
        error_type=error_type,
        agent=context.agent,
        tag=context.tag,
        notebook_path=context.notebook_path,
        cell_execution_count=context.cell_execution_count,
    )


def status_reason(status: CallStatus) -> str:
    """The finish reason recorded for a call that did not finish."""
    return "cancelled" if status == "cancelled" else "error"
