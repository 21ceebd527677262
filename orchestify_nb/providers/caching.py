"""Pay once: answers already bought are replayed instead of being bought again.

A request's cache key is a SHA-256 of its canonical form: the provider type and endpoint, the
model, every turn (tool calls, tool results and provider blocks included), the system prompt,
the sampling parameters, the tools and the provider options. Never the API key or a header:
rotating a key keeps the cache, and the key cannot be recovered from a file that ships.

Modes (``CacheMode``), per call (``cache=``), per block (``cache_mode()``), from
``ORCHESTIFY_CACHE`` or the config's ``cache:`` default:

- ``auto`` (the default): every answer is kept; an identical earlier answer is reused only
  when the call is deterministic (temperature 0, or a greedy-by-default model such as the
  local one). A user who samples wants variety, so a sampled call is sent again.
- ``replay``: answers only from the cache; a miss raises ``CacheMissError`` and sends nothing
  (CI, nbval and Binder, with no key).
- ``refresh``: ask again and overwrite the kept answer.
- ``off``: neither look up nor keep.

A replayed answer is honest: the response says ``cached_at`` and ``saved_usd`` and costs $0, and
the ledger gets a ``mode="cache"`` row with no tokens and the cost it spared as ``saved_usd``.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import AsyncGenerator, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar, Literal, cast, get_args

from orchestify_nb.errors import ConfigError, ProviderError
from orchestify_nb.providers.content import content_fingerprint
from orchestify_nb.providers.types import (
    LLMMessage,
    LLMRequest,
    LLMResponse,
    StreamEvent,
    ToolCall,
    ToolCallDelta,
)
from orchestify_nb.redaction import redact_url
from orchestify_nb.tokens import TokenCounts
from orchestify_nb.usage.context import current_call_context

if TYPE_CHECKING:
    from orchestify_nb.providers.accounting import CallAccounting
    from orchestify_nb.usage.answer_store import AnswerStore, StoredAnswer

__all__ = [
    "CACHE_ENV",
    "CACHE_MODES",
    "CacheLookup",
    "CacheMissError",
    "CacheMode",
    "ResponseCaching",
    "cache_key",
    "cache_mode",
    "resolve_cache_mode",
    "set_default_cache_mode",
]

CacheMode = Literal["auto", "replay", "refresh", "off"]
CACHE_MODES: tuple[str, ...] = get_args(CacheMode)
#: Environment variable with the default mode (a cell's or call's ``cache=`` wins over it).
CACHE_ENV = "ORCHESTIFY_CACHE"
#: Bumped when what goes into a key changes, so old answers miss instead of lying.
KEY_VERSION = 1

_block_mode: ContextVar[CacheMode | None] = ContextVar("orchestify_nb_cache_mode", default=None)
_configured_default: CacheMode | None = None


class CacheMissError(ProviderError):
    """``cache=replay`` and no answer was recorded for the request; nothing was sent."""


def check_cache_mode(value: object, where: str) -> CacheMode:
    """``value`` as a ``CacheMode``, or a ``ConfigError`` naming ``where`` and the valid modes."""
    if value not in CACHE_MODES:
        raise ConfigError(
            f"{where}: {value!r} is not a cache mode; use one of {', '.join(CACHE_MODES)} "
            "(auto reuses deterministic answers, replay answers only from the cache)"
        )
    return cast(CacheMode, value)


def set_default_cache_mode(mode: CacheMode | None) -> None:
    """The config's ``cache:`` default (``None``: back to ``auto``); ``ORCHESTIFY_CACHE`` wins."""
    global _configured_default
    _configured_default = None if mode is None else check_cache_mode(mode, "cache")


@contextmanager
def cache_mode(mode: CacheMode) -> Iterator[None]:
    """Use ``mode`` for the calls made inside the block that give no ``cache=`` of their own."""
    token = _block_mode.set(check_cache_mode(mode, "cache_mode()"))
    try:
        yield
    finally:
        _block_mode.reset(token)


def resolve_cache_mode(explicit: str | None = None) -> CacheMode:
    """The mode of a call: its own ``cache=``, the enclosing ``cache_mode()`` block,
    ``ORCHESTIFY_CACHE``, the config's default, then ``auto``."""
    if explicit is not None:
        return check_cache_mode(explicit, "cache=")
    block = _block_mode.get()
    if block is not None:
        return block
    from_env = os.environ.get(CACHE_ENV)
    if from_env:
        return check_cache_mode(from_env.strip().lower(), CACHE_ENV)
    return _configured_default or "auto"


def _jsonable(value: Any) -> Any:
    """Options and provider blocks as JSON (anything else by its type and repr, which is
    stable for the plain values options hold)."""
    if hasattr(value, "__dataclass_fields__"):
        return asdict(value)
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    return f"{type(value).__name__}:{value!r}"


def _message_key(message: LLMMessage) -> dict[str, Any]:
    """A turn as its key sees it: images and documents by their bytes' SHA-256 (a plain text
    turn keys exactly as before parts existed)."""
    return {
        "role": message.role,
        "content": content_fingerprint(message.content),
        "tool_calls": [asdict(call) for call in message.tool_calls],
        "tool_call_id": message.tool_call_id,
        "provider_blocks": list(message.provider_blocks),
    }


def cache_key(provider_type: str, endpoint: str | None, request: LLMRequest) -> str:
    """The SHA-256 of everything that decides the answer, and nothing that does not."""
    canonical = {
        "v": KEY_VERSION,
        "provider_type": provider_type,
        "endpoint": redact_url(endpoint) if endpoint else None,
        "model": request.model,
        "system": request.system,
        "messages": [_message_key(message) for message in request.messages],
        "temperature": request.temperature,
        "max_tokens": request.max_tokens,
        "thinking": request.thinking,
        "tools": [asdict(tool) for tool in request.tools],
        "options": request.options,
    }
    if request.output_schema is not None:  # only then, so keys of plain calls stay as they were
        canonical["output_schema"] = request.output_schema.json_schema
    text = json.dumps(
        canonical, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=_jsonable
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def answer_payload(response: LLMResponse) -> dict[str, object]:
    """What is kept of an answer: everything a replay needs to be the same answer."""
    return {
        "content": response.content,
        "thinking": response.thinking,
        "model": response.model,
        "tokens": asdict(response.tokens),
        "finish_reason": response.finish_reason,
        "cost_usd": response.cost_usd,
        "priced": response.priced,
        "price_source": response.price_source,
        "latency_s": response.latency_s,
        "tool_calls": [asdict(call) for call in response.tool_calls],
        "provider_blocks": list(response.provider_blocks),
        "usage_estimated": response.usage_estimated,
    }


def replayed_response(stored: StoredAnswer, provider_id: str, model_requested: str) -> LLMResponse:
    """The kept answer as a new ``LLMResponse`` that costs nothing and says where it came from."""
    payload: dict[str, Any] = stored.payload
    original = payload.get("cost_usd")
    return LLMResponse(
        content=payload["content"],
        model=payload["model"],
        tokens=TokenCounts(**payload["tokens"]),
        finish_reason=payload.get("finish_reason"),
        cost_usd=0.0,
        priced=True,
        price_source="cache",
        latency_s=0.0,
        time_to_first_token_s=0.0,
        tool_calls=[ToolCall(**call) for call in payload.get("tool_calls", [])],
        thinking=payload.get("thinking", ""),
        provider_id=provider_id,
        model_requested=model_requested,
        provider_blocks=tuple(payload.get("provider_blocks", [])),
        usage_estimated=bool(payload.get("usage_estimated")),
        cached_at=datetime.fromtimestamp(stored.created_at_ns / 1e9, UTC),
        saved_usd=original if isinstance(original, int | float) else None,
    )


@dataclass(slots=True)
class CacheLookup:
    """One call's dealings with the cache: the answer found (``hit``), and whether the answer
    bought instead is to be kept."""

    owner: ResponseCaching
    request: LLMRequest
    store: AnswerStore | None
    key: str | None
    hit: LLMResponse | None = None

    def keep(self, response: LLMResponse) -> LLMResponse:
        """Keep a finished answer for next time (a failed or cancelled one never gets here)."""
        if self.store is not None and self.key is not None:
            self.store.put(
                self.key,
                answer_payload(response),
                provider_type=self.owner.provider_type,
                model=response.model,
                cost_usd=response.cost_usd,
            )
        return response

    def replayed(self) -> LLMResponse:
        """The hit, recorded in the ledger as a ``cache`` row."""
        assert self.hit is not None
        from orchestify_nb.providers.structured import validate_answer

        validate_answer(self.request, self.hit)  # with output_schema: parsed, as when bought
        self.owner._record_cached(self.request, self.hit)
        return self.hit

    async def replay_stream(self) -> AsyncGenerator[StreamEvent, None]:
        """The hit as a stream: its thinking, text and tool calls at once, then ``done``."""
        hit = self.replayed()
        if hit.thinking:
            yield StreamEvent.thinking_delta(hit.thinking)
        if hit.content:
            yield StreamEvent.text_delta(hit.content)
        for index, call in enumerate(hit.tool_calls):
            arguments = json.dumps(call.arguments, ensure_ascii=False)
            yield StreamEvent.tool_call_delta(ToolCallDelta(index, call.id, call.name, arguments))
        yield StreamEvent.done(hit)


class ResponseCaching:
    """The part of ``LLMProvider`` that finds and keeps answers (see the module docstring)."""

    provider_type: ClassVar[str]
    #: Whether a call without a temperature is greedy (the same answer every time).
    greedy_by_default: ClassVar[bool] = False
    provider_id: str
    base_url: str | None

    def _cache_lookup(self, request: LLMRequest, explicit: str | None) -> CacheLookup:
        """The cache's answer to ``request`` under the call's mode; ``CacheMissError`` when the
        mode is ``replay`` and there is none."""
        mode = resolve_cache_mode(explicit)
        if mode == "off":
            return CacheLookup(self, request, None, None)
        store = self._answer_store()
        key = cache_key(self.provider_type, self.base_url, request)
        if mode == "refresh" or (mode == "auto" and not self._deterministic(request)):
            return CacheLookup(self, request, store, key)
        stored = store.get(key)
        if stored is None:
            if mode == "replay":
                raise self._replay_miss(request)
            return CacheLookup(self, request, store, key)
        hit = replayed_response(stored, self.provider_id, request.model)
        return CacheLookup(self, request, store, key, hit)

    def _deterministic(self, request: LLMRequest) -> bool:
        if request.temperature is None:
            return self.greedy_by_default
        return request.temperature == 0

    def _answer_store(self) -> AnswerStore:
        from orchestify_nb.usage import default_ledger_path
        from orchestify_nb.usage.answer_store import answer_store_for

        sink = cast("CallAccounting", self).usage_sink
        path = getattr(sink, "path", None)
        return answer_store_for(path if isinstance(path, str) else default_ledger_path(), sink)

    def _replay_miss(self, request: LLMRequest) -> CacheMissError:
        context = current_call_context()
        cell = (
            f"cell In[{context.cell_execution_count}]"
            if context.cell_execution_count is not None
            else "this call"
        )
        if context.notebook_path:
            cell += f" of {context.notebook_path}"
        return CacheMissError(
            f"cache=replay: no recorded answer for {cell}, so nothing was sent",
            provider_id=self.provider_id,
            model=request.model,
            hint="Run it once with cache=auto (with a key), or load recorded answers with "
            "%llm cache import PATH",
        )

    def _record_cached(self, request: LLMRequest, hit: LLMResponse) -> None:
        """The ledger row of a replayed answer: no tokens, $0, and what it spared."""
        from orchestify_nb.providers.accounting import usage_record

        owner = cast("CallAccounting", self)
        started = time.time()
        record = usage_record(
            provider_id=self.provider_id,
            provider_type=self.provider_type,
            model_requested=request.model,
            response=LLMResponse(content="", model=hit.model, finish_reason=hit.finish_reason),
            quote=None,
            started_at=datetime.fromtimestamp(started, UTC),
        )
        record.mode = "cache"
        record.cost_usd, record.priced, record.price_source = 0.0, True, "cache"
        record.saved_usd = hit.saved_usd
        record.latency_s = record.time_to_first_token_s = 0.0
        owner._usage.add_record(record)
        try:
            owner.usage_sink.record(record)
        except Exception:  # the answer matters more than the ledger row; say so loudly
            owner._log.exception("could not write the usage record %s to the ledger", record.id)
        hit.record_id = record.id
