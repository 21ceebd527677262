"""One call while it runs: its request, what has arrived, its clock and its watchdog.

The base class's call loop keeps one ``CallInProgress`` per attempt, so a finished, failed or
cancelled attempt turns into its ``LLMResponse`` (and ledger row) the same way.
"""

from __future__ import annotations

import time

from orchestify_nb.providers.deadline import Watchdog
from orchestify_nb.providers.types import LLMRequest, LLMResponse, StreamEnd, StreamProgress
from orchestify_nb.usage.record import UsageRecord


class CallInProgress:
    """An attempt at one request: ``progress`` gathers the answer, ``end`` is the provider's
    ``StreamEnd`` once the API's end marker came, ``shown`` whether a delta reached the caller
    (after which a failure is not retried: the caller has shown text)."""

    __slots__ = ("end", "progress", "request", "shown", "started", "started_wall", "watchdog")

    def __init__(self, request: LLMRequest, timeout_s: float | None) -> None:
        self.request = request
        self.progress = StreamProgress()
        self.watchdog = Watchdog(timeout_s)
        self.end: StreamEnd | None = None
        self.shown = False
        self.started_wall = UsageRecord.now()
        self.started = time.perf_counter()

    def response(self) -> LLMResponse:
        """The answer so far (complete once ``end`` is set), with its timing."""
        response = self.progress.response(self.request.model, self.end)
        response.latency_s = time.perf_counter() - self.started
        first = self.progress.first_token_at
        response.time_to_first_token_s = (
            first - self.started if first is not None else response.latency_s
        )
        return response
