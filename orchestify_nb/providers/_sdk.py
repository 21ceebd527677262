"""What the SDK-backed providers share: importing an optional SDK, extra headers held as
secrets, one client per event loop over one TLS context per process, the final response and
stop-reason helpers, and option checks made before anything is sent.

The SDK exception table lives next door, in ``_sdk_errors``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import importlib
import logging
import os
import ssl
import sys
import threading
import weakref
from collections.abc import Callable, Mapping
from functools import cached_property
from types import ModuleType
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import SecretStr

from orchestify_nb.addresses import metadata_address_problem
from orchestify_nb.errors import (
    AuthenticationError,
    ConfigError,
    MissingDependencyError,
    ProviderError,
    UnsupportedOptionError,
    redact,
)
from orchestify_nb.providers._sdk_errors import map_client_sdk_error
from orchestify_nb.providers.base import LLMProvider
from orchestify_nb.providers.requests import OptionProblem
from orchestify_nb.providers.types import LLMRequest
from orchestify_nb.redaction import redact_url, split_url_credentials

ClientT = TypeVar("ClientT")

#: One import per SDK, shared by every event loop and thread that waits for it.
_sdk_imports: dict[str, concurrent.futures.Future[ModuleType]] = {}
_sdk_imports_lock = threading.Lock()


def import_sdk(module: str, extra: str) -> ModuleType:
    """Import an optional SDK, or say exactly which extra to install."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise MissingDependencyError(
            f"The {extra} provider needs the `{module}` package, which is not installed. "
            f'Install it with: pip install "orchestify_nb[{extra}]"'
        ) from error


async def load_sdk(module: str, extra: str) -> ModuleType:
    """Import an optional SDK in a worker thread, without ever blocking the caller's loop.

    Every caller (concurrent first calls, the warm-up thread) waits on the same import: a
    second caller that found the module half-imported in ``sys.modules`` and imported it
    itself would block its loop on the import lock for the seconds the first one still needs.
    A failed import is tried again by the next call (the user may install the extra meanwhile).
    """
    with _sdk_imports_lock:
        future = _sdk_imports.get(module)
        if future is None or (future.done() and future.exception() is not None):
            future = concurrent.futures.Future()
            _sdk_imports[module] = future
            threading.Thread(
                target=_import_into, args=(future, module, extra), name=f"import-{module}"
            ).start()
    if future.done():
        return future.result()
    return await asyncio.wrap_future(future)


def _import_into(future: concurrent.futures.Future[ModuleType], module: str, extra: str) -> None:
    try:
        future.set_result(import_sdk(module, extra))
    except BaseException as error:  # the waiting callers raise it
        future.set_exception(error)


def resolve_api_key(key: SecretStr | None, env_var: str | None) -> SecretStr | None:
    """The configured key, else the one in the SDK's environment variable.

    Reading the variable ourselves (instead of letting the SDK do it) keeps the value inside a
    ``SecretStr`` the provider knows, so error messages can be scrubbed of it too.
    """
    if key is not None and key.get_secret_value():
        return key
    value = os.environ.get(env_var) if env_var else None
    return SecretStr(value) if value else key


_ssl_contexts: dict[str, ssl.SSLContext] = {}
_ssl_lock = threading.Lock()


def shared_ssl_context(sdk: ModuleType) -> ssl.SSLContext:
    """The TLS context the SDK's HTTP clients would each build, built once per process.

    The magics run every call on a fresh event loop, so every call builds a new SDK client, and
    the SDK's default client spends most of its construction time loading CA certificates into a
    new ``ssl.SSLContext``. This one is made by the SDK's own HTTP package
    (``create_ssl_context()`` with its defaults: ``SSL_CERT_FILE``/``SSL_CERT_DIR`` when set, the
    system store otherwise, truststore on macOS and Windows), so verification is exactly the
    SDK's; those variables are read once, when the first client is built. A context is safe to
    share between threads and event loops.
    """
    package = _http_package(sdk)
    context = _ssl_contexts.get(package.__name__)
    if context is None:
        with _ssl_lock:
            context = _ssl_contexts.get(package.__name__)
            if context is None:
                context = _ssl_contexts[package.__name__] = package.create_ssl_context()
    return context


def _http_package(sdk: ModuleType) -> ModuleType:
    """The HTTP package (``httpx2`` for anthropic 2.x and openai 3.x, ``httpx`` before) whose
    ``AsyncClient`` the SDK's ``DefaultAsyncHttpxClient`` extends."""
    for base in sdk.DefaultAsyncHttpxClient.__mro__:
        if base.__name__ == "AsyncClient":
            return sys.modules[base.__module__.partition(".")[0]]
    raise TypeError(f"{sdk.__name__}.DefaultAsyncHttpxClient is not an AsyncClient")


#: Top-level loggers of the SDKs and HTTP packages the providers drive.
SDK_LOGGER_ROOTS = frozenset(
    {
        "httpx",
        "httpx2",
        "httpcore",
        "httpcore2",
        "openai",
        "anthropic",
        "litellm",
        "LiteLLM",
        "LiteLLM Router",
        "LiteLLM Proxy",
        "aiohttp",
    }
)


class ScrubProviderSecrets(logging.Filter):
    """Removes every live provider's secrets (key, header values, ``base_url`` credentials, and
    their leading and trailing runs) from the SDKs' and HTTP packages' log records, traceback
    included: at DEBUG they print URLs as sent, response headers, and error bodies that may
    echo a key. Ours are written without secrets; theirs are not ours to word."""

    def __init__(self) -> None:
        super().__init__()
        self.providers: weakref.WeakSet[HeaderSendingProvider] = weakref.WeakSet()

    def filter(self, record: logging.LogRecord) -> bool:
        secrets = [secret for p in list(self.providers) for secret in p._secret_values()]
        if not secrets:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: let logging report it as it would
            return True
        scrubbed = redact(message, secrets)
        if scrubbed != message:
            record.msg, record.args = scrubbed, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, secrets)
        return True


log_scrubber = ScrubProviderSecrets()


def scrub_sdk_loggers() -> None:
    """Give every SDK logger that exists the scrubber: a logger's filter sees only the records
    made by that logger, not its children's, so each gets its own. The providers call it before
    each call (a scan of the logger names, well under a millisecond), so loggers an SDK creates
    later are covered from the next call."""
    for name, logger in list(logging.Logger.manager.loggerDict.items()):
        if (
            isinstance(logger, logging.Logger)
            and name.partition(".")[0] in SDK_LOGGER_ROOTS
            and log_scrubber not in logger.filters
        ):
            logger.addFilter(log_scrubber)


def hold_headers(headers: Mapping[str, SecretStr | str] | None) -> dict[str, SecretStr]:
    """Extra headers as secrets: they often carry a gateway's key (``Helicone-Auth``, Azure's
    ``api-key``, ``x-portkey-api-key``)."""
    return {
        name: value if isinstance(value, SecretStr) else SecretStr(value)
        for name, value in (headers or {}).items()
    }


class HeaderSendingProvider(LLMProvider):
    """A provider that sends configured extra HTTP ``headers`` with every request.

    The values are held as ``SecretStr`` and scrubbed from error text like the API key; only the
    SDK client constructor (or the LiteLLM call) sees them in plain text. A ``base_url`` at a
    cloud metadata address is refused unless ``allow_metadata_address`` says it is meant.
    """

    def __init__(
        self,
        *,
        headers: Mapping[str, SecretStr | str] | None = None,
        allow_metadata_address: bool = False,
        **settings: Any,
    ) -> None:
        super().__init__(**settings)
        self._headers = hold_headers(headers)
        log_scrubber.providers.add(self)
        problem = None if allow_metadata_address else metadata_address_problem(self.base_url or "")
        if problem is not None:
            raise ConfigError(
                f"base_url {redact_url(self.base_url or '')!r} points at a cloud metadata "
                f"service ({problem}), which would receive the API key and headers. Correct "
                "base_url, or pass allow_metadata_address=True if this really is your API server."
            )

    def _secret_values(self) -> list[str]:
        url_auth = split_url_credentials(self.base_url)[1]  # base_url's user:password, encoded
        return [
            *super()._secret_values(),
            *(v.get_secret_value() for v in self._headers.values()),
            *(value.removeprefix("Basic ") for value in url_auth.values()),
        ]

    def _plain_headers(self) -> dict[str, str]:
        """The headers for the client constructor or the call, and for nothing else."""
        return {name: value.get_secret_value() for name, value in self._headers.items()}


class ClientPerLoop(Generic[ClientT]):
    """One SDK client per running event loop, created on first use.

    An SDK client's connection pool belongs to the loop that opened it; the magics (a private loop
    thread) and the panel (the kernel's loop) may share one provider, so each loop gets its own
    client. A client whose loop has gone away is dropped with it.
    """

    def __init__(self, factory: Callable[[], ClientT]):
        self._factory = factory
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
        client: Any = self._clients.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.close()  # AsyncAnthropic and AsyncOpenAI alike


#: Sent when a custom server (llama.cpp, vLLM) needs no key but the SDK insists on one.
NO_KEY_PLACEHOLDER = "no-key-needed"


class SDKClientProvider(HeaderSendingProvider):
    """A provider that talks through one vendor SDK client class (``AsyncAnthropic``,
    ``AsyncOpenAI``): the client is built on first use per event loop with the SDK's own retries
    off, the configured headers as its default headers, the process's shared TLS context and no
    redirects followed, and the SDK's exceptions are mapped by the shared table."""

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
        await load_sdk(self.sdk_module, self.sdk_extra)
        scrub_sdk_loggers()
        self._clients.get()

    @cached_property
    def _clients(self) -> ClientPerLoop[Any]:
        return ClientPerLoop(self._new_client)

    def _new_client(self) -> Any:
        sdk = import_sdk(self.sdk_module, self.sdk_extra)
        self._api_key = resolve_api_key(self._api_key, self.api_key_env)
        if not self.has_api_key and self.requires_api_key:
            raise AuthenticationError(
                "no API key is configured",
                provider_id=self.provider_id,
                hint=f"Set {self.api_key_env}, or api_key: in this provider's config.",
            )
        base_url, url_auth = split_url_credentials(self.base_url)
        return getattr(sdk, self.client_class)(
            api_key=self._plain_api_key() or NO_KEY_PLACEHOLDER,
            base_url=base_url,  # credentials in it would be logged: they go as a header
            timeout=self.timeout,
            max_retries=0,
            default_headers={**url_auth, **self._plain_headers()} or None,
            # The SDK's own HTTP client class, so its timeouts, limits and keep-alive stay; it
            # follows no redirect, which would carry x-api-key and the headers to another host.
            http_client=sdk.DefaultAsyncHttpxClient(
                verify=shared_ssl_context(sdk), follow_redirects=False
            ),
        )

    async def aclose(self) -> None:
        await self._clients.aclose()

    def _map_error(self, error: Exception) -> ProviderError | None:
        return map_client_sdk_error(
            import_sdk(self.sdk_module, self.sdk_extra),
            error,
            auth_hint=f"Check {self.api_key_env} or the api_key in this provider's config.",
            secrets=self._secret_values(),
        )


# ------------------------------------------------------------------------------- translation
def map_finish_reason(table: Mapping[str, str], reason: str | None) -> str | None:
    """The SDK's stop reason in our vocabulary; an unknown non-empty one counts as a stop."""
    return table.get(reason, "stop") if reason else None


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
