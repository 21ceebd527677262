"""The OpenAI Chat Completions wire format: JSON completion, SSE chunks, errors and model list.

A stream is ``chat.completion.chunk`` objects sent as ``data:`` lines and ended by
``data: [DONE]``: a role chunk, content (and tool-call) deltas, a chunk carrying
``finish_reason``, and, with ``stream_options.include_usage``, a last chunk with empty
``choices`` and the usage. Thinking is not sent as text by this API: it shows as
``completion_tokens_details.reasoning_tokens``, plus ``reasoning_content`` deltas/fields that
litellm and vLLM-style servers use (the ``openai`` SDK keeps them as extra fields).
"""

from __future__ import annotations

import json
import time
from typing import Any

from orchestify_nb.testing.media import openai_media_problem
from orchestify_nb.testing.replies import ResolvedReply, arguments_json, new_id
from orchestify_nb.testing.script import FaultKind

MODELS = (
    "gpt-4o",
    "gpt-4o-mini",
    "gpt-4.1",
    "gpt-4.1-mini",
    "gpt-5",
    "gpt-5-mini",
    "o3",
    "o4-mini",
)
_ROLES = ("system", "developer", "user", "assistant", "tool", "function")
_FAULTS: dict[str, tuple[int, str, str | None, str]] = {
    "rate_limit": (429, "requests", "rate_limit_exceeded", "Rate limit reached (emulated)."),
    "server_error": (
        500,
        "server_error",
        None,
        "The server had an error while processing your request. Sorry about that!",
    ),
    "overloaded": (
        503,
        "server_error",
        None,
        "The engine is currently overloaded, please try again later",
    ),
    "unauthorized": (
        401,
        "invalid_request_error",
        "invalid_api_key",
        "Incorrect API key provided. You can find your API key at "
        "https://platform.openai.com/account/api-keys.",
    ),
}
_FINGERPRINT = "fp_emulator"
SSEChunk = tuple[float, bytes]


def validate(body: dict[str, Any]) -> str | None:
    """The real API's most common 400s, so a provider bug fails here as it would in production."""
    for key in ("model", "messages"):
        if key not in body:
            return f"Missing required parameter: '{key}'."
    messages = body["messages"]
    if not isinstance(messages, list) or not messages:
        return "Invalid 'messages': empty array. Expected an array with minimum length 1."
    for index, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") not in _ROLES:
            return f"Invalid value for 'messages[{index}].role'."
    return openai_media_problem(body)


def _usage(reply: ResolvedReply) -> dict[str, Any]:
    prompt_details = {"cached_tokens": reply.cache_read_tokens, "audio_tokens": 0}
    if reply.cache_write_tokens:  # only some OpenAI-compatible servers report cache writes
        prompt_details["cache_write_tokens"] = reply.cache_write_tokens
    return {
        "prompt_tokens": reply.input_tokens,
        "completion_tokens": reply.output_tokens,
        "total_tokens": reply.input_tokens + reply.output_tokens,
        "prompt_tokens_details": prompt_details,
        "completion_tokens_details": {
            "reasoning_tokens": reply.reasoning_tokens,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def _tool_call(call_id: str, name: str, arguments: str) -> dict[str, Any]:
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


def response_body(reply: ResolvedReply) -> dict[str, Any]:
    """The complete (non-streaming) response body."""
    message: dict[str, Any] = {
        "role": "assistant",
        "content": reply.text if reply.text or not reply.tool_calls else None,
        "refusal": None,
        "annotations": [],
    }
    if reply.tool_calls:
        message["tool_calls"] = [
            _tool_call(call.id, call.name, arguments_json(call)) for call in reply.tool_calls
        ]
    if reply.thinking:
        message["reasoning_content"] = reply.thinking
    return {
        "id": new_id("chatcmpl-"),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": reply.model,
        "choices": [
            {"index": 0, "message": message, "logprobs": None, "finish_reason": reply.stop_reason}
        ],
        "usage": _usage(reply),
        "system_fingerprint": _FINGERPRINT,
        "service_tier": "default",
    }


def stream(reply: ResolvedReply, *, include_usage: bool) -> list[SSEChunk]:
    """The SSE chunks of a streamed response, each with the delay before it is sent."""
    envelope: dict[str, Any] = {
        "id": new_id("chatcmpl-"),
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": reply.model,
        "system_fingerprint": _FINGERPRINT,
        "service_tier": "default",
    }
    if include_usage:
        envelope["usage"] = None

    def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> bytes:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
        return b"data: " + json.dumps({**envelope, "choices": [choice]}).encode() + b"\n\n"

    deltas: list[dict[str, Any]] = [
        {"reasoning_content": piece} for piece in reply.pieces(reply.thinking)
    ]
    deltas += [{"content": piece} for piece in reply.pieces(reply.text)]
    for index, call in enumerate(reply.tool_calls):
        deltas.append({"tool_calls": [{"index": index, **_tool_call(call.id, call.name, "")}]})
        deltas += [
            {"tool_calls": [{"index": index, "function": {"arguments": piece}}]}
            for piece in reply.pieces(arguments_json(call))
        ]
    role = {"role": "assistant", "content": "", "refusal": None}
    chunks: list[SSEChunk] = [(0.0, chunk(role))]
    for position, delta in enumerate(deltas):
        delay = reply.first_token_delay_s if position == 0 else reply.chunk_delay_s
        chunks.append((delay, chunk(delta)))
    chunks.append((0.0, chunk({}, reply.stop_reason)))
    if include_usage:
        final = {**envelope, "choices": [], "usage": _usage(reply)}
        chunks.append((0.0, b"data: " + json.dumps(final).encode() + b"\n\n"))
    chunks.append((0.0, b"data: [DONE]\n\n"))
    return chunks


def error(kind: FaultKind, status: int | None, text: str | None) -> tuple[int, dict[str, Any]]:
    """The status and body of a scripted fault (``http_error`` gives its own status)."""
    code = status or 400
    default = (code, "server_error" if code >= 500 else "invalid_request_error", None, "Error")
    code, error_type, error_code, message = _FAULTS.get(kind, default)
    return code, {
        "error": {"message": text or message, "type": error_type, "param": None, "code": error_code}
    }


def _model_info(model_id: str) -> dict[str, Any]:
    return {"id": model_id, "object": "model", "created": 1_715_367_049, "owned_by": "openai"}


def models_page() -> dict[str, Any]:
    return {"object": "list", "data": [_model_info(model_id) for model_id in MODELS]}


def model_info(model_id: str) -> dict[str, Any] | None:
    return _model_info(model_id) if model_id in MODELS else None
