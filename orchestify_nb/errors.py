"""Typed errors every provider raises, whatever SDK sits underneath.

Each SDK's exceptions are translated into these in the provider module (one table per SDK), so
callers catch one vocabulary. Messages name the provider, the model and what to do; they never
contain an API key (``redact`` scrubs any secret the provider knows before a message is built).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, AnyStr


class OrchestifyError(Exception):
    """Root of every error this package raises on purpose."""


class ConfigError(OrchestifyError, ValueError):
    """The configuration is unusable; the message names the file, line, key and the fix."""


class ProviderError(OrchestifyError):
    """A call to an LLM provider failed.

    ``retryable`` tells the shared retry policy whether another attempt can succeed;
    ``retry_after`` carries the server's ``Retry-After`` hint in seconds when it sent one.
    """

    retryable: bool = False
    #: What had arrived when the call failed (an ``LLMResponse``: partial text, usage so far),
    #: set by the provider base class.
    partial_response: Any = None

    def __init__(
        self,
        message: str,
        *,
        provider_id: str | None = None,
        model: str | None = None,
        status_code: int | None = None,
        retry_after: float | None = None,
        hint: str | None = None,
    ) -> None:
        self.message = message
        self.provider_id = provider_id
        self.model = model
        self.status_code = status_code
        self.retry_after = retry_after
        self.hint = hint
        super().__init__(self._compose())

    def _compose(self) -> str:
        where = ", ".join(
            part
            for part in (
                f"provider {self.provider_id!r}" if self.provider_id else "",
                f"model {self.model!r}" if self.model else "",
                f"HTTP {self.status_code}" if self.status_code else "",
            )
            if part
        )
        text = f"{self.message} ({where})" if where else self.message
        return f"{text}. {self.hint}" if self.hint else text

    def __reduce__(self) -> tuple[object, ...]:
        # Keep keyword-only fields across pickling (multiprocessing, nbclient error transport).
        return (_rebuild_error, (type(self), self.message, self.__dict__.copy()))


def _rebuild_error(
    cls: type[ProviderError], message: str, state: dict[str, object]
) -> ProviderError:
    error = cls.__new__(cls)
    Exception.__init__(error, message)
    error.__dict__.update(state)
    Exception.__init__(error, error._compose())
    return error


class AuthenticationError(ProviderError):
    """The key was rejected (401/403). Never retried."""


class RateLimitError(ProviderError):
    """HTTP 429: too many requests or tokens for the account's limits."""

    retryable = True


class OverloadedError(ProviderError):
    """The provider is overloaded or failing (5xx, Anthropic's 529)."""

    retryable = True


class ProviderTimeoutError(ProviderError):
    """The request did not finish within the provider's ``timeout``."""

    retryable = True


class ProviderConnectionError(ProviderError):
    """The host could not be reached, or the connection dropped mid-response."""

    retryable = True


class BadRequestError(ProviderError):
    """The provider rejected the request as invalid (4xx other than auth/rate limit)."""


class ContentFilterError(ProviderError):
    """The provider refused the prompt or the answer on content-policy grounds."""


class ModelNotSupportedError(ProviderError, ValueError):
    """The model name cannot be served by this provider (checked before any request)."""


class UnsupportedOptionError(ProviderError, ValueError):
    """An option the chosen model rejects (checked before any request, not a raw 400)."""


class UnsupportedContentError(UnsupportedOptionError):
    """The prompt holds an image (or a document) the chosen model cannot read."""


class InvalidArgumentError(UnsupportedOptionError):
    """An argument's value no API accepts (``max_tokens=0``, ``temperature=nan``, a lone
    surrogate in the prompt); refused before anything is sent, whichever surface it came from."""


class IncompleteResponseError(ProviderConnectionError):
    """The answer stopped before the API's end marker (``message_stop``, a ``finish_reason``):
    the connection or the server broke off. Retried when nothing had been shown yet."""


class ResponseFormatError(ProviderError):
    """The server answered, but not in the API's format (an HTML page, garbage, invalid UTF-8):
    usually a wrong ``base_url`` or a proxy's error page."""


class BudgetExceededError(ProviderError):
    """A configured budget is spent; the call was refused before any request was sent."""


class StructuredOutputError(ProviderError):
    """An answer asked for with ``output_schema`` does not fit it (after the repair turns), or
    was refused or cut at ``max_tokens``. ``raw_text`` is what the model said; ``problems``
    lists what did not fit."""

    def __init__(
        self,
        message: str,
        *,
        raw_text: str = "",
        problems: list[str] | None = None,
        **where: Any,
    ) -> None:
        self.raw_text = raw_text
        self.problems = list(problems or [])
        super().__init__(message, **where)


class MissingDependencyError(OrchestifyError, ImportError):
    """An optional SDK is not installed; the message gives the pip command."""


class ToolError(OrchestifyError):
    """A tool loop could not go on; ``run`` holds the ``ToolRun`` so far (its finished steps)."""

    run: Any = None


class ToolDefinitionError(ToolError, ValueError):
    """A function cannot be offered as a tool (e.g. ``*args``); the message says which and why."""


class MCPServerError(ToolError):
    """An MCP server failed to start, or died or broke off during a call; the message names it."""


#: A secret's leading or trailing run at least this long counts as the secret: APIs echo keys
#: cut short (``sk-ant-api03-AbC...xYz9``), and either end tells a key's kind or its random part.
FRAGMENT_RUN = 8
#: Secrets shorter than this are not scrubbed at all (they would mask ordinary words).
_SHORTEST_SECRET = 4


def redact(text: AnyStr, secrets: Iterable[str | None]) -> AnyStr:
    """``text`` (str or bytes) with every known secret replaced by ``***``: the whole value, and
    any run of ``FRAGMENT_RUN`` or more characters that begins like it or ends like it.

    A last line of defence: SDK error bodies echo request fragments, whole or truncated, and a
    key must never reach a notebook output, a log line or the ledger.
    """
    for secret in secrets:
        if not secret or len(secret) < _SHORTEST_SECRET:
            continue
        needle: Any = secret.encode() if isinstance(text, bytes) else secret
        text = _mask_runs(text, needle)
    return text


def _mask_runs(text: AnyStr, secret: AnyStr) -> AnyStr:
    mask: Any = b"***" if isinstance(text, bytes) else "***"
    text = text.replace(secret, mask)
    if len(secret) <= FRAGMENT_RUN:
        return text
    spans = [*_prefix_runs(text, secret), *_suffix_runs(text, secret)]
    for start, end in sorted(_merged(spans), reverse=True):
        text = text[:start] + mask + text[end:]
    return text


def _prefix_runs(text: AnyStr, secret: AnyStr) -> Iterator[tuple[int, int]]:
    """Spans of ``text`` that are a prefix of ``secret`` at least ``FRAGMENT_RUN`` long."""
    head, at = secret[:FRAGMENT_RUN], text.find(secret[:FRAGMENT_RUN])
    while at != -1:
        end = at + FRAGMENT_RUN
        while end < len(text) and end - at < len(secret) and text[end] == secret[end - at]:
            end += 1
        yield at, end
        at = text.find(head, end)


def _suffix_runs(text: AnyStr, secret: AnyStr) -> Iterator[tuple[int, int]]:
    """Spans of ``text`` that are a suffix of ``secret`` at least ``FRAGMENT_RUN`` long."""
    tail, at = secret[-FRAGMENT_RUN:], text.find(secret[-FRAGMENT_RUN:])
    while at != -1:
        start, end = at, at + FRAGMENT_RUN
        offset = len(secret) - FRAGMENT_RUN  # where text[at] sits in the secret
        while start > 0 and offset > 0 and text[start - 1] == secret[offset - 1]:
            start, offset = start - 1, offset - 1
        yield start, end
        at = text.find(tail, end)


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


class RedirectRefusedError(ProviderError):
    """The API host answered with a redirect (3xx). API calls follow none: a redirect to another
    host or port would otherwise carry the key and the configured headers there."""


class ScrubbedCause(Exception):
    """Stands in for the SDK exception behind a ``ProviderError`` (as its ``__cause__``): the
    original's type, message and traceback as text, scrubbed of every secret the provider
    knows, without the SDK's request, response and body objects, which hold the key."""

    def __init__(self, original_type: str, message: str) -> None:
        self.original_type = original_type
        super().__init__(f"{original_type}: {message}" if message else original_type)
