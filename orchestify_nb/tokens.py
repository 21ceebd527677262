"""The one token-count type: what a call used, in the five counts every API reports.

Held by ``LLMResponse``, stream progress, ``UsageRecord`` and ``TokenUsage``, and taken by
``price_call``, so the same numbers have the same names everywhere. It sits at the bottom of the
package (it imports nothing of ours): providers, pricing and the ledger all speak it.
"""

from __future__ import annotations

from dataclasses import astuple, dataclass, fields
from typing import Any, Protocol, overload

__all__ = ["CountOf", "TokenCounts", "counts_of"]


@dataclass(frozen=True, slots=True)
class TokenCounts:
    """Tokens of one call (or a sum of calls), in one convention for every provider.

    ``input`` counts *all* prompt tokens, cached ones included; ``cache_read`` and
    ``cache_write`` are the parts of it read from or written to the prompt cache. ``reasoning``
    tokens are included in ``output``.
    """

    input: int = 0
    output: int = 0
    cache_read: int = 0
    cache_write: int = 0
    reasoning: int = 0

    @property
    def total(self) -> int:
        return self.input + self.output

    def __bool__(self) -> bool:
        """True when any token was counted (an unfinished call may have none)."""
        return bool(self.input or self.output)

    def __add__(self, other: TokenCounts) -> TokenCounts:
        return TokenCounts(*(a + b for a, b in zip(astuple(self), astuple(other), strict=True)))


class _HoldsTokens(Protocol):
    @property
    def tokens(self) -> TokenCounts: ...


class CountOf:
    """A read-only attribute that reads one count of its owner's ``tokens``.

    It keeps the names users already read working without a second copy of the numbers:
    ``LLMResponse.tokens_input`` (the seed's name), ``UsageRecord.input_tokens`` (the ledger's
    column name) and ``TokenUsage.total_input`` all read ``tokens.input``.
    """

    __slots__ = ("count",)

    def __init__(self, count: str) -> None:
        self.count = count

    @overload
    def __get__(self, instance: None, owner: type[Any]) -> CountOf: ...

    @overload
    def __get__(self, instance: _HoldsTokens, owner: type[Any]) -> int: ...

    def __get__(self, instance: _HoldsTokens | None, owner: type[Any]) -> int | CountOf:
        if instance is None:
            return self
        value: int = getattr(instance.tokens, self.count)
        return value


def counts_of() -> tuple[CountOf, CountOf, CountOf, CountOf, CountOf]:
    """One ``CountOf`` per count, in ``TokenCounts`` field order (input, output, cache_read,
    cache_write, reasoning), to unpack into a class's names for them."""
    input_, output, cache_read, cache_write, reasoning = (
        CountOf(f.name) for f in fields(TokenCounts)
    )
    return input_, output, cache_read, cache_write, reasoning
