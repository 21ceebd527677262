"""Live, throttled rendering of a stream, in a notebook and in terminal IPython.

``UpdateThrottle`` is shared by the magics and the widget panel; ``StreamRenderer`` draws one
magic answer.
"""

from __future__ import annotations

from orchestify_nb.render.throttle import UpdateThrottle

__all__ = ["UpdateThrottle"]
