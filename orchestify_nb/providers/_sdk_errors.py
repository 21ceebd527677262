"""One table for every SDK-backed provider: an SDK exception becomes our typed error.

The Anthropic and OpenAI SDKs (and LiteLLM, whose exceptions subclass OpenAI's) raise the same
shapes: a status error carrying ``status_code``, ``response`` and ``body``; a connection error; a
timeout error. A stream dropped mid-way surfaces as a raw transport error of httpx (or the
``httpx2`` fork the newer SDKs use), sometimes wrapped. One mapping therefore serves all three;
each provider adds only its own hints. Like pydantic-ai's ``_map_api_errors``, but table-driven.
"""

from __future__ import annotations

import ast
import contextlib
import json
import re
import sys
import traceback
from collections.abc import Iterator, Mapping
from typing import Any

from orchestify_nb.errors import (
    AuthenticationError,
    BadRequestError,
    ContentFilterError,
    OverloadedError,
    ProviderConnectionError,
    ProviderError,
    ProviderTimeoutError,
    RateLimitError,
    RedirectRefusedError,
    ScrubbedCause,
    redact,
)
from orchestify_nb.providers.retry import parse_retry_after
from orchestify_nb.redaction import redact_url

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
    redirected = _redirect_in_chain(error)
    if redirected is not None:
        return _redirect_refused(*redirected)
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


def map_client_sdk_error(
    sdk: Any, error: BaseException, *, auth_hint: str, secrets: list[str]
) -> ProviderError | None:
    """``map_sdk_error`` for the anthropic or openai SDK module ``sdk``: both name their base
    classes ``APIStatusError``, ``APIConnectionError`` and ``APITimeoutError``."""
    return map_sdk_error(
        error,
        status_error=sdk.APIStatusError,
        connection_error=sdk.APIConnectionError,
        timeout_error=sdk.APITimeoutError,
        auth_hint=auth_hint,
        secrets=secrets,
    )


def scrub_secrets(error: BaseException, secrets: list[str]) -> None:
    """Redact ``secrets`` from the text of every exception in the chain (servers may echo a
    key in an error body, and the SDK puts the body in its message)."""
    for link in _cause_chain(error):
        link.args = tuple(
            _scrubbed(a, secrets) if isinstance(a, str | bytes) else a for a in link.args
        )
        message = getattr(link, "message", None)
        if isinstance(message, str):
            with contextlib.suppress(AttributeError):  # read-only on some exception types
                link.message = redact(message, secrets)  # type: ignore[attr-defined]


def failure_cause(
    error: ProviderError, raised: BaseException, secrets: list[str]
) -> BaseException | None:
    """Seal a failed call's error before it is raised: its own text scrubbed (provider code may
    raise one quoting what the server sent), and the cause it keeps (``scrubbed_cause``; none
    when provider code raised it, whose own cause and context are disarmed instead)."""
    error.message = redact(error.message, secrets)
    error.hint = redact(error.hint, secrets) if error.hint else error.hint
    error.args = (redact(error._compose(), secrets),)
    if error is not raised:
        return scrubbed_cause(raised, secrets)
    for link in (error.__cause__, error.__context__):
        if link is not None:
            disarm(link, secrets)
    return None


def scrubbed_cause(raised: BaseException, secrets: list[str]) -> ScrubbedCause:
    """What a typed error keeps of the exception it replaces: a ``ScrubbedCause`` with the
    original's scrubbed text and traceback (``%llm error`` shows both); the original is then
    emptied in place (``disarm``), since Python still keeps it as the error's ``__context__``."""
    message = redact(str(raised), secrets)
    cause = ScrubbedCause(f"{type(raised).__module__}.{type(raised).__qualname__}", message)
    trace = redact("".join(traceback.format_exception(raised)), secrets)
    cause.add_note(f"The original exception (scrubbed of secrets):\n{trace.rstrip()}")
    disarm(raised, secrets)
    return cause


#: Attributes of the SDKs' exceptions that are plain values, kept (scrubbed) by ``disarm``.
_PLAIN = (str, bytes, int, float, bool, type(None))


def disarm(error: BaseException, secrets: list[str]) -> None:
    """Empty every exception of ``error``'s chain of what could hold a secret: text and bytes
    are scrubbed, objects (the SDK's ``request`` with its headers, ``response``, a decoded
    ``body``) are dropped, and so are tracebacks (their frames hold the client and its key)."""
    for link in _every_link(error):
        link.args = tuple(_scrubbed(value, secrets) for value in link.args)
        for name, value in list(vars(link).items()):
            if name.startswith("__"):
                continue
            kept = _scrubbed(value, secrets) if isinstance(value, _PLAIN) else None
            with contextlib.suppress(AttributeError, TypeError):
                setattr(link, name, kept)
        link.__traceback__ = None


def _scrubbed(value: object, secrets: list[str]) -> object:
    if isinstance(value, str):
        return redact(value, secrets)
    if isinstance(value, bytes):
        return redact(value, secrets)
    return value if isinstance(value, _PLAIN) else redact(repr(value), secrets)


def _every_link(error: BaseException) -> list[BaseException]:
    """``error`` and every exception reachable from it as a cause or a context."""
    found: list[BaseException] = []
    waiting: list[BaseException | None] = [error]
    while waiting:
        link = waiting.pop()
        if link is None or any(link is seen for seen in found):
            continue
        found.append(link)
        waiting += [link.__cause__, link.__context__]
    return found


def _build(
    cls: type[ProviderError], message: str, status: int | None, auth_hint: str | None
) -> ProviderError:
    hint = auth_hint if cls is AuthenticationError else _DEFAULT_HINTS.get(cls)
    return cls(message, status_code=status or None, hint=hint)


def _redirect_in_chain(error: BaseException) -> tuple[BaseException, int] | None:
    """The link of the chain that carries a 3xx answer, and its status. LiteLLM wraps its
    routes' redirect errors in an ``APIConnectionError``, so the status is found further in."""
    for link in _cause_chain(error):
        for status in (
            getattr(link, "status_code", None),
            getattr(getattr(link, "response", None), "status_code", None),
        ):
            if isinstance(status, int) and 300 <= status < 400:
                return link, status
    return None


def _redirect_refused(error: BaseException, status: int) -> ProviderError:
    """A 3xx: the SDK clients follow no redirect (see ``_sdk.SDKClientProvider``), so the key
    and headers never travel to wherever it points; say where it pointed, without credentials."""
    location = next((h.get("location") for h in _header_sources(error) if h.get("location")), "")
    where = f" to {redact_url(location)[:200]}" if location else ""
    return RedirectRefusedError(
        f"the API host answered HTTP {status}, a redirect{where}; redirects are not followed, "
        "so the API key and headers stay with the API host",
        status_code=status,
        hint="If you trust the new address, set base_url to it",
    )


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
    if first_line.startswith(("b'{", 'b"{')):  # LiteLLM's streams quote the raw bytes body
        with contextlib.suppress(ValueError, SyntaxError, AttributeError):
            first_line = ast.literal_eval(first_line).decode("utf-8", "replace")
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
