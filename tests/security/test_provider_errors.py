"""Every way a call can fail, through every backend's real SDK: the error the caller sees (its
text, repr, full cause chain and pickle) and every log line written meanwhile, at DEBUG and from
every logger, our own and the SDKs', hold no key.

The keys reach the providers only through a config file's ``${VAR}`` references, as a user's do.

Logging policy proven here: our loggers (``orchestify_nb.*``) never carry a key at any level. The
SDK and transport loggers are not ours to configure (the package only adds a ``NullHandler`` to
``orchestify_nb`` and keeps LiteLLM's loggers at WARNING), but even forced to DEBUG they show no
12-character fragment of a key: httpx/httpcore log no headers, the openai/anthropic SDKs log
per-request options (the key lives in the client's auth headers, not there), and LiteLLM masks
its curl dump (``Authorization: Be****`` + the last two characters, ``x-api-key`` as REDACTED).
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import pytest

from orchestify_nb.errors import AuthenticationError, ProviderError
from orchestify_nb.providers.types import StreamEvent
from orchestify_nb.registry import ProviderRegistry
from orchestify_nb.testing import Fault, LLMEmulator, Reply
from orchestify_nb.testing.script import Scripted
from tests.security.conftest import SDK_LOGGERS, RegistryFactory
from tests.security.leaks import (
    BACKENDS,
    Backend,
    FakeKeys,
    assert_exception_clean,
    assert_no_key_in_logs,
)


@dataclass(frozen=True)
class Failure:
    """A way to fail: what the emulator answers per attempt, and the provider settings for it."""

    name: str
    script: list[Scripted] = field(default_factory=list)
    max_retries: int = 0
    timeout: float = 30.0
    closed_port: bool = False


FAILURES = (
    Failure("unauthorized", [Fault.unauthorized()]),
    Failure("rate_limit_retries_exhausted", [Fault.rate_limit(retry_after=0)] * 3, max_retries=2),
    Failure("server_error", [Fault.server_error()]),
    Failure("overloaded", [Fault.overloaded()]),
    Failure("drop_mid_stream", [Fault.drop_mid_stream(2, Reply(text="one two three four five"))]),
    Failure("bad_request_400", [Fault.http_error(400, "Bad request: max_tokens is too large")]),
    Failure("connection_refused", closed_port=True),
    Failure("timeout", [Fault.slow_first_token(2.0, Reply(text="late"))], timeout=0.25),
)


def closed_port_url() -> str:
    """A loopback URL nothing listens on (the port was just bound and released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


async def failed_calls(
    registry: ProviderRegistry, backend: Backend, emulator: LLMEmulator, failure: Failure
) -> list[ProviderError]:
    """The errors of one ``complete()`` and one ``stream()``, each facing the scripted failure."""
    provider = registry.get(backend.provider_id)
    errors: list[ProviderError] = []
    calls: list[Callable[[], Awaitable[object]]] = [
        lambda: provider.complete("Tell me a secret."),
        lambda: _drain(provider.stream("Tell me a secret.")),
    ]
    for call in calls:
        emulator.enqueue(*failure.script)
        with pytest.raises(ProviderError) as caught:
            await call()
        errors.append(caught.value)
    return errors


async def _drain(events: AsyncIterator[StreamEvent]) -> None:
    async for _ in events:
        pass


@pytest.mark.parametrize("failure", FAILURES, ids=[f.name for f in FAILURES])
@pytest.mark.parametrize("backend", BACKENDS, ids=[b.provider_id for b in BACKENDS])
async def test_failed_call_shows_no_key_in_error_chain_or_debug_logs(
    backend: Backend,
    failure: Failure,
    keys: FakeKeys,
    llm_emulator: LLMEmulator,
    make_registry: RegistryFactory,
    debug_logs: pytest.LogCaptureFixture,
) -> None:
    registry = make_registry(
        base_url=closed_port_url() if failure.closed_port else None,
        max_retries=failure.max_retries,
        timeout=failure.timeout,
    )
    errors = await failed_calls(registry, backend, llm_emulator, failure)

    for error in errors:
        assert error.provider_id == backend.provider_id  # the error we inspect is the real one
        assert_exception_clean(error, keys.all)
    if failure.max_retries:
        assert len(llm_emulator.requests) == 2 * (failure.max_retries + 1)
    ours = [r for r in debug_logs.records if r.name.startswith("orchestify_nb")]
    assert any(r.levelname == "WARNING" for r in ours), "the failure was not logged"
    assert_no_key_in_logs(debug_logs.records, keys.all)


@pytest.mark.parametrize("backend", BACKENDS, ids=[b.provider_id for b in BACKENDS])
async def test_successful_calls_log_no_key_at_debug_from_any_logger(
    backend: Backend,
    keys: FakeKeys,
    llm_emulator: LLMEmulator,
    make_registry: RegistryFactory,
    debug_logs: pytest.LogCaptureFixture,
) -> None:
    provider = make_registry().get(backend.provider_id)

    answer = await provider.complete("Say hi.")
    streamed = [event async for event in provider.stream("Say hi again.")]

    assert answer.content == "Say hi." and streamed[-1].type == "done"
    sdk_records = [r for r in debug_logs.records if r.name.split(".")[0] in SDK_LOGGERS]
    assert any(r.levelname == "DEBUG" for r in sdk_records), "no SDK debug output was captured"
    if backend.provider_type == "litellm":  # its request dump (headers masked) is DEBUG too
        assert any(r.name == "LiteLLM" and r.levelname == "DEBUG" for r in sdk_records)
    assert_no_key_in_logs(debug_logs.records, keys.all)


async def test_the_configured_key_is_what_reaches_the_wire_and_a_rejected_one_stays_hidden(
    keys: FakeKeys, make_registry: RegistryFactory, debug_logs: pytest.LogCaptureFixture
) -> None:
    """An emulator that accepts only the Anthropic key: the backends holding it get answers (so
    the ``${VAR}`` reference delivered exactly that key), those holding the OpenAI key get a
    401 whose error shows neither key."""
    with LLMEmulator(api_key=keys.anthropic) as strict:
        registry = make_registry(base_url=strict.base_url)
        for backend in BACKENDS:
            provider = registry.get(backend.provider_id)
            if backend.key(keys) == keys.anthropic:
                assert (await provider.complete("Who am I?")).content == "Who am I?"
                continue
            with pytest.raises(AuthenticationError) as caught:
                await provider.complete("Who am I?")
            assert_exception_clean(caught.value, keys.all)
        await registry.aclose()
    assert_no_key_in_logs(debug_logs.records, keys.all)
