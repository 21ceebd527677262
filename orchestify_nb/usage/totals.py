"""Running totals of calls: what ``provider.get_usage()`` and ``Ledger.totals()`` return."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from orchestify_nb.tokens import TokenCounts, counts_of
from orchestify_nb.usage.record import UsageRecord

__all__ = ["TokenUsage", "totals_from_sums"]


@dataclass(slots=True)
class TokenUsage:
    """Totals for one provider (or, summed, for a registry) since the last reset.

    ``tokens`` holds the summed counts; ``total_input``, ``total_output``, ``total_cache_read``,
    ``total_cache_write`` and ``total_reasoning`` read them under the seed's names.
    """

    tokens: TokenCounts = field(default_factory=TokenCounts)
    total_cost_usd: float = 0.0
    call_count: int = 0
    error_count: int = 0
    cancelled_count: int = 0
    unpriced_calls: int = 0

    #: The seed's names for the summed counts, read from ``tokens``.
    total_input, total_output, total_cache_read, total_cache_write, total_reasoning = counts_of()

    @property
    def total_tokens(self) -> int:
        return self.tokens.total

    def add_record(self, record: UsageRecord) -> None:
        """Fold one ledger record into the totals."""
        self.call_count += 1
        self.tokens += record.tokens
        if record.cost_usd is not None:
            self.total_cost_usd += record.cost_usd
        elif record.tokens:
            self.unpriced_calls += 1
        if record.status == "error":
            self.error_count += 1
        elif record.status == "cancelled":
            self.cancelled_count += 1

    def copy(self) -> TokenUsage:
        return replace(self)

    def __add__(self, other: TokenUsage) -> TokenUsage:
        return TokenUsage(
            tokens=self.tokens + other.tokens,
            total_cost_usd=self.total_cost_usd + other.total_cost_usd,
            call_count=self.call_count + other.call_count,
            error_count=self.error_count + other.error_count,
            cancelled_count=self.cancelled_count + other.cancelled_count,
            unpriced_calls=self.unpriced_calls + other.unpriced_calls,
        )


def totals_from_sums(row: Sequence[object]) -> TokenUsage:
    """Totals from one SQL row of sums, as both ledger stores select them: calls, input,
    output, cost, cache read, cache write, reasoning, errors, cancelled, unpriced calls."""
    numbers = [float(value) for value in row]  # type: ignore[arg-type]  # SQL numbers
    calls, inputs, outputs, cost, read, written, reasoning, errors, cancelled, unpriced = numbers
    return TokenUsage(
        call_count=int(calls),
        tokens=TokenCounts(
            input=int(inputs),
            output=int(outputs),
            cache_read=int(read),
            cache_write=int(written),
            reasoning=int(reasoning),
        ),
        total_cost_usd=cost,
        error_count=int(errors),
        cancelled_count=int(cancelled),
        unpriced_calls=int(unpriced),
    )
