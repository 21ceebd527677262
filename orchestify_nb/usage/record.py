"""One row of the usage ledger: everything a bill, a budget or a DataFrame needs about a call."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

CallStatus = Literal["ok", "error", "cancelled"]


def _new_id() -> str:
    return uuid.uuid4().hex


@dataclass(slots=True)
class UsageRecord:
    """A finished call (ok, failed or cancelled), as the provider base class saw it.

    Token fields follow one convention for every provider: ``input_tokens`` counts *all* prompt
    tokens, cached ones included; ``cache_read_tokens`` and ``cache_write_tokens`` are the parts of
    it served from or written to the prompt cache. ``reasoning_tokens`` are in ``output_tokens``.
    """

    provider_id: str
    provider_type: str
    model_requested: str
    model: str
    started_at: datetime
    finished_at: datetime
    status: CallStatus = "ok"
    input_tokens: int = 0
    output_tokens: int = 0
    cache_write_tokens: int = 0
    cache_read_tokens: int = 0
    reasoning_tokens: int = 0
    cost_usd: float | None = None
    priced: bool = False
    price_source: str | None = None
    latency_s: float | None = None
    time_to_first_token_s: float | None = None
    finish_reason: str | None = None
    error_type: str | None = None
    agent: str | None = None
    tag: str | None = None
    notebook_path: str | None = None
    cell_execution_count: int | None = None
    #: The kernel (process) that made the call; the ledger fills it in when it writes the row.
    session_id: str | None = None
    id: str = field(default_factory=_new_id)

    @staticmethod
    def now() -> datetime:
        """The ledger's clock: timezone-aware UTC."""
        return datetime.now(UTC)
