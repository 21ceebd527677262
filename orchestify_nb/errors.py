"""Typed errors every provider raises, whatever SDK sits underneath.

Each SDK's exceptions are translated into these in the provider module (one table per SDK), so
callers catch one vocabulary. Messages name the provider, the model and what to do; they never
contain an API key (``redact`` scrubs any secret the provider knows before a message is built).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


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


class MissingDependencyError(OrchestifyError, ImportError):
    """An optional SDK is not installed; the message gives the pip command."""


def redact(text: str, secrets: Iterable[str | None]) -> str:
    """Replace every known secret value in ``text`` with ``***``.

    A last line of defence: SDK error bodies sometimes echo request fragments, and a key must
    never reach a notebook output, a log line or the ledger.
    """
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return text


class RedirectRefusedError(ProviderError):
    """The API host answered with a redirect (3xx). API calls follow none: a redirect to another
    host or port would otherwise carry the key and the configured headers there."""
