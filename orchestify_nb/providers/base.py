"""The abstract provider: the one place where every call is validated, retried, bounded in
time, assembled, priced and recorded.

Concrete providers only translate: ``_complete`` and ``_stream`` turn an ``LLMRequest`` into one
SDK call and yield its deltas, then a ``StreamEnd``; ``_map_error`` turns an SDK exception into
a typed ``ProviderError``. Everything else lives here (and in ``accounting``) once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator, AsyncIterator, Mapping, Sequence
from contextlib import aclosing
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import SecretStr

from orchestify_nb.errors import (
    InvalidArgumentError,
    ModelNotSupportedError,
    ProviderError,
    redact,
)
from orchestify_nb.providers import requests
from orchestify_nb.providers._sdk_errors import failure_cause
from orchestify_nb.providers.accounting import CallAccounting, UsageSink
from orchestify_nb.providers.budgeting import released_after
from orchestify_nb.providers.caching import CacheLookup, CacheMode, ResponseCaching
from orchestify_nb.providers.calls import CallInProgress
from orchestify_nb.providers.capabilities import ModelCapabilities
from orchestify_nb.providers.deadline import WatchdogExpired
from orchestify_nb.providers.requests import Messages
from orchestify_nb.providers.retry import RetryPolicy
from orchestify_nb.providers.structured import StructuredOutputs
from orchestify_nb.providers.tool_methods import ToolLoopMethods
from orchestify_nb.providers.types import (
    LLMMessage,
    LLMRequest,
    LLMResponse,
    ProviderEvent,
    StreamEnd,
    StreamEvent,
    StreamProgress,
    TokenUsage,
    ToolCall,
    ToolCallDelta,
    ToolSpec,
)
from orchestify_nb.providers.wire_format import decode_failure, ended_early
from orchestify_nb.redaction import redact_url, url_secrets

if TYPE_CHECKING:
    from orchestify_nb.pricing import ModelPrice

__all__ = [
    "LLMMessage",
    "LLMProvider",
    "LLMRequest",
    "LLMResponse",
    "StreamEvent",
    "StreamProgress",
    "TokenUsage",
    "ToolCall",
    "ToolCallDelta",
    "ToolSpec",
    "UsageSink",
]

logger = logging.getLogger("orchestify_nb.providers")

DEFAULT_MAX_TOKENS = 1024
DEFAULT_TIMEOUT_S = 120.0


class LLMProvider(
    ModelCapabilities, CallAccounting, ResponseCaching, StructuredOutputs, ToolLoopMethods, ABC
):
    """An LLM service behind one async API: ``complete()`` for an answer, ``stream()`` for deltas.

    The API key is held as a ``SecretStr``: it appears in no repr, log line or error message, and
    only the SDK client constructor sees the plain value. ``timeout`` bounds each wait for the
    server (a whole non-streamed answer; a stream's first and each next event) and ends the call
    in ``ProviderTimeoutError``, which is not retried (another attempt would double the wait).
    """

    #: Short name of the backend ("anthropic", "openai", "litellm", "local").
    provider_type: ClassVar[str]
    #: Environment variable the SDK would read the key from, shown by ``%llm providers``.
    api_key_env: ClassVar[str | None] = None

    def __init__(
        self,
        *,
        provider_id: str | None = None,
        api_key: SecretStr | str | None = None,
        default_model: str | None = None,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        base_url: str | None = None,
        timeout: float = DEFAULT_TIMEOUT_S,
        max_retries: int = 2,
        pricing: Mapping[str, ModelPrice] | None = None,
        usage_sink: UsageSink | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> None:
        self.provider_id = provider_id or self.provider_type
        self._api_key = SecretStr(api_key) if isinstance(api_key, str) else api_key
        self.default_model = default_model or self.fallback_model()
        self.max_tokens = max_tokens
        self.base_url = base_url
        self.timeout = timeout
        self.retry_policy = RetryPolicy(max_retries=max_retries)
        self.pricing_overrides: dict[str, ModelPrice] = dict(pricing or {})
        self.default_options: dict[str, Any] = dict(options or {})
        self._usage_sink = usage_sink
        self._usage = TokenUsage()
        self._log = logger.getChild(self.provider_id)

    # ----------------------------------------------------------------- what subclasses provide
    @abstractmethod
    def _complete(
        self, request: LLMRequest, progress: StreamProgress
    ) -> AsyncIterator[ProviderEvent]:
        """One non-streaming SDK call, translated into the same events as ``_stream``: the
        whole answer as deltas, then ``StreamEnd``. Usage goes to ``progress.report()``."""

    @abstractmethod
    def _stream(
        self, request: LLMRequest, progress: StreamProgress
    ) -> AsyncIterator[ProviderEvent]:
        """One streaming SDK call, translated: text, thinking and tool-call deltas, then one
        ``StreamEnd`` when (and only when) the API's own end marker arrived.

        Report usage to ``progress`` as the SDK reports it, so an interrupted call is recorded
        with what was already spent. The base class assembles the deltas into the response.
        """

    @abstractmethod
    def _map_error(self, error: Exception) -> ProviderError | None:
        """Translate an SDK exception into a typed error, or ``None`` if it is not the SDK's."""

    @classmethod
    def fallback_model(cls) -> str | None:
        """The model used when neither the call nor the config names one."""
        return None

    def known_models(self) -> list[str]:
        """Model names to offer in pickers; free text is always allowed too."""
        return [self.default_model] if self.default_model else []

    def validate_model(self, model: str) -> None:
        """Raise ``ModelNotSupportedError`` for a name this provider cannot serve."""

    async def aclose(self) -> None:
        """Release the SDK client's connections (safe to call more than once)."""

    async def _prepare(self) -> None:
        """Set up what the first call needs (import the SDK, build its client) before the clock
        starts, so latency and time-to-first-token measure the API, not our imports."""

    # ----------------------------------------------------------------------------- public API
    @property
    def has_api_key(self) -> bool:
        return self._api_key is not None and bool(self._api_key.get_secret_value())

    def _secret_values(self) -> list[str]:
        """Every secret this provider holds, for scrubbing error text: the key, and any
        credentials written into ``base_url``."""
        secrets = [self._api_key.get_secret_value()] if self._api_key is not None else []
        if self.base_url:
            secrets.extend(url_secrets(self.base_url))
        return secrets

    def _plain_api_key(self) -> str | None:
        """The key for the SDK client constructor, and for nothing else."""
        return self._api_key.get_secret_value() if self._api_key is not None else None

    def build_request(
        self,
        messages: Messages,
        *,
        model: str | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        system: str | None = None,
        tools: Sequence[ToolSpec | dict[str, Any]] | None = None,
        thinking: int | None = None,
        **options: Any,
    ) -> LLMRequest:
        """Check the arguments into an ``LLMRequest`` (no I/O); raises before anything is sent.

        This is the one signature of a call: ``complete()`` and ``stream()`` take these same
        arguments, or a request built here (the magics, the panel and batch runs build and
        check each request once, estimate it, then send it as built).
        """
        chosen = model or self.default_model
        if not chosen:
            raise ModelNotSupportedError(
                "no model given and the provider has no default_model",
                provider_id=self.provider_id,
                hint="Pass model=... or set default_model in the provider's config.",
            )
        self.validate_model(chosen)
        request = requests.build_request(
            provider_id=self.provider_id,
            messages=messages,
            model=chosen,
            default_max_tokens=self.max_tokens,
            temperature=temperature,
            max_tokens=max_tokens,
            system=system,
            tools=tools,
            thinking=thinking,
            options={**self.default_options, **options},
        )
        self.validate_options(request)
        return self.fit_content(request)

    def _as_request(self, messages: Messages | LLMRequest, arguments: dict[str, Any]) -> LLMRequest:
        if not isinstance(messages, LLMRequest):
            return self.build_request(messages, **arguments)
        if arguments:
            raise InvalidArgumentError(
                f"arguments ({', '.join(sorted(arguments))}) given with a built LLMRequest",
                provider_id=self.provider_id,
                model=messages.model,
                hint="Pass them to build_request() instead; a built request is sent as built.",
            )
        return messages

    async def complete(
        self, messages: Messages | LLMRequest, *, cache: CacheMode | None = None, **arguments: Any
    ) -> LLMResponse:
        """Send the conversation and return the complete, priced answer.

        ``messages`` is a prompt, turns, or a built ``LLMRequest``; ``arguments`` are
        ``build_request``'s; ``cache`` is the response cache's mode (``providers.caching``).
        """
        request = self._as_request(messages, arguments)
        if request.output_schema is not None:  # validated, repaired: providers/structured.py
            return await self._complete_structured(request, cache)
        return await self._complete_once(request, cache)

    async def _complete_once(self, request: LLMRequest, cache: CacheMode | None) -> LLMResponse:
        lookup = self._cache_lookup(request, cache)
        if lookup.hit is not None:
            return lookup.replayed()
        with self._check_budget(request) as reservation:  # released once the call is recorded
            await reservation.wait()
            async with aclosing(self._run(request, lookup, streaming=False)) as events:
                async for event in events:
                    if event.response is not None:
                        return event.response
        raise AssertionError("a call ends with a response or an exception")  # pragma: no cover

    def stream(
        self, messages: Messages | LLMRequest, *, cache: CacheMode | None = None, **arguments: Any
    ) -> AsyncGenerator[StreamEvent, None]:
        """Stream the answer as typed events; the last one is ``done`` with the full response.

        Takes what ``complete()`` takes. Arguments and budgets are checked when ``stream()`` is
        called, before iteration, so a refused call raises before anyone renders a stream that
        will never come. A failure before the first delta is retried like ``complete()``; after
        it, the error is raised (a retry would repeat text the caller has already shown).
        Breaking out of the loop or cancelling the task records the call as ``cancelled`` with
        the text so far.
        """
        request = self._as_request(messages, arguments)
        lookup = self._cache_lookup(request, cache)
        if lookup.hit is not None:
            return lookup.replay_stream()
        reservation = self._check_budget(request)
        return released_after(self._run(request, lookup, streaming=True), reservation)

    def __repr__(self) -> str:
        key = "set" if self.has_api_key else "missing"
        base = f", base_url={redact_url(self.base_url)!r}" if self.base_url else ""
        return (
            f"{type(self).__name__}(provider_id={self.provider_id!r}, "
            f"default_model={self.default_model!r}{base}, api_key={key})"
        )

    # ------------------------------------------------------------------------------ internals
    async def _run(
        self, request: LLMRequest, lookup: CacheLookup, *, streaming: bool
    ) -> AsyncGenerator[StreamEvent, None]:
        """The one call loop of both paths: attempts with retries, the deltas (passed on when
        ``streaming``), then ``done`` with the priced, recorded response."""
        await self._prepare()
        attempt = 0
        while True:
            call = CallInProgress(request, self.timeout)
            try:
                async with call.watchdog, aclosing(self._events(call, streaming)) as events:
                    async for event in events:  # the hot path: one pass per streamed chunk
                        yield event
            except (asyncio.CancelledError, GeneratorExit):
                self._record_unfinished(call, "cancelled", None)
                raise
            except Exception as raised:
                error = self._as_provider_error(raised, call)
                if not call.shown and self.retry_policy.should_retry(error, attempt):
                    await self.retry_policy.wait(error, attempt, self._log)
                    attempt += 1
                    continue
                cause = failure_cause(error, raised, self._secret_values())  # before it is logged
                self._record_unfinished(call, "error", error)
                raise error from cause  # text only: the SDK's objects hold the key
            yield StreamEvent.done(lookup.keep(self._finish(call)))
            return

    async def _events(
        self, call: CallInProgress, streaming: bool
    ) -> AsyncGenerator[StreamEvent, None]:
        """One attempt: the provider's events folded into ``call``; deltas passed on when
        ``streaming``. Each wait for the next event is under the call's watchdog."""
        source = self._stream if streaming else self._complete
        events = source(call.request, call.progress)
        watchdog, progress, clock = call.watchdog, call.progress, time.monotonic
        add_text = progress.text_parts.append
        try:
            while True:
                watchdog.waiting_since = clock()
                try:
                    event = await anext(events)
                except StopAsyncIteration:
                    raise ended_early(call.request.model) from None
                watchdog.waiting_since = None
                if isinstance(event, StreamEnd):
                    call.end = event
                    return
                if progress.first_token_at is None:
                    progress.first_token_at = time.perf_counter()
                    call.shown = streaming
                if event.type == "text":
                    add_text(event.text)
                else:
                    progress.add(event)
                if streaming:
                    yield event
        finally:
            aclose = getattr(events, "aclose", None)
            if aclose is not None:
                await aclose()

    def _as_provider_error(self, raised: Exception, call: CallInProgress) -> ProviderError:
        """Any failure of an attempt as a typed, scrubbed ``ProviderError``."""
        if isinstance(raised, WatchdogExpired):
            return raised.as_error(self.provider_id, call.request.model)
        if isinstance(raised, ProviderError):
            return self._scrubbed(raised, call.request.model)
        return self._translate(raised, call.request.model)

    def _translate(self, raised: Exception, model: str | None = None) -> ProviderError:
        """An SDK's (or any unexpected) exception as a typed error, scrubbed of secrets."""
        mapped = self._map_error(raised)  # (also scrubs the SDK's exception, kept as cause)
        # An answer not in the API's format wins: the SDKs file those as connection errors.
        mapped = decode_failure(raised) or mapped
        if mapped is None:
            mapped = ProviderError(
                f"unexpected {type(raised).__name__}: {raised}",
                hint="Run %llm error for the full traceback.",
            )
        return self._scrubbed(mapped, model)

    def _scrubbed(self, mapped: ProviderError, model: str | None) -> ProviderError:
        """``mapped`` with this provider's id and the model, its text scrubbed of secrets (an
        answer quoted in an error may echo a key)."""
        mapped.provider_id = mapped.provider_id or self.provider_id
        mapped.model = mapped.model or model
        mapped.message = redact(mapped.message, self._secret_values())
        mapped.args = (redact(mapped._compose(), self._secret_values()),)
        return mapped
