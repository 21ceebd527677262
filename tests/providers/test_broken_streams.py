"""Broken answers are errors, not answers: a stream cut before the API's end marker is an
``IncompleteResponseError`` keeping the text that came; an HTML page, garbage, a body that is
not JSON or invalid UTF-8 with status 200 is a ``ResponseFormatError`` naming what came. On
every backend, complete and stream, each recorded in the ledger as an error."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from orchestify_nb.errors import IncompleteResponseError, ProviderError, ResponseFormatError
from orchestify_nb.providers.base import LLMProvider
from orchestify_nb.usage.ledger import Ledger
from tests.providers.conftest import SECRET_KEY, Backend
from tests.providers.hostile_servers import (
    CUT_SHORT,
    NOT_THE_API,
    PARTIAL_TEXT,
    Hostile,
    HostileServer,
    Send,
)


async def _echo_key_page(send: Send, api: str, streaming: bool) -> None:
    await send(f"<html><body>Bad key {SECRET_KEY} for this gateway</body></html>".encode())


KEY_ECHO_PAGE = Hostile("key-echoing-page", lambda streaming: "text/html", _echo_key_page)


@pytest.fixture
def servers() -> Iterator[dict[str, HostileServer]]:
    started = {h.name: HostileServer(h) for h in (CUT_SHORT, *NOT_THE_API, KEY_ECHO_PAGE)}
    for server in started.values():
        server.__enter__()
    yield started
    for server in started.values():
        server.__exit__()


def _provider(backend: Backend, server: HostileServer) -> LLMProvider:
    return backend.provider_class(
        api_key=SECRET_KEY,
        base_url=server.base_url(backend.api),
        default_model=backend.model,
        timeout=10.0,
        max_retries=2,
    )


async def _failure(provider: LLMProvider, streaming: bool) -> tuple[BaseException, str]:
    """The call's exception and the text the caller was shown before it."""
    shown: list[str] = []
    try:
        if streaming:
            async for event in provider.stream("hi"):
                shown.append(event.text)
        else:
            await provider.complete("hi")
    except Exception as error:
        return error, "".join(shown)
    raise AssertionError(f"a broken answer came back as an answer: {''.join(shown)!r}")


async def test_a_stream_cut_before_its_end_marker_is_incomplete_with_the_partial_text(
    backend: Backend, servers: dict[str, HostileServer], isolated_ledger: Ledger
) -> None:
    provider = _provider(backend, servers[CUT_SHORT.name])

    error, shown = await asyncio.wait_for(_failure(provider, streaming=True), 30)

    assert isinstance(error, IncompleteResponseError), repr(error)
    assert shown == "".join(PARTIAL_TEXT)
    assert error.partial_response.content == "".join(PARTIAL_TEXT)
    assert servers[CUT_SHORT.name].requests == 1  # text was shown: not retried
    [record] = isolated_ledger.records()
    assert (record.status, record.error_type) == ("error", "IncompleteResponseError")
    await provider.aclose()


async def test_a_non_streamed_answer_cut_mid_json_is_incomplete_not_an_answer(
    backend: Backend, servers: dict[str, HostileServer], isolated_ledger: Ledger
) -> None:
    provider = _provider(backend, servers[CUT_SHORT.name])

    error, _ = await asyncio.wait_for(_failure(provider, streaming=False), 30)

    assert isinstance(error, IncompleteResponseError), repr(error)
    assert servers[CUT_SHORT.name].requests == 3  # a broken connection: retried, then reported
    assert {(r.status, r.error_type) for r in isolated_ledger.records()} == {
        ("error", "IncompleteResponseError")
    }
    await provider.aclose()


async def test_html_garbage_non_json_and_invalid_utf8_are_response_format_errors_naming_what_came(
    backend: Backend, servers: dict[str, HostileServer], isolated_ledger: Ledger
) -> None:
    names = [h.name for h in (*NOT_THE_API, KEY_ECHO_PAGE)]
    providers = {name: _provider(backend, servers[name]) for name in names}
    cases = [(name, streaming) for name in names for streaming in (False, True)]

    outcomes = await asyncio.wait_for(
        asyncio.gather(*(_failure(providers[name], streaming) for name, streaming in cases)), 60
    )

    for (name, streaming), (error, shown) in zip(cases, outcomes, strict=True):
        case = f"{name} {'stream' if streaming else 'complete'}: {error!r}"
        assert isinstance(error, ResponseFormatError), case
        assert isinstance(error, ProviderError) and shown == "", case
        text = str(error)
        assert "the server's answer is not the API's format" in text, case
        assert "\n" not in text and SECRET_KEY not in text, case
        assert "AttributeError" not in text and "unexpected" not in text, case
        if name == "html-page":  # named by its content type, and its start where readable
            assert "text/html" in text or "'<!DOCTYPE html><html><head><title>Sign" in text, case
    assert {name: servers[name].requests for name in names} == {name: 2 for name in names}
    records = isolated_ledger.records()
    assert len(records) == len(cases)
    assert {(r.status, r.error_type) for r in records} == {("error", "ResponseFormatError")}
    for provider in providers.values():
        await provider.aclose()
