"""The batch progress bar: rows done, rows failed, tokens and running cost.

``tqdm.auto`` draws a widget in a notebook and text in a terminal. Redraws are throttled with the
same ``UpdateThrottle`` the magics use: formatting the postfix for each of thousands of fast rows
would cost more than the rows themselves, and the front end cannot show it anyway.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from orchestify_nb.render import UpdateThrottle

if TYPE_CHECKING:
    from orchestify_nb.batch.result import BatchRow


class BatchProgress:
    """Counts finished rows and, when ``enabled``, shows them on a tqdm bar."""

    def __init__(self, *, total: int, description: str, enabled: bool) -> None:
        self.done = 0
        self.failed = 0
        self.tokens = 0
        self.cost_usd = 0.0
        self.unpriced = 0
        self._unshown = 0
        self._throttle = UpdateThrottle(interval_s=0.2)
        self._bar: Any = None
        if enabled:
            from tqdm.auto import tqdm

            self._bar = tqdm(total=total, desc=description, unit="row", dynamic_ncols=True)

    def row_finished(self, row: BatchRow) -> None:
        """Count one finished row (ok or failed) and redraw if one is due."""
        if row.status == "ok":
            self.done += 1
            self.tokens += row.tokens_input + row.tokens_output
            if row.cost_usd is None:
                self.unpriced += 1
            else:
                self.cost_usd += row.cost_usd
        else:
            self.failed += 1
        self._unshown += 1
        if self._bar is not None and self._throttle.due():
            self._redraw()

    def postfix(self) -> str:
        cost = f"${self.cost_usd:,.4f}" + (f"+{self.unpriced} unpriced" if self.unpriced else "")
        return f"ok={self.done} failed={self.failed} tokens={self.tokens:,} cost={cost}"

    def _redraw(self) -> None:
        self._bar.set_postfix_str(self.postfix(), refresh=False)
        self._bar.update(self._unshown)
        self._unshown = 0

    def close(self) -> None:
        """Draw the final state (always) and release the bar."""
        if self._bar is not None:
            self._redraw()
            self._bar.refresh()
            self._bar.close()
            self._bar = None
