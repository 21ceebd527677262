"""Anthropic's prompt cache, as the emulator plays it: which prefixes a request marks with
``cache_control``, which of them an earlier request wrote, and the usage that results.

The rules are the API's: the prefix runs tools → system → messages up to a breakpoint; at most
four breakpoints (a top-level ``cache_control`` puts one on the last block); a prefix shorter
than the model's minimum is not cached; a read refreshes the entry's lifetime (5 minutes, or 1
hour with ``"ttl": "1h"``); a request reads the longest prefix cached before and writes the
rest, up to its last breakpoint. The token counts use the emulator's own estimate, so a test
checks our accounting against what the emulator reported, not against a tokenizer.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from orchestify_nb.providers.prompt_cache import MAX_BREAKPOINTS, minimum_cacheable_tokens
from orchestify_nb.testing.script import approximate_tokens

_TTL_SECONDS = {"5m": 300.0, "1h": 3600.0}


@dataclass(frozen=True, slots=True)
class Breakpoint:
    """A marked prefix: its fingerprint, its estimated size and how long it is kept."""

    fingerprint: str
    tokens: int
    ttl_s: float


def breakpoint_problem(body: dict[str, Any]) -> str | None:
    """The API's 400 for too many breakpoints or an unknown TTL, else ``None``."""
    marks = [control for _, control in _blocks(body) if control is not None]
    if isinstance(body.get("cache_control"), dict):
        marks.append(body["cache_control"])
    if len(marks) > MAX_BREAKPOINTS:
        return (
            f"A maximum of {MAX_BREAKPOINTS} blocks with cache_control may be provided. "
            f"Found {len(marks)}."
        )
    for control in marks:
        if control.get("type") != "ephemeral" or control.get("ttl", "5m") not in _TTL_SECONDS:
            return f"cache_control: invalid value {json.dumps(control)}"
    return None


def breakpoints(body: dict[str, Any]) -> list[Breakpoint]:
    """The request's breakpoints long enough to cache, in prefix order."""
    minimum = minimum_cacheable_tokens(str(body.get("model", "")))
    blocks = list(_blocks(body))
    automatic = body.get("cache_control")
    found: list[Breakpoint] = []
    prefix: list[Any] = []
    for index, (block, control) in enumerate(blocks):
        prefix.append(block)
        if control is None and isinstance(automatic, dict) and index == len(blocks) - 1:
            control = automatic
        if control is None:
            continue
        text = json.dumps(prefix, sort_keys=True)
        tokens = approximate_tokens(text)
        if tokens >= minimum:
            ttl = _TTL_SECONDS[control.get("ttl", "5m")]
            found.append(Breakpoint(hashlib.sha256(text.encode()).hexdigest(), tokens, ttl))
    return found


def _blocks(body: dict[str, Any]) -> Iterator[tuple[Any, dict[str, Any] | None]]:
    """Every block of the prefix, in order, without its ``cache_control`` (which is not part of
    what is cached), with that ``cache_control``."""
    for tool in body.get("tools") or []:
        yield _split(tool)
    system = body.get("system")
    if isinstance(system, str) and system:
        yield system, None
    elif isinstance(system, list):
        for block in system:
            yield _split(block)
    for message in body.get("messages") or []:
        content = message.get("content")
        if isinstance(content, str):
            yield [message.get("role"), content], None
            continue
        for block in content or []:
            stripped, control = _split(block)
            yield [message.get("role"), stripped], control


def _split(block: Any) -> tuple[Any, dict[str, Any] | None]:
    if not isinstance(block, dict) or "cache_control" not in block:
        return block, None
    control = block["cache_control"]
    return {k: v for k, v in block.items() if k != "cache_control"}, (
        control if isinstance(control, dict) else {}
    )


class PromptCacheSimulator:
    """The prefixes written so far, with their expiry times (``clock`` is injectable so a test
    can let an entry expire)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._expiry: dict[str, float] = {}
        self._lock = threading.Lock()

    def usage(self, body: dict[str, Any]) -> tuple[int, int] | None:
        """``(cache_read, cache_write)`` tokens for the request, and the cache updated as the API
        would; ``None`` when it marks no prefix long enough to cache."""
        marked = breakpoints(body)
        if not marked:
            return None
        now = self._clock()
        with self._lock:
            hits = [b.tokens for b in marked if self._expiry.get(b.fingerprint, 0.0) > now]
            for mark in marked:
                self._expiry[mark.fingerprint] = now + mark.ttl_s
        read = max(hits, default=0)
        return read, max(marked[-1].tokens - read, 0)

    def clear(self) -> None:
        with self._lock:
            self._expiry.clear()
