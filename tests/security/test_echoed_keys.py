"""A server that echoes the caller's key in its error answer (whole, cut short as real APIs
print it, in a plain-text body the SDKs keep as bytes, or in response headers): the key reaches
no text the caller can see, on any backend, complete or stream. Checked: the error's ``str``,
``repr``, its whole formatted chain, its pickle, every exception reachable from it as a cause
or a context (attributes and all: the SDKs keep ``body``, ``response`` and ``request`` on theirs),
every log record of every logger at DEBUG, and a batch run's error column."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from orchestify_nb.batch import run_batch
from orchestify_nb.errors import BadRequestError, ProviderError
from orchestify_nb.providers.base import LLMProvider
from orchestify_nb.providers.types import LLMRequest, ProviderEvent, StreamEvent, StreamProgress
from tests.security.conftest import RegistryFactory
from tests.security.leaks import (
    BACKENDS,
    Backend,
    FakeKeys,
    assert_exception_clean,
    assert_no_key,
    assert_no_key_in_logs,
)
from tests.security.loopback_servers import ECHOES, echo_key, serve


async def _drain(events: AsyncIterator[StreamEvent]) -> None:
    async for _ in events:
        pass


async def _failures(provider: LLMProvider) -> list[ProviderError]:
    errors = []
    for call in (
        lambda: provider.complete("Tell me a secret."),
        lambda: _drain(provider.stream("Tell me a secret.")),
    ):
        with pytest.raises(ProviderError) as caught:
            await call()
        errors.append(caught.value)
    return errors


def reachable_text(error: BaseException) -> str:
    """Every exception reachable from ``error`` (causes and contexts), with its arguments, its
    attributes and, for the SDKs' request and response objects, their headers and bodies."""
    parts: list[str] = []
    seen: list[BaseException] = []
    waiting: list[BaseException | None] = [error]
    while waiting:
        link = waiting.pop()
        if link is None or any(link is other for other in seen):
            continue
        seen.append(link)
        parts += [type(link).__name__, repr(link.args), repr(vars(link))]
        for name in ("request", "response"):
            try:
                http = getattr(link, name, None)
            except RuntimeError:  # httpx: "The .request property has not been set."
                http = None
            if http is not None:
                parts.append(repr(getattr(http, "headers", None)))
                parts.append(repr(getattr(http, "content", None)))
        waiting += [link.__cause__, link.__context__]
    return "\n".join(parts)


@pytest.mark.parametrize("how", list(ECHOES))
@pytest.mark.parametrize("backend", BACKENDS, ids=[b.provider_id for b in BACKENDS])
async def test_a_key_echoed_by_the_server_reaches_no_error_text_object_or_log_line(
    backend: Backend,
    how: str,
    keys: FakeKeys,
    make_registry: RegistryFactory,
    debug_logs: pytest.LogCaptureFixture,
) -> None:
    with serve(echo_key(how)) as server:
        provider = make_registry(base_url=server.url).get(backend.provider_id)
        errors = await _failures(provider)

    assert len(server.received) == 2 and backend.key(keys) in server.received[0].text()
    for error in errors:
        assert error.provider_id == backend.provider_id
        assert_exception_clean(error, keys.all)
        assert_no_key(reachable_text(error), keys.all, "an exception reachable from the error")
    assert_no_key_in_logs(debug_logs.records, keys.all)


@pytest.mark.parametrize("backend", BACKENDS, ids=[b.provider_id for b in BACKENDS])
async def test_a_batch_error_column_shows_no_truncated_echo_of_the_key(
    backend: Backend, keys: FakeKeys, make_registry: RegistryFactory
) -> None:
    with serve(echo_key("truncated_key_in_json_body")) as server:
        provider = make_registry(base_url=server.url).get(backend.provider_id)
        result = await run_batch(["one", "two"], provider=provider, concurrency=1, progress=False)

    assert result.count("error") == 2
    frame = result.to_dataframe()
    column = " ".join(str(value) for value in frame["error"])  # df.llm's <out>_error too
    assert "API key was rejected" in column
    for where, text in {
        "rows": repr(list(result)),
        "DataFrame error column": column,
        "DataFrame.to_json()": frame.to_json(),
    }.items():
        assert_no_key(text, keys.all, where)


class QuotingProvider(LLMProvider):
    """A real provider whose translation raises its own typed error quoting what the server
    sent (as a check naming a malformed answer does), chained to a parse error quoting it too."""

    provider_type = "quoting"

    def __init__(self, echoed: str, **settings: Any) -> None:
        super().__init__(default_model="m", **settings)
        self.echoed = echoed

    async def _complete(
        self, request: LLMRequest, progress: StreamProgress
    ) -> AsyncIterator[ProviderEvent]:
        try:
            raise ValueError(f"cannot parse {self.echoed!r}")
        except ValueError as unparsable:
            raise BadRequestError(
                f"the server's answer is not the API's format: {self.echoed}"
            ) from unparsable
        yield  # pragma: no cover

    _stream = _complete

    def _map_error(self, error: Exception) -> ProviderError | None:
        return None


@pytest.mark.parametrize("echo", ["whole", "truncated"])
async def test_a_typed_error_raised_by_provider_code_quoting_the_server_is_scrubbed(
    echo: str, keys: FakeKeys, debug_logs: pytest.LogCaptureFixture
) -> None:
    key = keys.anthropic
    quoted = key if echo == "whole" else f"{key[:14]}...{key[-6:]}"
    provider = QuotingProvider(f"<html>denied: {quoted}</html>", api_key=key, max_retries=0)

    errors = await _failures(provider)

    for error in errors:
        assert isinstance(error, BadRequestError) and "<html>denied: ***" in str(error)
        assert_exception_clean(error, [key])
        assert_no_key(reachable_text(error), [key], "an exception reachable from the error")
    assert_no_key_in_logs(debug_logs.records, [key])
