"""The error table on the SDKs' own exception objects, for the cases the emulator cannot stage:
an error event inside a 200 stream, content-policy blocks, raw transport errors, headers."""

from __future__ import annotations

import anthropic
import httpx
import httpx2
import openai
import pytest

from orchestify_nb.errors import (
    BadRequestError,
    ContentFilterError,
    OverloadedError,
    ProviderConnectionError,
    ProviderError,
    ProviderTimeoutError,
    RateLimitError,
)
from orchestify_nb.providers._sdk_errors import map_sdk_error
from orchestify_nb.providers.litellm_provider import import_litellm


def map_openai(error: BaseException) -> ProviderError | None:
    return map_sdk_error(
        error,
        status_error=openai.APIStatusError,
        connection_error=openai.APIConnectionError,
        timeout_error=openai.APITimeoutError,
        auth_hint="Check the key.",
    )


def map_anthropic(error: BaseException) -> ProviderError | None:
    return map_sdk_error(
        error,
        status_error=anthropic.APIStatusError,
        connection_error=anthropic.APIConnectionError,
        timeout_error=anthropic.APITimeoutError,
        auth_hint="Check the key.",
    )


def response(status: int, headers: dict[str, str] | None = None) -> httpx2.Response:
    request = httpx2.Request("POST", "http://127.0.0.1/v1/chat/completions")
    return httpx2.Response(status, headers=headers or {}, request=request)


def test_an_overloaded_event_inside_a_200_stream_is_a_retryable_overload() -> None:
    body = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    error = anthropic.APIStatusError(str(body), response=response(200), body=body)

    mapped = map_anthropic(error)

    assert isinstance(mapped, OverloadedError)
    assert mapped.retryable
    assert "Overloaded" in mapped.message


def test_a_content_policy_400_is_a_content_filter_error_not_a_bad_request() -> None:
    body = {"error": {"code": "content_policy_violation", "message": "Blocked by policy."}}
    error = openai.BadRequestError("Error code: 400", response=response(400), body=body)

    mapped = map_openai(error)

    assert type(mapped) is ContentFilterError
    assert "Blocked by policy." in mapped.message
    assert not mapped.retryable


def test_litellm_content_policy_violation_is_a_content_filter_error() -> None:
    litellm = import_litellm()  # configured: offline cost map, quiet
    error = litellm.ContentPolicyViolationError(
        "Output blocked.", model="gpt-4o", llm_provider="openai"
    )

    assert type(map_openai(error)) is ContentFilterError


def test_a_plain_400_is_a_bad_request_with_the_apis_own_message() -> None:
    body = {"error": {"message": "max_tokens is too large", "type": "invalid_request_error"}}
    error = openai.BadRequestError("Error code: 400 - {...}", response=response(400), body=body)

    mapped = map_openai(error)

    assert type(mapped) is BadRequestError
    assert mapped.message == "the API rejected the request: max_tokens is too large"
    assert mapped.status_code == 400


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [({"retry-after": "3"}, 3.0), ({"retry-after-ms": "1500"}, 1.5), ({}, None)],
)
def test_retry_after_comes_from_the_response_headers(
    headers: dict[str, str], seconds: float | None
) -> None:
    error = openai.RateLimitError("Error code: 429", response=response(429, headers), body=None)

    mapped = map_openai(error)

    assert isinstance(mapped, RateLimitError)
    assert mapped.retry_after == seconds


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (httpx2.RemoteProtocolError("peer closed connection"), ProviderConnectionError),
        (httpx2.ReadError("connection reset"), ProviderConnectionError),
        (httpx.RemoteProtocolError("incomplete chunked read"), ProviderConnectionError),
        (httpx2.ReadTimeout("read timed out"), ProviderTimeoutError),
        (httpx.ConnectTimeout("connect timed out"), ProviderTimeoutError),
    ],
    ids=["httpx2-protocol", "httpx2-read", "httpx-protocol", "httpx2-timeout", "httpx-timeout"],
)
def test_a_raw_transport_error_mid_stream_is_a_connection_or_timeout_error(
    error: Exception, expected: type[ProviderError]
) -> None:
    assert type(map_anthropic(error)) is expected


def test_a_transport_error_wrapped_by_another_exception_is_still_found() -> None:
    try:
        try:
            raise httpx2.RemoteProtocolError("peer closed connection")
        except httpx2.RemoteProtocolError as cause:
            raise RuntimeError("stream failed") from cause
    except RuntimeError as wrapped:
        assert type(map_openai(wrapped)) is ProviderConnectionError


def test_an_exception_that_is_not_the_sdks_is_left_to_the_caller() -> None:
    assert map_openai(ValueError("a bug in our code")) is None
