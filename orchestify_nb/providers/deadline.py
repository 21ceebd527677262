"""Bounding a call by the provider's ``timeout``, whatever the server does.

An SDK's read timeout restarts with every byte, so a server that sends SSE keep-alives forever,
trickles whitespace or a byte every few seconds holds a call indefinitely. ``Watchdog`` bounds
what we wait for instead: a whole non-streamed answer, or, in a stream, each next event (a
stream that keeps delivering text may run as long as it delivers). It costs two attribute
stores per event and one timer per ``timeout``, not a timer per event, so the stream's hot path
stays as fast as the SDK's.
"""

from __future__ import annotations

import asyncio
from types import TracebackType

from orchestify_nb.errors import ProviderTimeoutError


class WatchdogExpired(Exception):
    """Raised out of ``Watchdog`` when the wait it bounds ran past the limit."""

    def __init__(self, waited_s: float) -> None:
        super().__init__(f"nothing arrived for {waited_s:.1f}s")
        self.waited_s = waited_s

    def as_error(self, provider_id: str, model: str) -> ProviderTimeoutError:
        """The caller's error: a ``ProviderTimeoutError`` without a status code, which the retry
        policy does not retry (the wait already took the whole bound)."""
        return ProviderTimeoutError(
            f"no answer within the provider's timeout ({self.waited_s:g}s)",
            provider_id=provider_id,
            model=model,
            hint="Raise timeout: in the provider's config if the model is slow to answer.",
        )


class Watchdog:
    """Cancels the task when one wait for the server lasts ``limit_s``.

    The caller sets ``waiting_since = time.monotonic()`` (the event loop's clock) before it
    waits and ``None`` when something arrived: plain attribute stores, as this runs once per
    streamed chunk. Time the consumer spends between events does not count. On expiry the
    cancellation is turned into ``WatchdogExpired`` on exit; a cancellation from outside (the
    user's Stop) still propagates as ``CancelledError``.
    """

    __slots__ = ("_handle", "_loop", "_task", "expired", "limit_s", "waiting_since")

    def __init__(self, limit_s: float | None) -> None:
        self.limit_s = limit_s
        self.expired = False
        self.waiting_since: float | None = None
        self._handle: asyncio.TimerHandle | None = None
        self._task: asyncio.Task[object] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def __aenter__(self) -> Watchdog:
        if self.limit_s is not None and self.limit_s > 0:
            self._loop = asyncio.get_running_loop()
            self._task = asyncio.current_task()
            self._handle = self._loop.call_later(self.limit_s, self._check)
        return self

    def _check(self) -> None:
        assert self._loop is not None and self.limit_s is not None
        now = self._loop.time()
        since = self.waiting_since
        if since is not None and now - since >= self.limit_s:
            self.expired = True
            if self._task is not None:
                self._task.cancel()
            return
        due = (since if since is not None else now) + self.limit_s
        self._handle = self._loop.call_at(due, self._check)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._handle is not None:
            self._handle.cancel()
        if self.expired and self._task is not None and self._task.uncancel() == 0:
            # Our own cancellation, and nobody else's pending: report it as a timeout (whatever
            # the SDK turned the cancellation into on its way out).
            raise WatchdogExpired(self.limit_s or 0.0) from None
