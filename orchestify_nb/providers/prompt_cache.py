"""Asking the provider's prompt cache for a request (``cache_prompt=``), within each API's rules.

This is not the response cache (``providers.caching``): every call still reaches the model, but
a prefix it has already read is billed at the cache-read rate. Anthropic caches only what the
request marks with ``cache_control`` breakpoints, so ``anthropic_breakpoints`` places them: on
the system prompt (which covers the tools before it), on long context turns, and at the end of
the conversation (so the next turn reads everything before it), never more than the API's four,
and never on a prefix shorter than the model's minimum (the API would silently not cache it and
the slot would be wasted). OpenAI caches every long prefix by itself; ``openai_cache_key`` gives
requests that share one a ``prompt_cache_key`` so they are routed to the same cache.

``cache_prompt`` takes ``True`` (or ``"5m"``), ``"1h"`` (Anthropic's one-hour TTL, which
doubles the write price instead of adding a quarter), or ``False``/``None`` for off.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from orchestify_nb.providers.types import LLMRequest

#: The most ``cache_control`` breakpoints one Messages API request may carry.
MAX_BREAKPOINTS = 4

#: Anthropic's minimum cacheable prefix per model family, in tokens (first match wins; the
#: families Anthropic lists in its prompt-caching guide). Unknown models get the common 1,024.
_MINIMUM_BY_PREFIX: tuple[tuple[str, int], ...] = (
    ("claude-opus-4-5", 4096),
    ("claude-opus-4-6", 4096),
    ("claude-opus-4-7", 4096),
    ("claude-haiku-4-5", 4096),
    ("claude-3-5-haiku", 2048),
    ("claude-3-haiku", 2048),
    ("claude-opus-5", 512),
)
DEFAULT_MINIMUM_TOKENS = 1024

Ttl = Literal["5m", "1h"]
_TTL_WORDS: dict[object, Ttl] = {True: "5m", "5m": "5m", "1h": "1h", "true": "5m", "on": "5m"}
_OFF_WORDS: frozenset[object] = frozenset({False, None, "false", "off", "none", ""})


class PromptCacheValueError(ValueError):
    """``cache_prompt`` was given something other than on/off or a TTL."""


@dataclass(frozen=True, slots=True)
class PromptCache:
    """A request's prompt-cache setting: on, with the TTL its breakpoints ask for.

    ``shared_prefix_chars`` is set by batch runs whose rows start with the same text (a shared
    template): that many leading characters of the last turn are cached on their own, and the
    end of the conversation, which differs row to row, is not marked (writing it would cost
    each row a quarter more for a prefix no other row reads).
    """

    ttl: Ttl = "5m"
    shared_prefix_chars: int = 0

    @property
    def control(self) -> dict[str, str]:
        """The ``cache_control`` value each Anthropic breakpoint carries."""
        if self.ttl == "1h":
            return {"type": "ephemeral", "ttl": "1h"}
        return {"type": "ephemeral"}


def parse_cache_prompt(value: object) -> PromptCache | None:
    """``cache_prompt``'s value as a setting (``None`` when off); raises
    ``PromptCacheValueError`` with the accepted values for anything else."""
    key = value.strip().lower() if isinstance(value, str) else value
    if isinstance(key, bool | str) or key is None:
        if key in _OFF_WORDS:
            return None
        ttl = _TTL_WORDS.get(key)
        if ttl is not None:
            return PromptCache(ttl)
    raise PromptCacheValueError(
        f"cache_prompt must be True, False, '5m' or '1h' (the cache lifetime), not {value!r}"
    )


#: Anthropic's cache-write prices as multiples of the input price, by TTL; the price data
#: carries the five-minute one.
WRITE_PRICE_FACTOR: dict[Ttl, float] = {"5m": 1.25, "1h": 2.0}


def write_surcharge_factor(setting: PromptCache | None, model: str) -> float:
    """How much of the input price to add per written token beyond the price data's
    five-minute write price: 0.75 for Claude with ``cache_prompt="1h"``, else 0."""
    if setting is None or "claude" not in model:
        return 0.0
    return WRITE_PRICE_FACTOR[setting.ttl] - WRITE_PRICE_FACTOR["5m"]


def minimum_cacheable_tokens(model: str) -> int:
    """The shortest prefix ``model`` caches; a shorter one is processed at the normal rate."""
    for prefix, tokens in _MINIMUM_BY_PREFIX:
        if model.startswith(prefix):
            return tokens
    return DEFAULT_MINIMUM_TOKENS


def approximate_tokens(value: object) -> int:
    """A cheap size estimate (four characters a token) used only to decide where a breakpoint
    is worth a slot; erring either way costs at most one unused breakpoint."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return len(text) // 4


# ---------------------------------------------------------------------------------- Anthropic
def anthropic_breakpoints(arguments: dict[str, Any], setting: PromptCache) -> int:
    """Mark the Messages API ``arguments`` with ``cache_control`` breakpoints, in place; returns
    how many were placed.

    The prefix the API caches runs tools → system → messages up to a breakpoint. Candidates, in
    order of value: the end of the conversation (the next turn reads all of it), the end of the
    system prompt (or of the tools when there is none), then long earlier turns, newest first.
    Only prefixes of at least the model's minimum length qualify, and at most
    ``MAX_BREAKPOINTS`` minus any the caller placed. A top-level ``cache_control`` (the API's
    automatic caching) is the caller's own choice and is left alone.
    """
    if "cache_control" in arguments:
        return 0
    minimum = minimum_cacheable_tokens(str(arguments.get("model", "")))
    slots = MAX_BREAKPOINTS - _existing_breakpoints(arguments)
    chosen: list[_Spot] = []
    spots = list(_spots(arguments))
    ends_with_turn = bool(spots) and spots[-1].kind == "last"
    if ends_with_turn and _split_shared_prefix(arguments, setting.shared_prefix_chars):
        shared = approximate_tokens(arguments["messages"][-1]["content"][0]["text"])
        last = spots.pop()  # the rows' ends differ: marking them would only pay for writes
        before = last.prefix_tokens - last.own_tokens
        spots.append(_Spot("shared", last.index, before + shared, shared))
    for spot in _by_value(spots):
        if len(chosen) == slots:
            break
        if spot.prefix_tokens >= minimum and (spot.kind != "turn" or spot.own_tokens >= minimum):
            chosen.append(spot)
    for spot in chosen:
        spot.mark(arguments, setting.control)
    return len(chosen)


@dataclass(frozen=True, slots=True)
class _Spot:
    """A place a breakpoint can go: the last block of the tools, the system or a turn."""

    kind: Literal["tools", "system", "turn", "last", "shared"]
    index: int  # the turn's index (turns), else -1
    prefix_tokens: int
    own_tokens: int

    def mark(self, arguments: dict[str, Any], control: dict[str, str]) -> None:
        if self.kind == "tools":
            tools = arguments["tools"] = [dict(tool) for tool in arguments["tools"]]
            tools[-1]["cache_control"] = control
        elif self.kind == "system":
            system = arguments["system"]
            blocks = [{"type": "text", "text": system}] if isinstance(system, str) else system
            arguments["system"] = _with_control(blocks, control)
        else:
            messages = arguments["messages"] = list(arguments["messages"])
            turn = messages[self.index]
            content = turn["content"]
            blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content
            if self.kind == "shared":  # the shared text, the first of the turn's two blocks
                marked = [{**blocks[0], "cache_control": control}, *blocks[1:]]
            else:
                marked = _with_control(blocks, control)
            messages[self.index] = {**turn, "content": marked}


def _spots(arguments: dict[str, Any]) -> Iterator[_Spot]:
    """Every candidate, with the estimated size of the prefix it closes and of its own part."""
    prefix = 0
    tools = arguments.get("tools") or []
    has_system = bool(arguments.get("system"))
    if tools:
        prefix += approximate_tokens(tools)
        if not has_system:
            yield _Spot("tools", -1, prefix, prefix)
    if has_system:
        own = approximate_tokens(arguments["system"])
        prefix += own
        yield _Spot("system", -1, prefix, own)
    messages = arguments.get("messages") or []
    for index, turn in enumerate(messages):
        own = approximate_tokens(turn.get("content", ""))
        prefix += own
        if _markable_block(turn.get("content")) is None:
            continue
        kind: Literal["turn", "last"] = "last" if index == len(messages) - 1 else "turn"
        yield _Spot(kind, index, prefix, own)


def _split_shared_prefix(arguments: dict[str, Any], chars: int) -> bool:
    """Cut the last turn's text into two blocks, the first ``chars`` characters (shared by a
    batch's rows) and the rest; False when the last turn is not plain text that long."""
    messages = arguments.get("messages") or []
    if not messages or not isinstance(messages[-1].get("content"), str):
        return False
    last = messages[-1]
    text: str = last["content"]
    if not 0 < chars < len(text):
        return False
    blocks = [{"type": "text", "text": text[:chars]}, {"type": "text", "text": text[chars:]}]
    arguments["messages"] = [*messages[:-1], {**last, "content": blocks}]
    return True


def _by_value(spots: list[_Spot]) -> list[_Spot]:
    """The conversation's end first, then the system (or tools), then turns newest first."""
    rank = {"last": 0, "shared": 0, "system": 1, "tools": 1, "turn": 2}
    return sorted(spots, key=lambda spot: (rank[spot.kind], -spot.index))


def _markable_block(content: object) -> int | None:
    """The index of the block a breakpoint goes on: the last one that is not thinking (the API
    refuses ``cache_control`` on thinking blocks); 0 for plain-text content."""
    if isinstance(content, str):
        return 0 if content else None
    if isinstance(content, list):
        for index in range(len(content) - 1, -1, -1):
            block = content[index]
            if isinstance(block, dict) and block.get("type") not in (
                "thinking",
                "redacted_thinking",
            ):
                return index
    return None


def _with_control(blocks: list[Any], control: dict[str, str]) -> list[Any]:
    index = _markable_block(blocks)
    marked = list(blocks)
    if index is not None:
        marked[index] = {**marked[index], "cache_control": control}
    return marked


def _existing_breakpoints(arguments: dict[str, Any]) -> int:
    """Breakpoints the caller already placed (they count against the API's limit)."""
    return json.dumps(
        [arguments.get("tools"), arguments.get("system"), arguments.get("messages")]
    ).count('"cache_control"')


# ------------------------------------------------------------------------------------- OpenAI
def openai_cache_key(request: LLMRequest) -> str:
    """A ``prompt_cache_key`` shared by requests with the same model, system prompt and tools
    (and, in a batch, the rows' shared leading text): the part of a prompt that repeats."""
    shared = request.prompt_cache.shared_prefix_chars if request.prompt_cache else 0
    stable = json.dumps(
        [
            request.model,
            request.system,
            [[tool.name, tool.description, tool.parameters] for tool in request.tools],
            request.messages[-1].text[:shared] if shared and request.messages else "",
        ],
        sort_keys=True,
        default=str,
    )
    return "orchestify-" + hashlib.sha256(stable.encode()).hexdigest()[:32]


# ------------------------------------------------------------------------------------ LiteLLM
def chat_breakpoints(arguments: dict[str, Any], setting: PromptCache) -> int:
    """``anthropic_breakpoints`` for a LiteLLM route to Claude, whose arguments are in the Chat
    Completions shape (the system prompt is the first message); LiteLLM carries a content
    part's ``cache_control`` over to the Messages API. Returns how many were placed."""
    messages = arguments["messages"]
    system = messages[0] if messages and messages[0].get("role") == "system" else None
    view: dict[str, Any] = {
        "model": str(arguments.get("model", "")).rsplit("/", 1)[-1],
        "system": system["content"] if system else None,
        "messages": messages[1:] if system else messages,
    }
    placed = anthropic_breakpoints(view, setting)
    head = [{**system, "content": view["system"]}] if system else []
    arguments["messages"] = [*head, *view["messages"]]
    return placed
