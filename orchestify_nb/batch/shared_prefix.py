"""A batch's rows usually share a template's leading text: ask the prompt cache for it.

``df.llm.complete("Classify per our guide: <3 pages> ... {review}")`` sends the same three pages
in every row. Cut at what every row's prompt starts with, that text is cached on the first row
and read at a tenth of the price by the rows after it (Anthropic), or routed to one cache by a
shared ``prompt_cache_key`` (OpenAI). It is on by default; ``cache_prompt=False`` turns it off.
"""

from __future__ import annotations

from dataclasses import replace

from orchestify_nb.providers.prompt_cache import PromptCache
from orchestify_nb.providers.types import LLMRequest

#: Shared text shorter than this (about 256 tokens) is below every model's cacheable minimum
#: even with a system prompt in front of it, unless that system prompt is long by itself.
MIN_SHARED_CHARS = 1024
#: A system prompt this long (about 1,024 tokens) is worth caching in a batch on its own.
MIN_SYSTEM_CHARS = 4096
#: Backends with a prompt cache to ask (the local model has none to share across rows).
CACHING_BACKENDS = frozenset({"anthropic", "openai", "litellm"})


def share_prompt_prefix(
    requests: list[LLMRequest], provider_type: str, *, declined: bool
) -> list[LLMRequest]:
    """``requests`` with a ``PromptCache`` that marks the rows' shared leading text, when there
    is enough shared text (or system prompt) to be worth it; unchanged otherwise, or when the
    caller passed ``cache_prompt=False`` (``declined``)."""
    if declined or provider_type not in CACHING_BACKENDS or len(requests) < 2:
        return requests
    last_turns = [r.messages[-1] for r in requests if r.messages]
    if len(last_turns) != len(requests) or any(turn.role != "user" for turn in last_turns):
        return requests
    if any(not isinstance(turn.content, str) for turn in last_turns):
        return requests  # rows with images: their text is not one prefix
    shared = common_prefix_length([turn.text for turn in last_turns])
    if shared < MIN_SHARED_CHARS:
        shared = 0
    system = requests[0].system or ""
    if not shared and len(system) < MIN_SYSTEM_CHARS:
        return requests
    return [
        replace(
            request,
            prompt_cache=replace(request.prompt_cache or PromptCache(), shared_prefix_chars=shared),
        )
        for request in requests
    ]


def common_prefix_length(texts: list[str]) -> int:
    """How many leading characters every text shares (those of the smallest and the largest
    text in sort order are shared by all)."""
    first, last = min(texts), max(texts)
    for index, (a, b) in enumerate(zip(first, last, strict=False)):
        if a != b:
            return index
    return len(first)
