"""Time to first token as the user saw it: from the start of the cell, not of the request.

A provider's ``time_to_first_token_s`` starts its clock after the SDK is imported and the
client built, which is right for comparing APIs but hides a wait the user sat through. The
magic says when the user's wait began (``user_waiting_since``); a renderer made inside that
block measures its first token from there and shows it in the footer. A renderer made
elsewhere (the panel, a script) has no cell whose start it could measure from, and adds nothing.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

__all__ = ["FirstTokenClock", "user_waiting_since"]

_waiting_since: ContextVar[float | None] = ContextVar("orchestify_waiting_since", default=None)


@contextmanager
def user_waiting_since(started: float) -> Iterator[None]:
    """Renderers made in this block count from ``started`` (a ``time.monotonic()`` value)."""
    token = _waiting_since.set(started)
    try:
        yield
    finally:
        _waiting_since.reset(token)


class FirstTokenClock:
    """When the user's wait began (``None`` outside ``user_waiting_since``) and when the first
    token arrived."""

    def __init__(self) -> None:
        self.started = _waiting_since.get()
        self.first_token_at: float | None = None

    def token_arrived(self) -> None:
        if self.first_token_at is None:
            self.first_token_at = time.monotonic()

    def note(self) -> str:
        """``first token 0.31 s``, or nothing when no token streamed or no wait was marked."""
        if self.first_token_at is None or self.started is None:
            return ""
        return f"first token {self.first_token_at - self.started:.2f} s"
