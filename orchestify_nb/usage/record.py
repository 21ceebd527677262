"""One row of the usage ledger: everything a bill, a budget or a DataFrame needs about a call."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from orchestify_nb.tokens import TokenCounts, counts_of

CallStatus = Literal["ok", "error", "cancelled"]
#: How the answer was obtained: a live API call, a provider batch job, or the response cache.
CallMode = Literal["realtime", "batch", "cache"]


def _new_id() -> str:
    return uuid.uuid4().hex


@dataclass(slots=True)
class UsageRecord:
    """A finished call (ok, failed or cancelled), as the provider base class saw it.

    ``tokens`` follows ``TokenCounts``' one convention for every provider; the ledger's columns
    spell its counts ``input_tokens``, ``output_tokens``, ``cache_read_tokens``,
    ``cache_write_tokens`` and ``reasoning_tokens``.
    """

    provider_id: str
    provider_type: str
    model_requested: str
    model: str
    started_at: datetime
    finished_at: datetime
    status: CallStatus = "ok"
    tokens: TokenCounts = field(default_factory=TokenCounts)
    #: The server reported no (usable) counts, so ``tokens`` were estimated from the text.
    usage_estimated: bool = False
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
    #: The logical call this turn belongs to (a tool loop, a repaired answer) and its turn number.
    run_id: str | None = None
    step: int | None = None
    mode: CallMode = "realtime"
    #: The provider batch job that answered (``mode="batch"``).
    batch_job_id: str | None = None
    #: Who spent it and for what (a team ledger groups by these).
    user: str | None = None
    project: str | None = None
    #: What the cache spared: the cost of the call it replayed (``mode="cache"``), and what the
    #: provider's prompt cache saved against the normal input price.
    saved_usd: float | None = None
    prompt_cache_saved_usd: float | None = None
    id: str = field(default_factory=_new_id)

    #: The counts under the ledger's column names, as rows and DataFrames spell them.
    input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens = (
        counts_of()
    )

    @staticmethod
    def now() -> datetime:
        """The ledger's clock: timezone-aware UTC."""
        return datetime.now(UTC)
