"""Turn a scripted ``Reply`` into a concrete answer both API modules can serialise.

Everything left open in the ``Reply`` (token counts, model, stop reason, delays) is decided here
once, so the Anthropic and OpenAI wire formats describe exactly the same answer.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any

from orchestify_nb.providers.types import ToolCall
from orchestify_nb.testing.media import without_media
from orchestify_nb.testing.script import Reply, StopReason, approximate_tokens


@dataclass(frozen=True, slots=True)
class ReplyTiming:
    """The emulator-wide defaults a ``Reply`` falls back to."""

    chunk_delay_s: float = 0.0
    first_token_delay_s: float = 0.0


@dataclass(frozen=True, slots=True)
class ResolvedReply:
    """A reply with every number decided; token counts follow our convention (see ``script``)."""

    text: str
    thinking: str
    redacted_thinking: str
    tool_calls: tuple[ToolCall, ...]
    model: str
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    reasoning_tokens: int
    stop_reason: StopReason
    chunk_chars: int
    chunk_delay_s: float
    first_token_delay_s: float
    reports_usage: bool = True

    @property
    def uncached_input_tokens(self) -> int:
        return self.input_tokens - self.cache_read_tokens - self.cache_write_tokens

    def pieces(self, text: str) -> list[str]:
        """``text`` cut into the stream's deltas of ``chunk_chars`` characters."""
        size = self.chunk_chars
        return [text[start : start + size] for start in range(0, len(text), size)]

    def generation_time_s(self, chunk_count: int) -> float:
        """How long the answer takes to generate: what a non-streaming caller waits for."""
        return self.first_token_delay_s + self.chunk_delay_s * max(0, chunk_count - 1)


def _text_of(content: Any) -> str:
    """The text of a message's content: a string, or a list of (Anthropic or OpenAI) parts."""
    if isinstance(content, str):
        return content
    parts: list[str] = []
    for part in content or []:
        if isinstance(part, dict) and part.get("type") == "text":
            parts.append(str(part.get("text", "")))
        elif isinstance(part, dict) and part.get("type") == "tool_result":
            parts.append(_text_of(part.get("content", "")))
    return "".join(parts)


def last_user_text(body: dict[str, Any]) -> str:
    """The text of the request's last user turn: what the default reply echoes."""
    for message in reversed(body.get("messages") or []):
        if isinstance(message, dict) and message.get("role") == "user":
            return _text_of(message.get("content"))
    return ""


def prompt_tokens(body: dict[str, Any]) -> int:
    """An approximate prompt size (system, messages and tools), for either API's request;
    images and documents count as the API counts them, not as their base64 text."""
    text_only, media = without_media(body)
    parts = [text_only.get("system", ""), text_only.get("messages", []), body.get("tools", [])]
    return approximate_tokens(json.dumps(parts)) + media


def arguments_json(call: ToolCall) -> str:
    return json.dumps(call.arguments, separators=(",", ":"))


def new_id(prefix: str) -> str:
    return f"{prefix}{secrets.token_hex(12)}"


def resolve_reply(
    reply: Reply, *, requested_model: str, prompt_tokens: int, timing: ReplyTiming
) -> ResolvedReply:
    """Fill a ``Reply``'s open fields from the request and the emulator's defaults.

    ``Reply`` has already checked its explicit counts; approximations keep the same rules
    (input covers the cache, output covers reasoning).
    """
    cached = reply.cache_read_tokens + reply.cache_write_tokens
    input_tokens = reply.input_tokens if reply.input_tokens is not None else prompt_tokens + cached
    reasoning = reply.reasoning_tokens
    if reasoning is None:
        reasoning = approximate_tokens(reply.thinking)
        if reply.output_tokens is not None:
            reasoning = min(reasoning, reply.output_tokens)
    output_tokens = reply.output_tokens
    if output_tokens is None:
        generated = reply.text + "".join(arguments_json(call) for call in reply.tool_calls)
        output_tokens = max(1, approximate_tokens(generated)) + reasoning
    stop_reason = reply.stop_reason or ("tool_calls" if reply.tool_calls else "stop")
    return ResolvedReply(
        text=reply.text,
        thinking=reply.thinking,
        redacted_thinking=reply.redacted_thinking,
        tool_calls=tuple(reply.tool_calls),
        model=reply.model or requested_model,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        cache_read_tokens=reply.cache_read_tokens,
        cache_write_tokens=reply.cache_write_tokens,
        reasoning_tokens=reasoning,
        stop_reason=stop_reason,
        chunk_chars=reply.chunk_chars,
        chunk_delay_s=(
            timing.chunk_delay_s if reply.chunk_delay_s is None else reply.chunk_delay_s
        ),
        first_token_delay_s=(
            timing.first_token_delay_s
            if reply.first_token_delay_s is None
            else reply.first_token_delay_s
        ),
        reports_usage=reply.reports_usage,
    )
