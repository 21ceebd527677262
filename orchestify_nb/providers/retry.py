"""The backoff policy shared by every provider.

The SDKs' own retry loops are switched off (``max_retries=0``) so that all providers, LiteLLM
included, retry the same way: exponential backoff with full jitter on retryable errors, and the
server's ``Retry-After`` honoured when it is given. 4xx client errors are never retried.

A timeout of our own (nothing arrived within the provider's ``timeout``) is not retried either:
``timeout`` bounds the caller's wait, and another attempt would double it. A server's quick 408
(a ``ProviderTimeoutError`` with a status code) is retried like any retryable status.
"""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass

from orchestify_nb.errors import ProviderError, ProviderTimeoutError


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How many times to retry and how long to wait between attempts."""

    max_retries: int = 2
    base_delay_s: float = 0.5
    max_delay_s: float = 30.0
    max_retry_after_s: float = 60.0

    def should_retry(self, error: BaseException, attempt: int) -> bool:
        """Whether attempt number ``attempt`` (0-based) that failed with ``error`` gets another."""
        if isinstance(error, ProviderTimeoutError) and error.status_code is None:
            return False  # the wait already took the whole bound; see the module docstring
        return isinstance(error, ProviderError) and error.retryable and attempt < self.max_retries

    def delay_s(self, error: BaseException, attempt: int) -> float:
        """Seconds before the next attempt: ``Retry-After`` if sent, else jittered backoff."""
        retry_after = getattr(error, "retry_after", None)
        if retry_after is not None and retry_after >= 0:
            return min(float(retry_after), self.max_retry_after_s)
        ceiling = min(self.max_delay_s, self.base_delay_s * (2**attempt))
        return random.uniform(ceiling / 2, ceiling)

    async def wait(self, error: BaseException, attempt: int, log: logging.Logger) -> None:
        """Sleep before the next attempt, saying why in ``log``."""
        delay = self.delay_s(error, attempt)
        log.info(
            "retrying after %s (attempt %d of %d) in %.2fs",
            type(error).__name__,
            attempt + 1,
            self.max_retries,
            delay,
        )
        await asyncio.sleep(delay)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` (or ``retry-after-ms``) header value, if it is a number.

    HTTP-date values are rare from LLM APIs; they fall back to the jittered backoff.
    """
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if seconds >= 0 else None
