"""One call while it runs: its request, what has arrived, its clock and its watchdog.

The base class's call loop keeps one ``CallInProgress`` per attempt, so a finished, failed or
cancelled attempt turns into its ``LLMResponse`` (and ledger row) the same way.

Usage that a server did not report is not zero: llama.cpp's server and others ignore
``stream_options.include_usage``, and a stream cut short has often not reached its usage yet.
When an answer came but no counts did, they are estimated from the request and the text
(``token_counting``) and the response says ``usage_estimated``; a call that broke off before any
counts came stays at zero tokens and unpriced (its cost is unknown, never $0). Counts a
server reports that cannot be true (negative, or beyond any model's context) are replaced the
same way, with a warning: ``completion_tokens: -1000000`` must not refund a budget.
(Inconsistent but possible counts, such as cache reads above the prompt, are kept: pricing
bills the larger figure.)
"""

from __future__ import annotations

import logging
import time
from dataclasses import astuple

from orchestify_nb.providers.deadline import Watchdog
from orchestify_nb.providers.types import LLMRequest, LLMResponse, StreamEnd, StreamProgress
from orchestify_nb.tokens import TokenCounts
from orchestify_nb.usage.record import UsageRecord

logger = logging.getLogger("orchestify_nb.providers")

#: More tokens than any one call can use: a count above it is a server's mistake.
IMPLAUSIBLE_TOKENS = 50_000_000


class CallInProgress:
    """An attempt at one request: ``progress`` gathers the answer, ``end`` is the provider's
    ``StreamEnd`` once the API's end marker came, ``shown`` whether a delta reached the caller
    (after which a failure is not retried: the caller has shown text)."""

    __slots__ = ("end", "progress", "request", "shown", "started", "started_wall", "watchdog")

    def __init__(self, request: LLMRequest, timeout_s: float | None) -> None:
        self.request = request
        self.progress = StreamProgress()
        self.watchdog = Watchdog(timeout_s)
        self.end: StreamEnd | None = None
        self.shown = False
        self.started_wall = UsageRecord.now()
        self.started = time.perf_counter()

    def response(self) -> LLMResponse:
        """The answer so far (complete once ``end`` is set), with its timing."""
        response = self.progress.response(self.request.model, self.end)
        response.latency_s = time.perf_counter() - self.started
        first = self.progress.first_token_at
        response.time_to_first_token_s = (
            first - self.started if first is not None else response.latency_s
        )
        reported = self.progress.tokens if self.progress.usage_reported else None
        if reported is not None and implausible(reported):
            logger.warning(
                "%s reported impossible token counts %s; estimating them instead",
                response.model,
                reported,
            )
        elif reported is not None or self.end is None:
            return response  # as reported; or unfinished with nothing reported: unpriced
        response.tokens = estimate_tokens(self.request, response)
        response.usage_estimated = True
        return response


def implausible(tokens: TokenCounts) -> bool:
    """Counts no real call can have: negative, or beyond any model's context."""
    counts: tuple[int, ...] = astuple(tokens)
    return min(counts) < 0 or max(counts) > IMPLAUSIBLE_TOKENS


def estimate_tokens(request: LLMRequest, response: LLMResponse) -> TokenCounts:
    """The call's counts as the offline counter sees them: the prompt's texts, and the answer's
    text, thinking and tool-call arguments."""
    from orchestify_nb.providers.content import media_tokens
    from orchestify_nb.token_counting import get_token_counter

    counter = get_token_counter()
    prompt = [request.system] if request.system else []
    prompt.extend(message.text for message in request.messages)
    answer = [response.content, response.thinking]
    answer.extend(str(call.arguments) for call in response.tool_calls)
    thinking = counter.count_text(response.thinking) if response.thinking else 0
    return TokenCounts(
        input=counter.count_request(prompt) + media_tokens(m.content for m in request.messages),
        output=sum(counter.count_text(text) for text in answer if text),
        reasoning=thinking,
    )
