"""Request-per-minute and token-per-minute pacing for batch runs.

Providers enforce their limits over short windows (OpenAI documents that 60,000 rpm may be
enforced as 1,000 requests per second), so a batch that sends a minute's quota in the first
second is throttled with 429s even though it is "under the limit". ``PacedLimiter`` therefore
spaces starts evenly: a token bucket holding one request's worth, refilled at the configured
rate. Waiters are served in arrival order, and the limiter never sleeps while holding a lock.
"""

from __future__ import annotations

import asyncio
import time


class PacedLimiter:
    """Admits work at ``per_minute`` units per minute, evenly spaced.

    ``acquire(amount)`` reserves the next free slot and sleeps until it: the first caller goes
    at once, every later one waits ``amount * 60 / per_minute`` seconds after the previous
    reservation. Over any window of ``w`` seconds at most ``per_minute * w / 60`` units start,
    plus the one reservation in flight at the window's start. Reserving is synchronous (no
    ``await`` between reading and moving the schedule), so concurrent workers cannot race.
    """

    def __init__(self, per_minute: float) -> None:
        if per_minute <= 0:
            raise ValueError(f"a rate limit must be positive, got {per_minute!r} per minute")
        self.per_minute = per_minute
        self._seconds_per_unit = 60.0 / per_minute
        self._next_free = 0.0

    def reserve(self, amount: float = 1.0) -> float:
        """Book ``amount`` units; returns how many seconds to wait before starting."""
        now = time.monotonic()
        start = max(self._next_free, now)
        self._next_free = start + amount * self._seconds_per_unit
        return start - now

    async def acquire(self, amount: float = 1.0) -> None:
        """Wait for this caller's slot (cancellation while waiting is safe)."""
        delay = self.reserve(amount)
        if delay > 0:
            await asyncio.sleep(delay)
