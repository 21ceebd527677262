"""Extra HTTP headers (``headers=``, e.g. a gateway's key): sent with every request by every
backend, added to by a per-call ``extra_headers=``, and held as secrets like the API key."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable

import pytest
from pydantic import SecretStr

from orchestify_nb.errors import AuthenticationError
from orchestify_nb.providers.base import LLMProvider
from orchestify_nb.testing import Fault, LLMEmulator, Reply
from orchestify_nb.usage.ledger import Ledger
from tests.security.conftest import SDK_LOGGERS

#: Distinctive, so a test can prove it never shows up anywhere but on the wire.
GATEWAY_KEY = "hel-GATEWAYSECRET-4242"


def sent_headers(emulator: LLMEmulator) -> list[dict[str, str]]:
    return [{k.lower(): v for k, v in r.headers.items()} for r in emulator.requests]


async def test_configured_headers_reach_the_api_with_every_request(
    make_provider: Callable[..., LLMProvider], llm_emulator: LLMEmulator
) -> None:
    provider = make_provider(
        headers={
            "X-Gateway-Team": "research",
            "Helicone-Auth": SecretStr(GATEWAY_KEY),  # a name the emulator's log does not mask
            "api-key": SecretStr(GATEWAY_KEY),  # Azure's key header: the log masks it
        }
    )
    llm_emulator.enqueue(Reply(text="one"), Reply(text="two"))

    await provider.complete("hi")
    [event async for event in provider.stream("hi again")]

    headers = sent_headers(llm_emulator)
    assert len(headers) == 2
    for sent in headers:
        assert sent["x-gateway-team"] == "research"
        assert sent["helicone-auth"] == GATEWAY_KEY  # the plain value, not SecretStr's stars
        assert sent["api-key"] == "***"
    assert all("extra_headers" not in request.body for request in llm_emulator.requests)


async def test_a_per_call_extra_headers_option_adds_to_the_configured_headers(
    make_provider: Callable[..., LLMProvider], llm_emulator: LLMEmulator
) -> None:
    provider = make_provider(headers={"X-Gateway-Team": "research", "X-Gateway-Trace": "run-1"})

    await provider.complete("hi", extra_headers={"X-Gateway-Trace": "run-2", "X-Extra": "yes"})

    [sent] = sent_headers(llm_emulator)
    assert sent["x-gateway-team"] == "research"
    assert sent["x-gateway-trace"] == "run-2"  # the call's own value wins
    assert sent["x-extra"] == "yes"


async def test_a_header_value_never_shows_in_errors_reprs_logs_or_the_ledger(
    make_provider: Callable[..., LLMProvider],
    llm_emulator: LLMEmulator,
    isolated_ledger: Ledger,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="orchestify_nb")
    provider = make_provider(headers={"Helicone-Auth": GATEWAY_KEY}, max_retries=0)
    llm_emulator.enqueue(Fault.http_error(403, f"Header {GATEWAY_KEY} may not use this model."))

    with pytest.raises(AuthenticationError) as caught:
        await provider.complete("hi")

    error = caught.value
    text = "\n".join([str(error), repr(error), "".join(traceback.format_exception(error))])
    assert "may not use this model" in text  # the server's message is kept ...
    assert GATEWAY_KEY not in text  # ... without the header value, chained SDK error included
    assert GATEWAY_KEY not in repr(provider)
    assert GATEWAY_KEY not in caplog.text
    [record] = isolated_ledger.records()
    assert GATEWAY_KEY not in repr(record)
    assert sent_headers(llm_emulator)[0]["helicone-auth"] == GATEWAY_KEY  # yet it was sent


async def test_a_header_value_stays_out_of_the_sdk_logs_even_at_debug(
    make_provider: Callable[..., LLMProvider],
    llm_emulator: LLMEmulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """LiteLLM's DEBUG request dump prints headers it does not know as sent; the provider
    scrubs its secrets from LiteLLM's log lines."""
    provider = make_provider(headers={"Helicone-Auth": GATEWAY_KEY})
    await provider.complete("warm up")  # LiteLLM sets its loggers' levels on first use
    for name in ("orchestify_nb", *SDK_LOGGERS):
        caplog.set_level(logging.DEBUG, logger=name)

    await provider.complete("hi")
    [event async for event in provider.stream("hi again")]

    assert caplog.records  # the SDKs did log at DEBUG ...
    assert GATEWAY_KEY not in caplog.text  # ... without the header value
    assert sent_headers(llm_emulator)[-1]["helicone-auth"] == GATEWAY_KEY
