"""The Anthropic Messages API wire format: JSON message, SSE stream, errors and model list.

Shapes follow https://docs.anthropic.com/en/api/messages and .../messages-streaming: a stream is
``message_start`` (with prompt usage incl. cache tokens), one ``content_block_start`` /
``content_block_delta``* / ``content_block_stop`` group per thinking, text or tool_use block,
``message_delta`` (stop reason and cumulative usage) and ``message_stop``.

Thinking blocks are signed with an HMAC of their text, and the signed blocks an assistant turn
sends back are checked as the real API checks them, so a provider that drops or alters them in a
tool loop with thinking gets the API's 400 here too.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from typing import Any

from orchestify_nb.testing.media import anthropic_media_problem
from orchestify_nb.testing.prompt_cache import breakpoint_problem
from orchestify_nb.testing.replies import ResolvedReply, arguments_json, new_id
from orchestify_nb.testing.script import FaultKind

MODELS = (
    ("claude-opus-4-6", "Claude Opus 4.6"),
    ("claude-sonnet-4-6", "Claude Sonnet 4.6"),
    ("claude-opus-4-5", "Claude Opus 4.5"),
    ("claude-sonnet-4-5", "Claude Sonnet 4.5"),
    ("claude-haiku-4-5", "Claude Haiku 4.5"),
)
_STOP_REASONS = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "content_filter": "refusal",
}
_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    422: "invalid_request_error",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}
_FAULTS: dict[str, tuple[int, str]] = {
    "rate_limit": (429, "Number of requests has exceeded your rate limit (emulated)."),
    "server_error": (500, "Internal server error"),
    "overloaded": (529, "Overloaded"),
    "unauthorized": (401, "invalid x-api-key"),
}
SSEChunk = tuple[float, bytes]
_THINKING_BLOCKS = ("thinking", "redacted_thinking")
#: Signs this process's thinking blocks, so replayed ones can be checked like the real API does.
_SIGNING_KEY = secrets.token_bytes(32)


def validate(body: dict[str, Any]) -> str | None:
    """The real API's most common 400s, so a provider bug fails here as it would in production."""
    for key in ("model", "max_tokens", "messages"):
        if key not in body:
            return f"{key}: Field required"
    messages = body["messages"]
    if not isinstance(messages, list) or not messages:
        return "messages: at least one message is required"
    for index, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") not in ("user", "assistant"):
            return (
                f"messages.{index}.role: Input should be 'user' or 'assistant' "
                "(system prompts go in the top-level `system` parameter)"
            )
    return (
        _replayed_thinking_problem(body, messages)
        or anthropic_media_problem(body)
        or breakpoint_problem(body)
    )


def sign_thinking(thinking: str) -> str:
    """The signature of a thinking block: an HMAC of its text with this process's key."""
    digest = hmac.new(_SIGNING_KEY, thinking.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def _replayed_thinking_problem(body: dict[str, Any], messages: list[Any]) -> str | None:
    """The API's checks on thinking sent back in assistant turns: each ``thinking`` block must
    carry the signature issued for its exact text, and with thinking enabled an assistant turn
    that called tools (the last one, whose results follow) must start with its thinking."""
    last_assistant: tuple[int, list[Any]] | None = None
    for index, message in enumerate(messages):
        content = message.get("content")
        if message["role"] != "assistant" or not isinstance(content, list):
            continue
        last_assistant = (index, content)
        for position, block in enumerate(content):
            if not isinstance(block, dict) or block.get("type") != "thinking":
                continue
            signature = block.get("signature")
            expected = sign_thinking(str(block.get("thinking", "")))
            if not isinstance(signature, str) or not hmac.compare_digest(signature, expected):
                where = f"messages.{index}.content.{position}"
                return f"{where}: Invalid `signature` in `thinking` block"
    thinking = body.get("thinking")
    if not isinstance(thinking, dict) or thinking.get("type") != "enabled" or not last_assistant:
        return None
    index, content = last_assistant
    types = [block.get("type") for block in content if isinstance(block, dict)]
    if "tool_use" not in types or types[0] in _THINKING_BLOCKS:
        return None
    return (
        f"messages.{index}.content.0.type: Expected `thinking` or `redacted_thinking`, but found "
        f"`{types[0]}`. When `thinking` is enabled, a final `assistant` message must start with a "
        "thinking block (preceeding the lastmost set of `tool_use` and `tool_result` blocks). We "
        "recommend you include thinking blocks from previous turns. To avoid this requirement, "
        "disable `thinking`."
    )


def _usage(reply: ResolvedReply, output_tokens: int, thinking_tokens: int) -> dict[str, Any]:
    """Usage so far: ``output_tokens`` and the ``thinking_tokens`` among them (reported, as
    ``output_tokens_details``, only by a reply that reasons)."""
    details = {"output_tokens_details": {"thinking_tokens": thinking_tokens}}
    return {
        "input_tokens": reply.uncached_input_tokens,
        "cache_creation_input_tokens": reply.cache_write_tokens,
        "cache_read_input_tokens": reply.cache_read_tokens,
        "cache_creation": {
            "ephemeral_5m_input_tokens": reply.cache_write_tokens,
            "ephemeral_1h_input_tokens": 0,
        },
        "output_tokens": output_tokens,
        **(details if reply.reasoning_tokens else {}),
        "service_tier": "standard",
    }


def _blocks(reply: ResolvedReply) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    if reply.thinking:
        signature = sign_thinking(reply.thinking)
        blocks.append({"type": "thinking", "thinking": reply.thinking, "signature": signature})
    if reply.redacted_thinking:
        blocks.append({"type": "redacted_thinking", "data": reply.redacted_thinking})
    if reply.text or not reply.tool_calls:
        blocks.append({"type": "text", "text": reply.text})
    blocks += [
        {"type": "tool_use", "id": call.id, "name": call.name, "input": call.arguments}
        for call in reply.tool_calls
    ]
    return blocks


def response_body(reply: ResolvedReply) -> dict[str, Any]:
    """The complete (non-streaming) response body."""
    return {
        "id": new_id("msg_"),
        "type": "message",
        "role": "assistant",
        "model": reply.model,
        "content": _blocks(reply),
        "stop_reason": _STOP_REASONS[reply.stop_reason],
        "stop_sequence": None,
        "usage": _usage(reply, reply.output_tokens, reply.reasoning_tokens),
    }


def _event(data: dict[str, Any]) -> bytes:
    return f"event: {data['type']}\ndata: {json.dumps(data)}\n\n".encode()


def _block_events(index: int, start: dict[str, Any], deltas: list[dict[str, Any]]) -> list[bytes]:
    events = [_event({"type": "content_block_start", "index": index, "content_block": start})]
    events += [_event({"type": "content_block_delta", "index": index, "delta": d}) for d in deltas]
    events.append(_event({"type": "content_block_stop", "index": index}))
    return events


def stream(reply: ResolvedReply) -> list[SSEChunk]:
    """The SSE events of a streamed response, each with the delay before it is sent."""
    start = {**response_body(reply), "content": [], "stop_reason": None}
    start["usage"] = _usage(reply, 1, 0)  # nothing generated yet
    chunks: list[SSEChunk] = [(0.0, _event({"type": "message_start", "message": start}))]
    chunks.append((0.0, _event({"type": "ping"})))
    groups: list[tuple[dict[str, Any], list[dict[str, Any]]]] = []
    if reply.thinking:
        deltas = [{"type": "thinking_delta", "thinking": p} for p in reply.pieces(reply.thinking)]
        deltas.append({"type": "signature_delta", "signature": sign_thinking(reply.thinking)})
        groups.append(({"type": "thinking", "thinking": "", "signature": ""}, deltas))
    if reply.redacted_thinking:
        groups.append(({"type": "redacted_thinking", "data": reply.redacted_thinking}, []))
    if reply.text or not reply.tool_calls:
        deltas = [{"type": "text_delta", "text": piece} for piece in reply.pieces(reply.text)]
        groups.append(({"type": "text", "text": ""}, deltas))
    for call in reply.tool_calls:
        pieces = reply.pieces(arguments_json(call))
        deltas = [{"type": "input_json_delta", "partial_json": piece} for piece in pieces]
        groups.append(({"type": "tool_use", "id": call.id, "name": call.name, "input": {}}, deltas))
    first_delta = True
    for index, (block_start, deltas) in enumerate(groups):
        for event in _block_events(index, block_start, deltas):
            delay = 0.0
            if event.startswith(b"event: content_block_delta"):
                delay = reply.first_token_delay_s if first_delta else reply.chunk_delay_s
                first_delta = False
            chunks.append((delay, event))
    final = {"stop_reason": _STOP_REASONS[reply.stop_reason], "stop_sequence": None}
    usage = _usage(reply, reply.output_tokens, reply.reasoning_tokens)
    del usage["cache_creation"], usage["service_tier"]
    chunks.append((0.0, _event({"type": "message_delta", "delta": final, "usage": usage})))
    chunks.append((0.0, _event({"type": "message_stop"})))
    return chunks


def error(kind: FaultKind, status: int | None, text: str | None) -> tuple[int, dict[str, Any]]:
    """The status and body of a scripted fault (``http_error`` gives its own status)."""
    default_status, default_text = _FAULTS.get(kind, (status or 400, "Bad request"))
    code = status or default_status
    return code, {
        "type": "error",
        "error": {"type": _error_type(code), "message": text or default_text},
        "request_id": new_id("req_"),
    }


def _error_type(status: int) -> str:
    """The API's error ``type`` for a status; an unlisted client error is an invalid request."""
    return _ERROR_TYPES.get(status, "invalid_request_error" if status < 500 else "api_error")


def _model_info(model_id: str, display_name: str) -> dict[str, Any]:
    return {
        "type": "model",
        "id": model_id,
        "display_name": display_name,
        "created_at": time.strftime("%Y-%m-%dT00:00:00Z", time.gmtime(1_758_000_000)),
    }


def models_page() -> dict[str, Any]:
    data = [_model_info(model_id, name) for model_id, name in MODELS]
    return {"data": data, "has_more": False, "first_id": data[0]["id"], "last_id": data[-1]["id"]}


def model_info(model_id: str) -> dict[str, Any] | None:
    names = dict(MODELS)
    return _model_info(model_id, names[model_id]) if model_id in names else None
