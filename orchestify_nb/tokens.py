"""The one token-count type: what a call used, in the five counts every API reports.

Held by ``LLMResponse``, stream progress, ``UsageRecord`` and ``TokenUsage``, and taken by
``price_call``, so the same numbers have the same names everywhere. It sits at the bottom of the
package (it imports nothing of ours): providers, pricing and the ledger all speak it.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["TokenCounts"]


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
        return TokenCounts(
            input=self.input + other.input,
            output=self.output + other.output,
            cache_read=self.cache_read + other.cache_read,
            cache_write=self.cache_write + other.cache_write,
            reasoning=self.reasoning + other.reasoning,
        )
