"""What a batch will cost, worked out before the first request is sent.

Input tokens are counted per row (see ``tokens``); output is unknown until the answers arrive, so
the estimate gives two figures: the input cost, which the batch will certainly spend, and the
ceiling if every answer used its full ``max_tokens``. Rows are priced one by one (not as one sum)
because some models charge a higher rate for long prompts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from orchestify_nb.providers.base import LLMProvider
from orchestify_nb.providers.content import media_tokens
from orchestify_nb.providers.types import LLMRequest
from orchestify_nb.token_counting import get_token_counter
from orchestify_nb.tokens import TokenCounts

if TYPE_CHECKING:
    from orchestify_nb.pricing import PriceQuote


@dataclass(frozen=True, slots=True)
class BatchEstimate:
    """Estimated size and cost of the rows about to be sent.

    ``row_input_tokens`` holds one figure per row sent (the token-per-minute limiter books
    ``row_input_tokens[i] + max_tokens`` for row ``i``). Costs are ``None`` when the model has no
    known price. ``method`` says how tokens were counted: an estimate, never a bill.
    """

    rows: int
    model: str | None
    input_tokens: int
    max_output_tokens: int
    input_cost_usd: float | None
    max_cost_usd: float | None
    method: str
    price_source: str | None
    row_input_tokens: tuple[int, ...]
    #: ``"batch"``: priced at the provider batch job rate (``pricing.price_batch_call``).
    rate: str = "realtime"

    def summary(self) -> str:
        """One line for the user: rows, tokens, and the cost range (and at which rate)."""
        if self.input_cost_usd is None or self.max_cost_usd is None:
            cost = "cost unknown (no price for this model)"
        else:
            cost = f"${self.input_cost_usd:,.4f} for input, at most ${self.max_cost_usd:,.4f}"
            if self.rate == "batch":
                cost += f" at the batch rate ({self.price_source})"
        return (
            f"Estimate: {self.rows:,} {'requests' if self.rate == 'batch' else 'rows'}, "
            f"~{self.input_tokens:,} input tokens "
            f"({self.method}), ≤ {self.max_output_tokens:,} output tokens; {cost}"
        )


def request_texts(request: LLMRequest) -> list[str]:
    """The texts a request sends as prompt: the system prompt and every message's text."""
    texts = [request.system] if request.system else []
    texts.extend(message.text for message in request.messages)
    return texts


def estimate_batch(
    provider: LLMProvider, requests: Sequence[LLMRequest], *, batch: bool = False
) -> BatchEstimate:
    """Count and price ``requests`` (the rows about to be sent) without sending anything;
    ``batch``: at the rate of a provider batch job, which is what such a job will be billed."""
    counter = get_token_counter()
    row_tokens = tuple(
        counter.count_request(request_texts(request))
        + media_tokens(message.content for message in request.messages)
        for request in requests
    )
    quotes: dict[tuple[str, int, int], tuple[float | None, str | None]] = {}

    def price(model: str, input_tokens: int, output_tokens: int) -> float | None:
        key = (model, input_tokens, output_tokens)
        if key not in quotes:
            tokens = TokenCounts(input=input_tokens, output=output_tokens)
            quote = _quote(provider, model, tokens, batch=batch)
            quotes[key] = (quote.cost_usd if quote.priced else None, quote.source)
        return quotes[key][0]

    input_cost: float | None = 0.0
    max_cost: float | None = 0.0
    for request, tokens in zip(requests, row_tokens, strict=True):
        floor = price(request.model, tokens, 0)
        ceiling = price(request.model, tokens, request.max_tokens)
        input_cost = None if input_cost is None or floor is None else input_cost + floor
        max_cost = None if max_cost is None or ceiling is None else max_cost + ceiling
    sources = {source for _, source in quotes.values() if source}
    return BatchEstimate(
        rows=len(requests),
        model=requests[0].model if requests else None,
        input_tokens=sum(row_tokens),
        max_output_tokens=sum(request.max_tokens for request in requests),
        input_cost_usd=input_cost,
        max_cost_usd=max_cost,
        method=counter.method,
        price_source=", ".join(sorted(sources)) or None,
        row_input_tokens=row_tokens,
        rate="batch" if batch else "realtime",
    )


def _quote(provider: LLMProvider, model: str, tokens: TokenCounts, *, batch: bool) -> PriceQuote:
    """A call's realtime price, or (``batch``) its price in a provider batch job."""
    from orchestify_nb.pricing import price_batch_call

    batch_quote, realtime = price_batch_call(
        provider_type=provider.provider_type,
        model=model,
        tokens=tokens,
        overrides=provider.pricing_overrides,
        base_url=provider.base_url,
    )
    return batch_quote if batch else realtime
