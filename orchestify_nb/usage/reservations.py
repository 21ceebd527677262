"""Budget reservations: a call holds its worst-case cost against the budgets while it runs.

Checking "is the budget spent?" before each call lets 50 concurrent calls all pass a $5 budget
with $0 spent, and then spend $50. So a call *reserves* its worst case before it is sent
(``Ledger.reserve``): its ``max_tokens`` at the output price plus its prompt at the input price,
the prompt counted as characters / 4. It is refused when spent + reserved + this would pass a
limit, and releases the reservation once its row is recorded (the real cost is then spent).

The bound: spend in one process can pass a budget only by what the reservations under-estimate,
that is, at most ``Σ input_price × (real prompt tokens − estimated prompt tokens)`` over the
calls admitted together, plus the cache-write surcharge of those calls (priced above the input
price by some APIs). The output side never passes: a server cannot bill more than
``max_tokens``. Calls to models without a known price reserve nothing (their cost is unknown, so
it does not count against budgets either); they are still refused once a budget is spent. Other
kernels writing the same ledger file do not see this process's reservations: budgets shared by
several kernels can be passed by up to the reservations of each of them.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import AsyncGenerator
from types import TracebackType
from typing import TYPE_CHECKING, Protocol, TypeVar

if TYPE_CHECKING:
    from orchestify_nb.providers.base import LLMProvider
    from orchestify_nb.providers.types import LLMRequest

T = TypeVar("T")

#: Tokens of framing per message and per request (role markers, separators), as OpenAI counts.
_TOKENS_PER_MESSAGE = 3
_TOKENS_PER_REQUEST = 3


class _Releasing(Protocol):
    def _release(self, reservation: BudgetReservation) -> None: ...


class BudgetReservation:
    """What a call in flight holds against the budgets; ``release()`` (or leaving the ``with``
    block) gives it back. Releasing twice is harmless."""

    __slots__ = ("__weakref__", "_holder", "amount_usd", "provider_id")

    def __init__(self, holder: _Releasing | None, provider_id: str, amount_usd: float) -> None:
        self._holder = holder
        self.provider_id = provider_id
        self.amount_usd = amount_usd

    def release(self) -> None:
        holder, self._holder = self._holder, None
        if holder is not None:
            holder._release(self)

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
        state = "held" if self._holder is not None else "released"
        return f"BudgetReservation({self.provider_id!r}, ${self.amount_usd:.6f}, {state})"


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
    """Reserve ``request``'s worst case on the provider's sink before it is sent.

    Raises ``BudgetExceededError`` when it does not fit. A sink without reservations (a custom
    one) is only asked ``check_budget``.
    """
    sink = provider.usage_sink
    reserve = getattr(sink, "reserve", None)
    if reserve is None:
        sink.check_budget(provider.provider_id)
        return BudgetReservation(None, provider.provider_id, 0.0)
    needed = getattr(sink, "budgets", True)  # no budgets: nothing to price
    worst = worst_case_cost(provider, request) if needed else None
    reservation: BudgetReservation = reserve(provider.provider_id, worst)
    return reservation


def released_after(
    stream: AsyncGenerator[T, None], reservation: BudgetReservation
) -> AsyncGenerator[T, None]:
    """``stream``, releasing ``reservation`` when it ends, is closed, or is dropped unstarted."""

    async def relay() -> AsyncGenerator[T, None]:
        try:
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
