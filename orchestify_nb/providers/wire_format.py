"""Telling an answer in the API's format from one that is not, for every backend in one place.

A wrong ``base_url``, a proxy's login page or a broken gateway answers with status 200 and
something else: an HTML page, garbage, a body that is not JSON, invalid UTF-8, a stream cut
before its end marker. The SDKs hand such answers back oddly (the openai and anthropic SDKs
return a ``str`` for a non-JSON body; LiteLLM wraps the decode error in its own exceptions, or
invents a ``finish_reason`` for a stream that never sent one). The providers and the base
class's error translation ask this module, so each of those becomes the same typed error:
``ResponseFormatError`` naming what came, or ``IncompleteResponseError``.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

from orchestify_nb.errors import IncompleteResponseError, ProviderError, ResponseFormatError

#: How much of a foreign answer an error message quotes.
SAMPLE_CHARS = 80
#: The largest non-streamed body read through a capped client (``cap_response_size``). A model's
#: longest answers are well under 2 MB of JSON; a bigger body is a wrong server, and reading and
#: quoting it stalls the event loop (LiteLLM scrubs a body it cannot parse with regexes, 10 MB
#: for 110 s).
MAX_RESPONSE_BYTES = 8 * 1024 * 1024
#: Where an error answer's body is cut: an API's error JSON is a few hundred bytes.
MAX_ERROR_BODY_BYTES = 64 * 1024

_HINT = (
    "Check base_url: it must point at the API itself (an OpenAI-compatible server's usually "
    "ends in /v1), not at a web page, a login page or a proxy's error page"
)

#: LiteLLM's wording for a 200 whose body it could not read, quoting the body.
_LITELLM_INVALID = re.compile(
    r"(?:Empty or invalid response from LLM endpoint\. Received: |Original Response: )'?(.*)",
    re.DOTALL,
)
_LITELLM_NO_FINISH = "Stream ended before a finish_reason was received"
_NOT_JSON = "a body that is not JSON"


def not_the_api(what: str, sample: str | bytes | None = None) -> ResponseFormatError:
    """The error for an answer that is not the API's: ``what`` came (a content type, or a
    description), quoted by its first ``SAMPLE_CHARS`` characters when known."""
    message = f"the server's answer is not the API's format: it sent {what}"
    if sample:
        text = sample.decode("utf-8", "replace") if isinstance(sample, bytes) else sample
        message += f" starting {text[:SAMPLE_CHARS]!r}"  # repr: one line, control chars escaped
    return ResponseFormatError(message, hint=_HINT)


def too_large() -> ResponseFormatError:
    """The error for a non-streamed body over ``MAX_RESPONSE_BYTES``."""
    return ResponseFormatError(
        f"the server's answer is larger than {MAX_RESPONSE_BYTES // 2**20} MiB, the cap for one "
        "non-streamed answer; it was not read",
        hint="Check base_url (no model answer is this large), or stream the answer",
    )


async def cap_response_size(response: Any) -> None:
    """An httpx response hook for a client that reads whole bodies (LiteLLM's): a body that
    is not an event stream stops at ``MAX_RESPONSE_BYTES``, an error body is cut to
    ``MAX_ERROR_BODY_BYTES``, and a 2xx body that is not JSON fails here, before the client
    parses it (and quotes it whole in its error)."""
    content_type = response.headers.get("content-type", "")
    if "event-stream" in content_type:
        return
    length = response.headers.get("content-length", "")
    if response.status_code >= 300:
        response.stream = _capped(response.stream, MAX_ERROR_BODY_BYTES, cut=True)
        return
    if length.isdigit() and int(length) > MAX_RESPONSE_BYTES:
        raise too_large()
    response.stream = _capped(response.stream, MAX_RESPONSE_BYTES, cut=False)
    body = await response.aread()
    try:
        json.loads(body)
    except ValueError as error:  # JSONDecodeError and UnicodeDecodeError alike
        found = decode_failure(error)
        if isinstance(found, IncompleteResponseError):
            raise found from None
        what = content_type.split(";")[0] or "no content type"
        raise not_the_api(f"{what} that is not JSON", body) from None


def _capped(stream: Any, limit: int, *, cut: bool) -> Any:
    """``stream`` ending at ``limit`` bytes: cut there (``cut``), else failing with
    ``too_large()``."""
    import httpx  # the HTTP package of the client the hook is on; loaded by then

    class CappedBody(httpx.AsyncByteStream):
        async def __aiter__(self) -> AsyncIterator[bytes]:
            read = 0
            async for chunk in stream:
                read += len(chunk)
                if read > limit:
                    if not cut:
                        raise too_large()
                    yield chunk[: len(chunk) - (read - limit)]
                    return
                yield chunk

        async def aclose(self) -> None:
            await stream.aclose()

    return CappedBody()


def ended_early(model: str | None = None) -> IncompleteResponseError:
    """The error for an answer that stopped before the API's end marker."""
    return IncompleteResponseError(
        "the answer ended before the API's end marker (the server or the connection broke off)",
        model=model,
        hint="Try again; the partial answer is kept on the error",
    )


def check_answer(answer: Any, field: str) -> None:
    """Raise ``ResponseFormatError`` unless ``answer`` (an SDK's parsed non-streamed answer)
    is an object with ``field`` set: the SDKs return a ``str`` for a body that is not JSON, and
    an object with ``None`` fields for JSON of another shape."""
    if isinstance(answer, str | bytes):
        raise not_the_api("an answer that is not JSON", answer)
    if getattr(answer, field, None) is None:
        dump = getattr(answer, "model_dump_json", None)
        raise not_the_api(f"JSON without {field!r}", dump() if dump is not None else repr(answer))


def stream_content_type(stream: Any) -> str | None:
    """The content type of an SDK stream's HTTP response (the SDKs' ``AsyncStream.response``;
    LiteLLM's wrapper keeps the backend's headers in ``_hidden_params``)."""
    response = getattr(stream, "response", None)
    if response is not None:
        return response.headers.get("content-type")  # type: ignore[no-any-return]
    hidden = getattr(stream, "_hidden_params", None) or {}
    headers = hidden.get("additional_headers") or {}
    return headers.get("llm_provider-content-type")


async def check_event_stream(stream: Any) -> str:
    """Raise ``ResponseFormatError`` if a stream's answer is not an event stream (an HTML page
    or JSON error body with status 200); returns the content type, for ``empty_stream``."""
    content_type = stream_content_type(stream)
    if content_type is None or "event-stream" in content_type:
        return content_type or "text/event-stream"
    response = getattr(stream, "response", None)
    sample = b""
    if response is not None:
        async for chunk in response.aiter_raw():
            sample += chunk
            if len(sample) >= SAMPLE_CHARS:
                break
    raise not_the_api(content_type.split(";")[0], sample)


def empty_stream(content_type: str) -> ResponseFormatError:
    """The error for an event stream that ended without a single event of the API."""
    return not_the_api(f"{content_type.split(';')[0]} holding no event of the API")


def api_finish_reason(stream: Any, finish_reason: str | None) -> str | None:
    """``finish_reason`` if the API sent it: LiteLLM's stream wrapper puts ``"stop"`` on its
    last chunk when the backend's stream ended without one, and records what it really got."""
    if not hasattr(stream, "received_finish_reason"):
        return finish_reason
    received = (
        stream.received_finish_reason
        or getattr(stream, "intermittent_finish_reason", None)
        or getattr(stream, "received_any_finish_reason", False)
    )
    return finish_reason if received else None


def decode_failure(error: BaseException) -> ProviderError | None:
    """The typed error for an SDK exception that says the answer could not be read (a JSON or
    UTF-8 decode error anywhere in its chain, LiteLLM's own wording for the same), else ``None``.
    """
    status = getattr(error, "status_code", None)
    if isinstance(status, int) and status not in (200, 500):  # LiteLLM files decode errors as 500
        return None
    links = list(_links(error))
    for link in links:  # the decode error itself, where the SDK kept it
        if isinstance(link, ResponseFormatError):  # ours, raised inside the HTTP client
            return link
        if isinstance(link, UnicodeDecodeError):
            return not_the_api("invalid UTF-8", link.object)
        if isinstance(link, json.JSONDecodeError):
            return ended_early() if _cut_short(link) else not_the_api(_NOT_JSON, link.doc)
    for link in links:  # else LiteLLM's words for it
        text = str(link)
        if _LITELLM_NO_FINISH in text:
            return ended_early()
        found = _LITELLM_INVALID.search(text)
        if found:
            return not_the_api(_NOT_JSON, found.group(1))
    return None


def _cut_short(error: json.JSONDecodeError) -> bool:
    """Whether JSON that began as an object stopped mid-way (rather than being something else)."""
    doc = error.doc.strip()
    return doc.startswith("{") and (error.msg.startswith("Unterminated") or error.pos >= len(doc))


def _links(error: BaseException) -> Iterator[BaseException]:
    """``error`` and what it was raised from or wraps (LiteLLM's ``original_exception``)."""
    seen: set[int] = set()
    pending: list[BaseException] = [error]
    while pending:
        link = pending.pop()
        if id(link) in seen:
            continue
        seen.add(id(link))
        yield link
        for nested in (
            getattr(link, "original_exception", None),
            link.__context__,
            link.__cause__,
        ):
            if isinstance(nested, BaseException):
                pending.append(nested)
