"""The abstract provider and the one place where every call is validated, retried, timed,
priced and recorded.

Concrete providers only translate: ``_complete`` turns an ``LLMRequest`` into one SDK call and the
SDK's answer into an ``LLMResponse``; ``_stream`` yields ``StreamEvent`` deltas and finally a
``done`` event; ``_map_error`` turns an SDK exception into a typed ``ProviderError``. Everything
else (budgets, retries, timing, pricing, the ledger, secrets) lives here once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator, AsyncIterator, Mapping, Sequence
from contextlib import aclosing
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from pydantic import SecretStr

from orchestify_nb.errors import (
    ModelNotSupportedError,
    ProviderError,
    UnsupportedOptionError,
    redact,
)
from orchestify_nb.providers.accounting import usage_record
from orchestify_nb.providers.retry import RetryPolicy
from orchestify_nb.providers.types import (
    LLMMessage,
    LLMRequest,
    LLMResponse,
    StreamEvent,
    StreamProgress,
    TokenUsage,
    ToolCall,
    ToolCallDelta,
    ToolSpec,
)
from orchestify_nb.redaction import redact_url, url_secrets
from orchestify_nb.usage.record import CallStatus, UsageRecord
from orchestify_nb.usage.reservations import BudgetReservation, released_after, reserve_budget

if TYPE_CHECKING:
    from orchestify_nb.pricing import ModelPrice, PriceQuote

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


class UsageSink(Protocol):
    """Where finished calls go (the ledger). ``check_budget`` refuses a call before it starts."""

    def record(self, record: UsageRecord) -> None: ...

    def check_budget(self, provider_id: str) -> None: ...


class LLMProvider(ABC):
    """An LLM service behind one async API: ``complete()`` for an answer, ``stream()`` for deltas.

    The API key is held as a ``SecretStr``: it appears in no repr, log line or error message, and
    only the SDK client constructor sees the plain value.
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
    async def _complete(self, request: LLMRequest, progress: StreamProgress) -> LLMResponse:
        """One non-streaming SDK call, translated. Token counts go on the response."""

    @abstractmethod
    def _stream(self, request: LLMRequest, progress: StreamProgress) -> AsyncIterator[StreamEvent]:
        """One streaming SDK call, translated: deltas, then exactly one ``done`` event.

        Update ``progress`` with usage as the SDK reports it, so an interrupted call is recorded
        with what was already spent.
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

    def validate_options(self, request: LLMRequest) -> None:
        """Raise ``UnsupportedOptionError`` for options the model rejects, before any request."""
        if request.thinking is not None and not self.supports_thinking(request.model):
            raise UnsupportedOptionError(
                "this model does not support extended thinking",
                provider_id=self.provider_id,
                model=request.model,
                hint="Drop thinking=..., or pick a model that supports it.",
            )
        if request.tools and not self.supports_tools(request.model):
            raise UnsupportedOptionError(
                "this model does not support tool calls",
                provider_id=self.provider_id,
                model=request.model,
                hint="Drop tools=..., or pick a model that supports them.",
            )

    def supports_tools(self, model: str | None = None) -> bool:
        return False

    def supports_thinking(self, model: str | None = None) -> bool:
        return False

    def supports_code_execution(self, model: str | None = None) -> bool:
        return False

    def _price(self, response: LLMResponse) -> PriceQuote:
        """Price a finished call from the maintained price data (config overrides win)."""
        from orchestify_nb.pricing import price_call

        return price_call(
            provider_type=self.provider_type,
            model=response.model,
            input_tokens=response.tokens_input,
            output_tokens=response.tokens_output,
            cache_read_tokens=response.cache_read_tokens,
            cache_write_tokens=response.cache_write_tokens,
            reasoning_tokens=response.reasoning_tokens,
            overrides=self.pricing_overrides,
            base_url=self.base_url,
        )

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
        messages: Sequence[LLMMessage | Mapping[str, Any]] | str,
        *,
        model: str | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        system: str | None = None,
        tools: Sequence[ToolSpec | dict[str, Any]] | None = None,
        thinking: int | None = None,
        **options: Any,
    ) -> LLMRequest:
        """Validate arguments into an ``LLMRequest`` (no I/O); raises before anything is sent."""
        chosen = model or self.default_model
        if not chosen:
            raise ModelNotSupportedError(
                "no model given and the provider has no default_model",
                provider_id=self.provider_id,
                hint="Pass model=... or set default_model in the provider's config.",
            )
        self.validate_model(chosen)
        if isinstance(messages, str):
            messages = [LLMMessage(role="user", content=messages)]
        coerced = [m if isinstance(m, LLMMessage) else LLMMessage(**m) for m in messages]
        if not coerced:
            raise UnsupportedOptionError(
                "no messages to send",
                provider_id=self.provider_id,
                model=chosen,
                hint="Pass at least one LLMMessage(role='user', content=...).",
            )
        system_parts = [m.content for m in coerced if m.role == "system"]
        if system:
            system_parts.insert(0, system)
        request = LLMRequest(
            messages=[m for m in coerced if m.role != "system"],
            model=chosen,
            max_tokens=max_tokens or self.max_tokens,
            temperature=temperature,
            system="\n\n".join(system_parts) or None,
            tools=[ToolSpec.coerce(t) for t in tools or ()],
            thinking=thinking,
            options={**self.default_options, **options},
        )
        self.validate_options(request)
        return request

    async def complete(
        self,
        messages: Sequence[LLMMessage | Mapping[str, Any]] | str,
        *,
        model: str | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        system: str | None = None,
        tools: Sequence[ToolSpec | dict[str, Any]] | None = None,
        thinking: int | None = None,
        **options: Any,
    ) -> LLMResponse:
        """Send the conversation and return the complete, priced answer."""
        request = self.build_request(
            messages,
            model=model,
            temperature=temperature,
            max_tokens=max_tokens,
            system=system,
            tools=tools,
            thinking=thinking,
            **options,
        )
        return await self.complete_request(request)

    async def complete_request(self, request: LLMRequest) -> LLMResponse:
        """``complete()`` for a request already built by ``build_request`` (batch runs build
        and estimate every row first, then send)."""
        with self._check_budget(request) as reservation:  # released once the call is recorded
            await reservation.wait()
            return await self._complete_attempts(request)

    async def _complete_attempts(self, request: LLMRequest) -> LLMResponse:
        await self._prepare()
        attempt = 0
        while True:
            progress = StreamProgress()
            started_wall, started = UsageRecord.now(), time.perf_counter()
            try:
                response = await self._call_mapped(self._complete(request, progress))
            except asyncio.CancelledError:
                self._record_unfinished(request, progress, "cancelled", None, started_wall, started)
                raise
            except ProviderError as error:
                if self.retry_policy.should_retry(error, attempt):
                    await self._wait_before_retry(error, attempt)
                    attempt += 1
                    continue
                self._record_unfinished(request, progress, "error", error, started_wall, started)
                raise
            latency = time.perf_counter() - started
            response.latency_s = latency
            response.time_to_first_token_s = response.time_to_first_token_s or latency
            return self._finish(request, response, started_wall)

    def stream(
        self,
        messages: Sequence[LLMMessage | Mapping[str, Any]] | str,
        *,
        model: str | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        system: str | None = None,
        tools: Sequence[ToolSpec | dict[str, Any]] | None = None,
        thinking: int | None = None,
        **options: Any,
    ) -> AsyncGenerator[StreamEvent, None]:
        """Stream the answer as typed events; the last one is ``done`` with the full response.

        Arguments and budgets are checked when ``stream()`` is called, before iteration. A failure
        before the first delta is retried like ``complete()``; after it, the error is raised (a
        retry would repeat text the caller has already shown). Breaking out of the loop or
        cancelling the task records the call as ``cancelled`` with the text so far.
        """
        request = self.build_request(
            messages,
            model=model,
            temperature=temperature,
            max_tokens=max_tokens,
            system=system,
            tools=tools,
            thinking=thinking,
            **options,
        )
        return self.stream_request(request)

    def stream_request(self, request: LLMRequest) -> AsyncGenerator[StreamEvent, None]:
        """``stream()`` for a request already built by ``build_request``.

        The budget is checked here, at call time, so a refused call raises before any consumer
        starts rendering a stream that will never come.
        """
        reservation = self._check_budget(request)
        return released_after(self._stream_attempts(request), reservation)

    async def _stream_attempts(self, request: LLMRequest) -> AsyncGenerator[StreamEvent, None]:
        await self._prepare()
        attempt = 0
        while True:
            progress = StreamProgress()
            started_wall, started = UsageRecord.now(), time.perf_counter()
            emitted = False
            final: LLMResponse | None = None
            try:
                async with aclosing(self._stream_mapped(request, progress)) as events:
                    async for event in events:
                        if event.type == "done":
                            final = self._finalize_stream(request, event, progress, started)
                            break
                        if progress.first_token_at is None:
                            progress.first_token_at = time.perf_counter()
                        if event.type == "text":
                            progress.text_parts.append(event.text)
                        elif event.type == "thinking":
                            progress.thinking_parts.append(event.text)
                        emitted = True
                        yield event
            except (asyncio.CancelledError, GeneratorExit):
                self._record_unfinished(request, progress, "cancelled", None, started_wall, started)
                raise
            except ProviderError as error:
                if not emitted and self.retry_policy.should_retry(error, attempt):
                    await self._wait_before_retry(error, attempt)
                    attempt += 1
                    continue
                self._record_unfinished(request, progress, "error", error, started_wall, started)
                raise
            if final is not None:
                yield StreamEvent.done(self._finish(request, final, started_wall))
                return
            raise ProviderError(
                "the stream ended without a final event",
                provider_id=self.provider_id,
                model=request.model,
            )

    def _finalize_stream(
        self, request: LLMRequest, event: StreamEvent, progress: StreamProgress, started: float
    ) -> LLMResponse:
        """Stamp timing on the final response (pricing and recording follow in ``_finish``)."""
        if event.response is None:
            raise ProviderError(
                "the final stream event carried no response",
                provider_id=self.provider_id,
                model=request.model,
            )
        event.response.latency_s = time.perf_counter() - started
        if progress.first_token_at is not None:
            event.response.time_to_first_token_s = progress.first_token_at - started
        return event.response

    def get_usage(self) -> TokenUsage:
        """Totals of this provider's calls since creation or the last ``reset_usage()``."""
        u = self._usage
        return TokenUsage(**{name: getattr(u, name) for name in TokenUsage.__slots__})

    def reset_usage(self) -> None:
        self._usage = TokenUsage()

    def __repr__(self) -> str:
        key = "set" if self.has_api_key else "missing"
        base = f", base_url={redact_url(self.base_url)!r}" if self.base_url else ""
        return (
            f"{type(self).__name__}(provider_id={self.provider_id!r}, "
            f"default_model={self.default_model!r}{base}, api_key={key})"
        )

    # ------------------------------------------------------------------------------ internals
    async def _call_mapped(self, awaitable: Any) -> Any:
        try:
            return await awaitable
        except (ProviderError, asyncio.CancelledError):
            raise
        except Exception as error:
            raise self._translate(error) from error

    async def _stream_mapped(
        self, request: LLMRequest, progress: StreamProgress
    ) -> AsyncGenerator[StreamEvent, None]:
        iterator = self._stream(request, progress)
        try:
            while True:
                try:
                    event = await anext(iterator)
                except StopAsyncIteration:
                    return
                except (ProviderError, asyncio.CancelledError):
                    raise
                except Exception as error:
                    raise self._translate(error) from error
                yield event
        finally:
            aclose = getattr(iterator, "aclose", None)
            if aclose is not None:
                await aclose()

    def _translate(self, error: Exception) -> ProviderError:
        mapped = self._map_error(error)
        if mapped is None:
            mapped = ProviderError(
                f"unexpected {type(error).__name__}: {error}",
                hint="Run %llm error for the full traceback.",
            )
        mapped.provider_id = mapped.provider_id or self.provider_id
        mapped.message = redact(mapped.message, self._secret_values())
        mapped.args = (redact(mapped._compose(), self._secret_values()),)
        return mapped

    async def _wait_before_retry(self, error: ProviderError, attempt: int) -> None:
        delay = self.retry_policy.delay_s(error, attempt)
        self._log.info(
            "retrying after %s (attempt %d of %d) in %.2fs",
            type(error).__name__,
            attempt + 1,
            self.retry_policy.max_retries,
            delay,
        )
        await asyncio.sleep(delay)

    @property
    def usage_sink(self) -> UsageSink:
        """Where this provider's calls are recorded: its own sink, else the default ledger."""
        if self._usage_sink is None:
            from orchestify_nb.usage import get_default_ledger

            return get_default_ledger()
        return self._usage_sink

    def _check_budget(self, request: LLMRequest) -> BudgetReservation:
        return reserve_budget(self, request)

    def _finish(
        self, request: LLMRequest, response: LLMResponse, started_wall: datetime
    ) -> LLMResponse:
        """Price a finished call, stamp it with its provenance and record it."""
        quote = self._price(response)
        response.cost_usd, response.priced, response.price_source = (
            quote.cost_usd,
            quote.priced,
            quote.source,
        )
        response.provider_id = self.provider_id
        response.model_requested = request.model
        response.record_id = self._record(request, response, quote, started_wall)
        self._log.debug(
            "%s: %d in / %d out tokens, cost %s, %.3fs",
            response.model,
            response.tokens_input,
            response.tokens_output,
            "unpriced" if response.cost_usd is None else f"${response.cost_usd:.6f}",
            response.latency_s or 0.0,
        )
        return response

    def _record_unfinished(
        self,
        request: LLMRequest,
        progress: StreamProgress,
        status: CallStatus,
        error: ProviderError | None,
        started_wall: datetime,
        started: float,
    ) -> None:
        """Record a failed or cancelled call with whatever usage the provider had reported."""
        partial = progress.response(
            progress.text, request.model, latency_s=time.perf_counter() - started
        )
        if progress.first_token_at is not None:
            partial.time_to_first_token_s = progress.first_token_at - started
        quote = self._price(partial) if partial.tokens_input or partial.tokens_output else None
        self._record(
            request,
            partial,
            quote,
            started_wall,
            status=status,
            error_type=type(error).__name__ if error else None,
        )
        if error is not None:
            self._log.warning("%s failed: %s", request.model, error)

    def _record(
        self,
        request: LLMRequest,
        response: LLMResponse,
        quote: PriceQuote | None,
        started_wall: datetime,
        *,
        status: CallStatus = "ok",
        error_type: str | None = None,
    ) -> str:
        """Build the call's ledger row, fold it into this provider's totals and write it."""
        record = usage_record(
            provider_id=self.provider_id,
            provider_type=self.provider_type,
            model_requested=request.model,
            response=response,
            quote=quote,
            started_at=started_wall,
            status=status,
            error_type=error_type,
        )
        self._usage.add_record(record)
        try:
            self.usage_sink.record(record)
        except Exception:  # the answer matters more than the ledger row; say so loudly
            self._log.exception("could not write the usage record %s to the ledger", record.id)
        return record.id
