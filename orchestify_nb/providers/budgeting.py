"""A call's side of budget reservations: what a request may cost at most, and holding that
amount against the budgets from before it is sent until its ledger row is written.

The ledger's side (the admission rule, the bound it gives) is ``usage/reservations.py``.
"""

from __future__ import annotations

import weakref
from collections.abc import AsyncGenerator, Callable
from typing import TYPE_CHECKING, TypeVar

from orchestify_nb.providers.content import media_tokens
from orchestify_nb.providers.types import LLMRequest
from orchestify_nb.token_counting import (
    HEURISTIC_COUNTER,
    TOKENS_PER_MESSAGE,
    TOKENS_PER_REQUEST,
)
from orchestify_nb.tokens import TokenCounts
from orchestify_nb.usage.reservations import BudgetInFlightError, BudgetReservation

if TYPE_CHECKING:
    from orchestify_nb.providers.accounting import CallAccounting as LLMProvider

T = TypeVar("T")


def estimate_input_tokens(request: LLMRequest) -> int:
    """Prompt tokens of ``request``, counted as characters / 4 plus per-message framing: cheap
    enough for every call, and the same rule as the batch estimate's fallback."""
    texts = [request.system or "", *(message.text for message in request.messages)]
    texts.extend(repr(tool) for tool in request.tools)
    framing = TOKENS_PER_REQUEST + TOKENS_PER_MESSAGE * len(request.messages)
    media = media_tokens(message.content for message in request.messages)
    return framing + media + sum(HEURISTIC_COUNTER.count_text(text) for text in texts)


def worst_case_cost(provider: LLMProvider, request: LLMRequest) -> float | None:
    """The most ``request`` can cost: ``max_tokens`` at the output price plus the estimated
    prompt at the input price; ``None`` when the model has no known price."""
    from orchestify_nb.pricing import price_call

    quote = price_call(
        provider_type=provider.provider_type,
        model=request.model,
        tokens=TokenCounts(input=estimate_input_tokens(request), output=request.max_tokens),
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
