"""The two providers' batch APIs through their SDKs (imported here, lazily, never at import).

Each function takes the job's ``Endpoint`` (its API, ``base_url`` and key), so a fresh kernel
can talk to a job it did not submit. Results come back as ``custom_id -> RowResult`` whatever
order the provider sends. An SDK failure becomes the same typed, scrubbed ``ProviderError`` a
call gets (``AuthenticationError`` for a wrong key, ``ProviderConnectionError``...).
"""

from __future__ import annotations

import importlib
import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from orchestify_nb.batch.jobs.endpoint import KEY_VARIABLES, Endpoint
from orchestify_nb.errors import ProviderError, redact
from orchestify_nb.providers._sdk_errors import map_client_sdk_error
from orchestify_nb.providers.forced_answer import ANSWER_TOOL


@dataclass(frozen=True, slots=True)
class RowResult:
    """One request's outcome: ``status`` is succeeded, errored, expired or canceled."""

    status: str
    text: str | None = None
    error: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0


@dataclass(frozen=True, slots=True)
class Progress:
    ended: bool
    done: int
    total: int
    state: str


def _client(endpoint: Endpoint) -> Any:
    sdk = importlib.import_module(endpoint.api)
    client_class = sdk.Anthropic if endpoint.api == "anthropic" else sdk.OpenAI
    return client_class(base_url=endpoint.base_url, api_key=endpoint.plain_key())


@contextmanager
def sdk_errors(endpoint: Endpoint) -> Iterator[None]:
    """Turn the SDK's exceptions into typed ``ProviderError``s, scrubbed of the key."""
    try:
        yield
    except ProviderError:
        raise
    except Exception as error:
        mapped = map_client_sdk_error(
            importlib.import_module(endpoint.api),
            error,
            auth_hint=f"Check the key (api_key: in the config, or {KEY_VARIABLES[endpoint.api]})",
            secrets=endpoint.secrets(),
        )
        if mapped is None:
            raise
        mapped.message = redact(mapped.message, endpoint.secrets())
        mapped.args = (redact(mapped._compose(), endpoint.secrets()),)
        raise mapped from None


def create(endpoint: Endpoint, requests: list[tuple[str, dict[str, Any]]]) -> str:
    """Submit one provider job; returns the provider's job id."""
    with sdk_errors(endpoint):
        return _create(endpoint, requests)


def _create(endpoint: Endpoint, requests: list[tuple[str, dict[str, Any]]]) -> str:
    client = _client(endpoint)
    if endpoint.api == "anthropic":
        items = [{"custom_id": cid, "params": body} for cid, body in requests]
        return str(client.messages.batches.create(requests=items).id)
    lines = "".join(
        json.dumps(
            {"custom_id": cid, "method": "POST", "url": "/v1/chat/completions", "body": body}
        )
        + "\n"
        for cid, body in requests
    )
    upload = client.files.create(file=("batch.jsonl", io.BytesIO(lines.encode())), purpose="batch")
    job = client.batches.create(
        input_file_id=upload.id, endpoint="/v1/chat/completions", completion_window="24h"
    )
    return str(job.id)


def progress(endpoint: Endpoint, job_id: str) -> Progress:
    with sdk_errors(endpoint):
        return _progress(endpoint, job_id)


def _progress(endpoint: Endpoint, job_id: str) -> Progress:
    client = _client(endpoint)
    if endpoint.api == "anthropic":
        batch = client.messages.batches.retrieve(job_id)
        counts = batch.request_counts
        total = counts.processing + counts.succeeded + counts.errored + counts.canceled
        total += counts.expired
        state = str(batch.processing_status)
        return Progress(state == "ended", total - counts.processing, total, state)
    batch = client.batches.retrieve(job_id)
    counts = batch.request_counts
    done = (counts.completed + counts.failed) if counts else 0
    ended = batch.status in ("completed", "failed", "expired", "cancelled")
    return Progress(ended, done, counts.total if counts else 0, str(batch.status))


def cancel(endpoint: Endpoint, job_id: str) -> None:
    with sdk_errors(endpoint):
        client = _client(endpoint)
        if endpoint.api == "anthropic":
            client.messages.batches.cancel(job_id)
        else:
            client.batches.cancel(job_id)


def results(endpoint: Endpoint, job_id: str) -> dict[str, RowResult]:
    """Every request's outcome of an ended job."""
    with sdk_errors(endpoint):
        return _results(endpoint, job_id)


def _results(endpoint: Endpoint, job_id: str) -> dict[str, RowResult]:
    client = _client(endpoint)
    found: dict[str, RowResult] = {}
    if endpoint.api == "anthropic":
        # The SDK's decoder builds a pydantic object per line (~0.1 ms each, 10 s for 100,000
        # rows); its HTTP response read as plain JSON lines is the same data at ~10 µs a line.
        decoder = client.messages.batches.results(job_id)
        try:
            for line in decoder.http_response.iter_lines():
                if line:
                    item = json.loads(line)
                    found[item["custom_id"]] = _anthropic_result(item["result"])
        finally:
            decoder.close()
        return found
    batch = client.batches.retrieve(job_id)
    if batch.output_file_id:
        for line in client.files.content(batch.output_file_id).text.splitlines():
            item = json.loads(line)
            body = item["response"]["body"]
            usage = body.get("usage") or {}
            found[item["custom_id"]] = RowResult(
                "succeeded",
                body["choices"][0]["message"]["content"],
                None,
                int(usage.get("prompt_tokens", 0)),
                int(usage.get("completion_tokens", 0)),
            )
    if batch.error_file_id:
        for line in client.files.content(batch.error_file_id).text.splitlines():
            item = json.loads(line)
            found[item["custom_id"]] = _openai_failure(item)
    return found


def _anthropic_result(result: dict[str, Any]) -> RowResult:
    """One line's ``result`` of Anthropic's results JSONL (the API's documented shape)."""
    kind = str(result["type"])
    if kind == "succeeded":
        message = result["message"]
        text = "".join(b["text"] for b in message["content"] if b.get("type") == "text")
        for block in message["content"]:  # an older model's typed answer: the forced tool call
            if block.get("type") == "tool_use" and block.get("name") == ANSWER_TOOL and not text:
                text = json.dumps(block.get("input"))
        usage = message.get("usage") or {}
        return RowResult(
            "succeeded",
            text,
            None,
            int(usage.get("input_tokens", 0)),
            int(usage.get("output_tokens", 0)),
        )
    if kind == "errored":
        error = (result.get("error") or {}).get("error") or {}
        return RowResult("errored", error=str(error.get("message", "request failed")))
    return RowResult(kind, error=f"request {kind}")


def _openai_failure(item: dict[str, Any]) -> RowResult:
    error = item.get("error") or {}
    code = str(error.get("code", ""))
    if code == "batch_expired":
        return RowResult("expired", error=error.get("message"))
    if code == "batch_cancelled":
        return RowResult("canceled", error=error.get("message"))
    body = (item.get("response") or {}).get("body") or {}
    message = (body.get("error") or {}).get("message") or error.get("message") or "request failed"
    return RowResult("errored", error=str(message))
