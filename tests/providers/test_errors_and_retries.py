"""Failures, as each SDK raises them over real HTTP, become our typed errors: retried when
another attempt can succeed, never retried for client errors, recorded in the ledger, and never
carrying the API key in any text a user could see."""

from __future__ import annotations

import traceback
from collections.abc import Callable

import pytest

from orchestify_nb.errors import (
    AuthenticationError,
    BadRequestError,
    OverloadedError,
    ProviderError,
    ProviderTimeoutError,
    RateLimitError,
)
from orchestify_nb.providers.base import LLMProvider
from orchestify_nb.testing import Fault, LLMEmulator, Reply
from orchestify_nb.usage.ledger import Ledger
from tests.providers.conftest import SECRET_KEY


async def test_rate_limit_with_retry_after_is_retried_and_succeeds(
    provider: LLMProvider, llm_emulator: LLMEmulator, isolated_ledger: Ledger
) -> None:
    llm_emulator.enqueue(Fault.rate_limit(retry_after=1), Reply(text="Second time lucky."))

    response = await provider.complete("hi")

    assert response.content == "Second time lucky."
    assert len(llm_emulator.requests) == 2
    assert [record.status for record in isolated_ledger.records()] == ["ok"]


async def test_rate_limit_error_carries_the_servers_retry_after(
    make_provider: Callable[..., LLMProvider], llm_emulator: LLMEmulator
) -> None:
    provider = make_provider(max_retries=0)
    llm_emulator.enqueue(Fault.rate_limit(retry_after=7))

    with pytest.raises(RateLimitError) as caught:
        await provider.complete("hi")

    assert caught.value.retry_after == 7.0
    assert caught.value.status_code == 429
    assert len(llm_emulator.requests) == 1


@pytest.mark.parametrize("fault", [Fault.server_error(), Fault.overloaded()], ids=["500", "529"])
async def test_server_errors_and_overload_are_retried_and_succeed(
    provider: LLMProvider, llm_emulator: LLMEmulator, fault: Fault
) -> None:
    llm_emulator.enqueue(fault, Reply(text="Recovered."))

    events = [event async for event in provider.stream("hi")]

    assert events[-1].response is not None
    assert events[-1].response.content == "Recovered."
    assert len(llm_emulator.requests) == 2


async def test_overload_after_retries_are_exhausted_raises_overloaded_error(
    make_provider: Callable[..., LLMProvider], llm_emulator: LLMEmulator, isolated_ledger: Ledger
) -> None:
    provider = make_provider(max_retries=0)
    llm_emulator.enqueue(Fault.overloaded())

    with pytest.raises(OverloadedError, match="overloaded"):
        await provider.complete("hi")

    [record] = isolated_ledger.records()
    assert (record.status, record.error_type) == ("error", "OverloadedError")


@pytest.mark.parametrize(
    ("status", "expected"),
    [(400, BadRequestError), (404, BadRequestError), (422, BadRequestError)],
)
async def test_client_errors_are_raised_at_once_and_not_retried(
    provider: LLMProvider,
    llm_emulator: LLMEmulator,
    isolated_ledger: Ledger,
    status: int,
    expected: type[ProviderError],
) -> None:
    llm_emulator.enqueue(Fault.http_error(status, "This request is malformed (emulated)."))

    with pytest.raises(expected, match="malformed") as caught:
        await provider.complete("hi")

    assert caught.value.status_code == status
    assert len(llm_emulator.requests) == 1
    [record] = isolated_ledger.records()
    assert record.status == "error"


def every_text_of(error: BaseException) -> str:
    """All a user could see of an error: str, repr, the formatted traceback with its causes."""
    return "\n".join(
        [str(error), repr(error), "".join(traceback.format_exception(error)), str(error.args)]
    )


async def test_unauthorized_raises_authentication_error_that_never_shows_the_key(
    provider: LLMProvider,
    llm_emulator: LLMEmulator,
    isolated_ledger: Ledger,
    caplog: pytest.LogCaptureFixture,
) -> None:
    llm_emulator.enqueue(Fault.unauthorized())

    with pytest.raises(AuthenticationError) as caught:
        await provider.complete("hi")

    assert len(llm_emulator.requests) == 1  # never retried
    assert caught.value.status_code == 401
    text = every_text_of(caught.value)
    assert "api_key" in text  # the hint names what to fix ...
    assert SECRET_KEY not in text  # ... but never the key itself
    assert "SECRETSECRET" not in text
    assert SECRET_KEY not in repr(provider)
    assert SECRET_KEY not in caplog.text
    [record] = isolated_ledger.records()
    assert record.error_type == "AuthenticationError"
    assert SECRET_KEY not in repr(record)


async def test_a_key_echoed_by_the_server_is_scrubbed_from_the_error(
    make_provider: Callable[..., LLMProvider], llm_emulator: LLMEmulator
) -> None:
    provider = make_provider(max_retries=0)
    llm_emulator.enqueue(Fault.http_error(403, f"Key {SECRET_KEY} may not use this model."))

    with pytest.raises(AuthenticationError) as caught:
        await provider.complete("hi")

    text = every_text_of(caught.value)  # the traceback includes the chained SDK exception
    assert "may not use this model" in text
    assert SECRET_KEY not in text


async def test_a_slow_server_raises_provider_timeout_error(
    make_provider: Callable[..., LLMProvider], llm_emulator: LLMEmulator
) -> None:
    provider = make_provider(timeout=0.3, max_retries=0)
    llm_emulator.enqueue(Reply(text="Too late.", first_token_delay_s=3.0))

    with pytest.raises(ProviderTimeoutError):
        await provider.complete("hi")


async def test_a_client_error_in_a_stream_shows_the_apis_own_message(
    provider: LLMProvider, llm_emulator: LLMEmulator
) -> None:
    llm_emulator.enqueue(Fault.http_error(400, "max_tokens is too large (emulated)."))

    with pytest.raises(BadRequestError) as caught:
        async for _event in provider.stream("hi"):
            pass

    assert "max_tokens is too large (emulated)." in str(caught.value)
    assert "b'" not in str(caught.value) and '"type"' not in str(caught.value)
