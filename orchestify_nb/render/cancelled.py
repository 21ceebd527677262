"""What a stopped call used: its ledger row, read back for the footers of an interrupted
``%%llm`` cell and of a turn stopped in the panel.

The provider base class writes a ``cancelled`` row with the usage reported so far when a call is
cancelled; the stopped call's footer shows those tokens and that cost instead of nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from orchestify_nb.providers.base import LLMProvider
    from orchestify_nb.providers.types import LLMResponse
    from orchestify_nb.usage.record import UsageRecord


def cancelled_record(provider: LLMProvider, since: datetime) -> UsageRecord | None:
    """The newest ``cancelled`` row of ``provider`` written by this kernel since ``since``
    (``None`` when the provider records somewhere other than a ledger, or nothing matched)."""
    from orchestify_nb.usage.ledger import Ledger

    ledger = provider.usage_sink
    if not isinstance(ledger, Ledger):
        return None
    try:
        rows = ledger.records(since=since, provider=provider.provider_id, status="cancelled")
    except Exception:  # a ledger that cannot be read must not hide the partial answer
        return None
    mine = [row for row in rows if row.session_id == ledger.session_id]
    return mine[-1] if mine else None


def partial_response(record: UsageRecord, text: str, thinking: str = "") -> LLMResponse:
    """A stopped answer as a response: the text shown, the usage recorded."""
    from orchestify_nb.providers.types import LLMResponse

    return LLMResponse(
        content=text,
        thinking=thinking,
        model=record.model,
        model_requested=record.model_requested,
        provider_id=record.provider_id,
        tokens=record.tokens,
        cost_usd=record.cost_usd,
        priced=record.priced,
        price_source=record.price_source,
        latency_s=record.latency_s,
        time_to_first_token_s=record.time_to_first_token_s,
        finish_reason="cancelled",
        record_id=record.id,
    )
