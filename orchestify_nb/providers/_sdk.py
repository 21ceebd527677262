"""What the SDK-backed providers share: importing an optional SDK, one client per event loop,
and one table that turns an SDK exception into our typed error.

The Anthropic and OpenAI SDKs (and LiteLLM, whose exceptions subclass OpenAI's) raise the same
shapes: a status error carrying ``status_code``, ``response`` and ``body``; a connection error; a
timeout error. A stream dropped mid-way surfaces as a raw transport error of httpx (or the
``httpx2`` fork the newer SDKs use), sometimes wrapped. One mapping therefore serves all three;
each provider adds only its own hints.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
import os
import re
import sys
import weakref
from collections.abc import Awaitable, Callable, Iterator, Mapping
from functools import cached_property
from types import ModuleType
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import SecretStr

from orchestify_nb.providers.base import LLMProvider
from orchestify_nb.providers.errors import (
    AuthenticationError,
    BadRequestError,
    ContentFilterError,
    MissingDependencyError,
    OverloadedError,
    ProviderConnectionError,
    ProviderError,
    ProviderTimeoutError,
    RateLimitError,
    UnsupportedOptionError,
    redact,
)
from orchestify_nb.providers.retry import parse_retry_after
from orchestify_nb.providers.types import LLMRequest, LLMResponse, StreamProgress, ToolCall

ClientT = TypeVar("ClientT")

#: What is wrong with a request and how to fix it, as found before anything is sent.
OptionProblem = tuple[str, str]


def import_sdk(module: str, extra: str) -> ModuleType:
    """Import an optional SDK, or say exactly which extra to install."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise MissingDependencyError(
            f"The {extra} provider needs the `{module}` package, which is not installed. "
            f'Install it with: pip install "orchestify_nb[{extra}]"'
        ) from error


def resolve_api_key(key: SecretStr | None, env_var: str | None) -> SecretStr | None:
    """The configured key, else the one in the SDK's environment variable.

    Reading the variable ourselves (instead of letting the SDK do it) keeps the value inside a
    ``SecretStr`` the provider knows, so error messages can be scrubbed of it too.
    """
    if key is not None and key.get_secret_value():
        return key
    value = os.environ.get(env_var) if env_var else None
    return SecretStr(value) if value else key


class ClientPerLoop(Generic[ClientT]):
    """One SDK client per running event loop, created on first use.

    An SDK client's connection pool belongs to the loop that opened it; the magics (a private loop
    thread) and the panel (the kernel's loop) may share one provider, so each loop gets its own
    client. A client whose loop has gone away is dropped with it.
    """

    def __init__(self, factory: Callable[[], ClientT], close: Callable[[ClientT], Awaitable[None]]):
        self._factory = factory
        self._close = close
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, ClientT] = (
            weakref.WeakKeyDictionary()
        )

    def get(self) -> ClientT:
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            client = self._clients[loop] = self._factory()
        return client

    async def aclose(self) -> None:
        """Close the current loop's client; clients of other loops close with their loops."""
        client = self._clients.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await self._close(client)


#: Sent when a custom server (llama.cpp, vLLM) needs no key but the SDK insists on one.
NO_KEY_PLACEHOLDER = "no-key-needed"


class SDKClientProvider(LLMProvider):
    """A provider that talks through one vendor SDK client class (``AsyncAnthropic``,
    ``AsyncOpenAI``): the client is built on first use per event loop with the SDK's own retries
    off, and the SDK's exceptions are mapped by the shared table."""

    #: Module to import, extra that installs it, and the async client class in it.
    sdk_module: ClassVar[str]
    sdk_extra: ClassVar[str]
    client_class: ClassVar[str]
    #: Current models, newest first, offered in pickers.
    catalog: ClassVar[tuple[str, ...]] = ()

    def known_models(self) -> list[str]:
        models = list(self.catalog)
        if self.default_model and self.default_model not in models:
            models.insert(0, self.default_model)
        return models

    def supports_tools(self, model: str | None = None) -> bool:
        return True

    @property
    def requires_api_key(self) -> bool:
        """Whether a call without a key should fail before sending (see ``OpenAIProvider``)."""
        return True

    async def _prepare(self) -> None:
        """Import the SDK in a worker thread the first time (it takes a second or more, which
        would freeze a notebook's event loop), then build this loop's client."""
        if self.sdk_module not in sys.modules:
            await asyncio.to_thread(import_sdk, self.sdk_module, self.sdk_extra)
        self._clients.get()

    @cached_property
    def _clients(self) -> ClientPerLoop[Any]:
        return ClientPerLoop(self._new_client, _close_client)

    def _new_client(self) -> Any:
        sdk = import_sdk(self.sdk_module, self.sdk_extra)
        self._api_key = resolve_api_key(self._api_key, self.api_key_env)
        if not self.has_api_key and self.requires_api_key:
            raise AuthenticationError(
                "no API key is configured",
                provider_id=self.provider_id,
                hint=f"Set {self.api_key_env}, or api_key: in this provider's config.",
            )
        return getattr(sdk, self.client_class)(
            api_key=self._plain_api_key() or NO_KEY_PLACEHOLDER,
            base_url=self.base_url,
            timeout=self.timeout,
            max_retries=0,
        )

    async def aclose(self) -> None:
        await self._clients.aclose()

    def _map_error(self, error: Exception) -> ProviderError | None:
        sdk = import_sdk(self.sdk_module, self.sdk_extra)
        return map_sdk_error(
            error,
            status_error=sdk.APIStatusError,
            connection_error=sdk.APIConnectionError,
            timeout_error=sdk.APITimeoutError,
            auth_hint=f"Check {self.api_key_env} or the api_key in this provider's config.",
            secrets=self._secret_values(),
        )


async def _close_client(client: Any) -> None:
    await client.close()


# ------------------------------------------------------------------------------ error mapping
#: HTTP status -> (error class, what happened). Checked in order; a range covers a status family.
_STATUS_TABLE: tuple[tuple[range, type[ProviderError], str], ...] = (
    (range(401, 402), AuthenticationError, "the API key was rejected"),
    (range(403, 404), AuthenticationError, "the API key is not allowed to do this"),
    (range(429, 430), RateLimitError, "rate limited by the API"),
    (range(408, 409), ProviderTimeoutError, "the API timed out the request"),
    (range(404, 405), BadRequestError, "the API does not know this model or endpoint"),
    (range(413, 414), BadRequestError, "the request is too large"),
    (range(400, 500), BadRequestError, "the API rejected the request"),
    (range(500, 600), OverloadedError, "the API is overloaded or failing"),
)

#: Error ``type`` / ``code`` strings in a response body, for when the status says too little:
#: Anthropic sends ``overloaded_error`` as an event inside a 200 stream, and OpenAI flags a
#: content-policy block inside a plain 400.
_BODY_TYPE_TABLE: Mapping[str, tuple[type[ProviderError], str]] = {
    "overloaded_error": (OverloadedError, "the API is overloaded"),
    "api_error": (OverloadedError, "the API failed"),
    "rate_limit_error": (RateLimitError, "rate limited by the API"),
    "authentication_error": (AuthenticationError, "the API key was rejected"),
    "permission_error": (AuthenticationError, "the API key is not allowed to do this"),
    "timeout_error": (ProviderTimeoutError, "the API timed out the request"),
    "content_policy_violation": (ContentFilterError, "the content policy blocked the request"),
    "content_filter": (ContentFilterError, "the content policy blocked the request"),
}

_DEFAULT_HINTS: Mapping[type[ProviderError], str] = {
    RateLimitError: "Retries are exhausted; wait a moment, lower concurrency or raise the limit",
    OverloadedError: "Retries are exhausted; try again shortly or use another model",
    ProviderTimeoutError: "Raise the provider's timeout, or ask for a shorter answer",
    ProviderConnectionError: "Check base_url and the network, then try again",
    BadRequestError: "Check the model name, the options and the size of the conversation",
    ContentFilterError: "Rephrase the prompt; the provider refused it on policy grounds",
}


def map_sdk_error(
    error: BaseException,
    *,
    status_error: type[BaseException],
    connection_error: type[BaseException],
    timeout_error: type[BaseException],
    auth_hint: str,
    secrets: list[str] | None = None,
) -> ProviderError | None:
    """Translate an SDK (or transport) exception into a typed ``ProviderError``.

    ``status_error``, ``connection_error`` and ``timeout_error`` are the SDK's own base classes;
    ``None`` means the exception is not one the provider layer knows how to name. ``secrets``
    are scrubbed from the SDK exceptions themselves, since they stay chained to ours and a
    traceback prints them.
    """
    if secrets:
        scrub_secrets(error, secrets)
    original = getattr(error, "original_exception", None)  # LiteLLM's mid-stream wrapper
    if isinstance(original, BaseException) and original is not error:
        mapped = map_sdk_error(
            original,
            status_error=status_error,
            connection_error=connection_error,
            timeout_error=timeout_error,
            auth_hint=auth_hint,
        )
        if mapped is not None:
            return mapped
    if isinstance(error, timeout_error):
        return _build(ProviderTimeoutError, "the request timed out", None, None)
    if isinstance(error, connection_error):
        return _build(ProviderConnectionError, "the connection failed or dropped", None, None)
    status = getattr(error, "status_code", None)
    if not isinstance(error, status_error) and not isinstance(status, int):
        transport = _transport_error(error)
        if transport is ProviderTimeoutError:
            return _build(ProviderTimeoutError, "the request timed out", None, None)
        if transport is not None:
            return _build(ProviderConnectionError, "the connection failed or dropped", None, None)
        return None
    code = status if isinstance(status, int) else 0
    body_type = _body_error_type(getattr(error, "body", None))
    row = _BODY_TYPE_TABLE.get(body_type) if body_type else None
    if row is not None and code >= 400 and row[0] is not ContentFilterError:
        row = None  # an HTTP error status is authoritative; the body only refines policy blocks
    if row is None and "ContentPolicy" in type(error).__name__:
        row = (ContentFilterError, "the content policy blocked the request")
    cls, summary = row or _status_row(code)
    detail = _api_message(error)
    mapped = _build(cls, f"{summary}: {detail}" if detail else summary, status, auth_hint)
    if cls is RateLimitError or cls is OverloadedError:
        mapped.retry_after = retry_after_s(error)
    return mapped


def scrub_secrets(error: BaseException, secrets: list[str]) -> None:
    """Redact ``secrets`` from the text of every exception in the chain (servers may echo a
    key in an error body, and the SDK puts the body in its message)."""
    for link in _cause_chain(error):
        link.args = tuple(redact(a, secrets) if isinstance(a, str) else a for a in link.args)
        message = getattr(link, "message", None)
        if isinstance(message, str):
            with contextlib.suppress(AttributeError):  # read-only on some exception types
                link.message = redact(message, secrets)  # type: ignore[attr-defined]


def _build(
    cls: type[ProviderError], message: str, status: int | None, auth_hint: str | None
) -> ProviderError:
    hint = auth_hint if cls is AuthenticationError else _DEFAULT_HINTS.get(cls)
    return cls(message, status_code=status or None, hint=hint)


def _status_row(status: int) -> tuple[type[ProviderError], str]:
    if status == 529:
        return OverloadedError, "the API is overloaded"
    for statuses, cls, summary in _STATUS_TABLE:
        if status in statuses:
            return cls, summary
    return OverloadedError, f"the API answered with unexpected status {status}"


def _transport_error(error: BaseException) -> type[ProviderError] | None:
    """Timeout or connection class for an httpx/httpx2 error anywhere in the cause chain."""
    transports = [sys.modules[name] for name in ("httpx", "httpx2") if name in sys.modules]
    for link in _cause_chain(error):
        for module in transports:
            if isinstance(link, module.TimeoutException):
                return ProviderTimeoutError
            if isinstance(link, module.TransportError):
                return ProviderConnectionError
        if isinstance(link, TimeoutError):
            return ProviderTimeoutError
        if isinstance(link, ConnectionError):
            return ProviderConnectionError
    return None


def _cause_chain(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    link: BaseException | None = error
    while link is not None and id(link) not in seen:
        seen.add(id(link))
        yield link
        link = link.__cause__ or link.__context__


def _body_error_type(body: object) -> str | None:
    """``error.type`` (Anthropic) or ``error.code`` / ``code`` (OpenAI) of a decoded body."""
    if not isinstance(body, dict):
        return None
    inner = body.get("error", body)
    if not isinstance(inner, dict):
        return None
    for key in ("code", "type"):
        value = inner.get(key)
        if isinstance(value, str) and value in _BODY_TYPE_TABLE:
            return value
    return None


def _api_message(error: BaseException) -> str:
    """The API's own one-line explanation, without the SDK's ``Error code: ...`` dump."""
    found = _message_in(getattr(error, "body", None))
    if found:
        return found[:500]
    message = str(getattr(error, "message", None) or error)
    first_line = _BACKEND_PREFIX.sub("", message.splitlines()[0] if message else "")
    if first_line.startswith("{"):  # LiteLLM passes some backends' JSON error bodies as text
        try:
            found = _message_in(json.loads(first_line))
        except ValueError:
            found = None
    return (found or first_line)[:500]


def _message_in(body: object) -> str | None:
    if not isinstance(body, dict):
        return None
    inner = body.get("error", body)
    message = inner.get("message") if isinstance(inner, dict) else None
    return message if isinstance(message, str) and message else None


#: LiteLLM's wrapping of a backend's message, e.g.
#: ``litellm.RateLimitError: RateLimitError: OpenAIException - ``.
_BACKEND_PREFIX = re.compile(r"^(?:litellm\.\w+: )?(?:\w+Error: )?(?:\w+Exception - )?")


def retry_after_s(error: BaseException) -> float | None:
    """Seconds from the ``retry-after-ms`` or ``retry-after`` header of the failed response."""
    for headers in _header_sources(error):
        milliseconds = parse_retry_after(headers.get("retry-after-ms"))
        if milliseconds is not None:
            return milliseconds / 1000.0
        seconds = parse_retry_after(headers.get("retry-after"))
        if seconds is not None:
            return seconds
    return None


def _header_sources(error: BaseException) -> Iterator[Mapping[str, str]]:
    response = getattr(error, "response", None)
    headers = getattr(response, "headers", None)
    if headers is not None:
        yield headers
    for attribute in ("litellm_response_headers", "headers"):
        extra = getattr(error, attribute, None)
        if extra is not None and hasattr(extra, "get"):
            yield extra


# ------------------------------------------------------------------------------- translation
def build_response(
    progress: StreamProgress,
    *,
    content: str,
    thinking: str,
    tool_calls: list[ToolCall],
    finish_reason: str | None,
    raw: Any,
) -> LLMResponse:
    """The final answer, with the usage the provider folded into ``progress``."""
    return LLMResponse(
        content=content,
        model=progress.model or "unknown",
        tokens_input=progress.tokens_input,
        tokens_output=progress.tokens_output,
        finish_reason=finish_reason,
        raw_response=raw,
        cache_read_tokens=progress.cache_read_tokens,
        cache_write_tokens=progress.cache_write_tokens,
        reasoning_tokens=progress.reasoning_tokens,
        tool_calls=tool_calls,
        thinking=thinking,
    )


def map_finish_reason(table: Mapping[str, str], reason: str | None) -> str | None:
    """The SDK's stop reason in our vocabulary; an unknown non-empty one counts as a stop."""
    return table.get(reason, "stop") if reason else None


def parse_tool_arguments(text: str) -> dict[str, Any]:
    """The JSON object a model produced as tool arguments.

    A truncated or malformed argument string (``finish_reason == "length"``) is kept under
    ``"_raw"`` rather than dropped, so the caller can see what the model wrote.
    """
    if not text.strip():
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {"_raw": text}
    return value if isinstance(value, dict) else {"_raw": text}


# -------------------------------------------------------------------------- option checks
def unknown_options(request: LLMRequest, allowed: frozenset[str]) -> OptionProblem | None:
    """Options the SDK call would not accept: a typo is reported before any request."""
    unknown = sorted(set(request.options) - allowed)
    if not unknown:
        return None
    return (
        f"unknown option(s) {', '.join(unknown)}",
        f"Options this provider accepts: {', '.join(sorted(allowed))}.",
    )


def raise_option_problem(
    provider_id: str, request: LLMRequest, problem: OptionProblem | None
) -> None:
    if problem is not None:
        raise UnsupportedOptionError(
            problem[0], provider_id=provider_id, model=request.model, hint=problem[1]
        )
