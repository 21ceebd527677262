"""Budget reservations: a call holds its worst-case cost against the budgets while it runs.

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
import math
import weakref
from collections.abc import AsyncGenerator, Callable
from types import TracebackType
from typing import TYPE_CHECKING, Protocol, TypeVar

from orchestify_nb.errors import BudgetExceededError
from orchestify_nb.usage.budgets import exceeded_message, reservation_message

if TYPE_CHECKING:
    from collections.abc import Sequence

    from orchestify_nb.providers.base import LLMProvider
    from orchestify_nb.providers.types import LLMRequest
    from orchestify_nb.usage.budgets import BudgetStatus

T = TypeVar("T")

#: Tokens of framing per message and per request (role markers, separators), as OpenAI counts.
_TOKENS_PER_MESSAGE = 3
_TOKENS_PER_REQUEST = 3
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


def estimate_input_tokens(request: LLMRequest) -> int:
    """Prompt tokens of ``request``, counted as characters / 4 plus per-message framing: cheap
    enough for every call, and the same rule as the batch estimate's fallback."""
    texts = [request.system or "", *(message.content for message in request.messages)]
    texts.extend(repr(tool) for tool in request.tools)
    framing = _TOKENS_PER_REQUEST + _TOKENS_PER_MESSAGE * len(request.messages)
    return framing + sum(math.ceil(len(text) / 4) for text in texts)


def worst_case_cost(provider: LLMProvider, request: LLMRequest) -> float | None:
    """The most ``request`` can cost: ``max_tokens`` at the output price plus the estimated
    prompt at the input price; ``None`` when the model has no known price."""
    from orchestify_nb.pricing import price_call

    quote = price_call(
        provider_type=provider.provider_type,
        model=request.model,
        input_tokens=estimate_input_tokens(request),
        output_tokens=request.max_tokens,
        overrides=provider.pricing_overrides,
        base_url=provider.base_url,
    )
    return quote.cost_usd if quote.priced else None


def reserve_budget(provider: LLMProvider, request: LLMRequest) -> BudgetReservation:
    """Reserve ``request``'s worst case on the provider's sink before it is sent; ``await
    wait()`` on the result before sending (it may be queued behind calls in flight).

    Raises ``BudgetExceededError`` when the call does not fit what is spent. A sink without
    reservations (a custom one) is only asked ``check_budget``.
    """
    sink = provider.usage_sink
    reserve: Callable[[str, float | None], BudgetReservation] | None = getattr(
        sink, "reserve", None
    )
    if reserve is None:
        sink.check_budget(provider.provider_id)
        return BudgetReservation(None, provider.provider_id, 0.0)
    needed = getattr(sink, "budgets", True)  # no budgets: nothing to price
    worst = worst_case_cost(provider, request) if needed else None
    try:
        return reserve(provider.provider_id, worst)
    except BudgetInFlightError:
        return BudgetReservation(
            None, provider.provider_id, 0.0, lambda: reserve(provider.provider_id, worst)
        )


def released_after(
    stream: AsyncGenerator[T, None], reservation: BudgetReservation
) -> AsyncGenerator[T, None]:
    """``stream``, started once ``reservation`` is held and releasing it when it ends, is
    closed, or is dropped unstarted."""

    async def relay() -> AsyncGenerator[T, None]:
        try:
            await reservation.wait()
            async for item in stream:
                yield item
        finally:
            try:
                await stream.aclose()  # records a call cut short, before its budget is freed
            finally:
                reservation.release()

    relayed = relay()
    weakref.finalize(relayed, reservation.release)
    return relayed
