"""Budget reservations: a call holds its worst-case cost against the budgets while it runs.

This is the ledger's side (``Ledger.reserve``, the admission rule); the provider's side (what a
request may cost, holding a reservation around a call) is ``providers/budgeting.py``.

Checking "is the budget spent?" before each call lets 50 concurrent calls all pass a $5 budget
with $0 spent, and then spend $50. So a call *reserves* its worst case before it is sent
(``Ledger.reserve``): its ``max_tokens`` at the output price plus its prompt at the input price,
the prompt counted as characters / 4 plus per-message framing.

The rule: a call is admitted when the budget is not spent and either nothing is in flight (a
lone call goes as it did before reservations) or spent + reserved + its worst case fits the
limit; otherwise it waits for the calls in flight (they usually cost less than they reserved),
then is admitted or refused. The reservation is released once the call's row is recorded, when
its real cost is spent.

The bound, per process: spend passes a limit by at most **one call's worst case** (the lone call
admitted with the budget not yet spent) **plus what the prompt estimates under-count**, i.e.
``Σ input_price × (real − estimated prompt tokens)`` over the calls admitted together, and the
cache-write surcharge some APIs add to the input price. The output side never passes: a server
does not bill more than ``max_tokens``. So 50 concurrent $1 calls against a $5 budget spend at
most $6, not $50. Calls to models without a known price reserve nothing (their cost is unknown,
so it does not count against budgets either); they are still refused once a budget is spent.
Other kernels writing the same ledger file do not see this process's reservations: a budget
shared by several kernels can be passed by up to the bound of each of them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Protocol

from orchestify_nb.errors import BudgetExceededError
from orchestify_nb.usage.budgets import exceeded_message, reservation_message

if TYPE_CHECKING:
    from collections.abc import Sequence

    from orchestify_nb.usage.budgets import BudgetStatus

#: How often a call waiting behind calls in flight tries again (they end on other threads too).
WAIT_POLL_S = 0.02


class BudgetInFlightError(BudgetExceededError):
    """The call fits what is spent, but not with what the calls in flight have reserved."""


class _Releasing(Protocol):
    def _release(self, reservation: BudgetReservation) -> None: ...


class BudgetReservation:
    """What a call holds against the budgets; ``release()`` (or leaving the ``with`` block) gives
    it back, and releasing twice is harmless. A reservation *queued* behind calls in flight
    holds nothing until ``await wait()`` returns."""

    __slots__ = ("__weakref__", "_holder", "_queued", "amount_usd", "provider_id")

    def __init__(
        self,
        holder: _Releasing | None,
        provider_id: str,
        amount_usd: float,
        queued: Callable[[], BudgetReservation] | None = None,
    ) -> None:
        self._holder = holder
        self._queued = queued
        self.provider_id = provider_id
        self.amount_usd = amount_usd

    async def wait(self) -> None:
        """Return once the reservation is held; ``BudgetExceededError`` if, once the calls in
        flight have spent, the call no longer fits."""
        while self._queued is not None:
            await asyncio.sleep(WAIT_POLL_S)
            queued = self._queued
            if queued is None:
                return
            try:
                held = queued()
            except BudgetInFlightError:
                continue
            self._queued, self._holder, self.amount_usd = None, held, held.amount_usd

    def release(self) -> None:
        self._queued = None
        holder, self._holder = self._holder, None
        if holder is not None:
            holder._release(self)

    def _release(self, reservation: BudgetReservation) -> None:
        """A queued reservation holds the one it waited for: releasing it releases that one."""
        self.release()

    def __enter__(self) -> BudgetReservation:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()

    def __repr__(self) -> str:
        state = "queued" if self._queued else "held" if self._holder is not None else "released"
        return f"BudgetReservation({self.provider_id!r}, ${self.amount_usd:.6f}, {state})"


def refuse_unless_admitted(
    statuses: Sequence[BudgetStatus], provider_id: str, amount_usd: float
) -> None:
    """Apply the rule above to the budgets covering a call: ``BudgetExceededError`` when one is
    spent, ``BudgetInFlightError`` when the call must wait for the calls in flight."""
    for status in statuses:
        if status.state == "exceeded":
            message, hint = exceeded_message(status)
            raise BudgetExceededError(message, provider_id=provider_id, hint=hint)
    for status in statuses:
        # Alone (nothing reserved), a call goes as it did before reservations: while the budget
        # is not spent. That one call is the bound's "one call's worst case".
        if (
            amount_usd
            and status.reserved_usd
            and status.spent_usd + status.reserved_usd + amount_usd > status.limit_usd
        ):
            message, hint = reservation_message(status, amount_usd)
            raise BudgetInFlightError(message, provider_id=provider_id, hint=hint)
