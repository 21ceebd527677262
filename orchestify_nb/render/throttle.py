"""How often a live display may be redrawn.

Front ends fall far behind when flooded (2,000 unthrottled display updates leave JupyterLab
about 18 s behind), so every live view (the magic's output, the panel) redraws at most every
``interval_s`` and always sends one final update when the stream ends.
"""

from __future__ import annotations

import time


class UpdateThrottle:
    """Says whether enough time has passed since the last redraw.

    Uses the monotonic clock, so wall-clock jumps never stall or flood a display. The first call
    to ``due()`` is always true: the first token appears at once.
    """

    def __init__(self, interval_s: float = 0.1) -> None:
        self.interval_s = interval_s
        self._last: float | None = None

    def due(self) -> bool:
        """True (and the clock restarts) when a redraw may be sent now."""
        now = time.monotonic()
        if self._last is None or now - self._last >= self.interval_s:
            self._last = now
            return True
        return False

    def reset(self) -> None:
        """Forget the last redraw, so the next ``due()`` is true (a new answer starts)."""
        self._last = None
