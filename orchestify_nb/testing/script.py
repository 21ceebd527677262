"""What a test scripts the emulator to do (``Reply``, ``Fault``) and what it saw (the log).

A ``Reply`` speaks our own token convention (``orchestify_nb.providers.types``): ``input_tokens``
counts every prompt token, cached ones included, and ``output_tokens`` includes
``reasoning_tokens``. Each API module translates that into its wire format (Anthropic reports
``input_tokens`` *without* cache reads/writes; OpenAI reports ``prompt_tokens`` *with* them), so a
provider test can compare ``LLMResponse`` fields with the ``Reply`` it enqueued, whatever the API.

Both types round-trip through JSON so a test in another process can script a separate
``python -m orchestify_nb.testing`` server (``POST /_emulator/enqueue``).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

from orchestify_nb.providers.types import ToolCall

Api = Literal["anthropic", "openai"]
FaultKind = Literal[
    "rate_limit", "server_error", "overloaded", "unauthorized", "drop_mid_stream", "http_error"
]
#: "content_filter": the model refused (Anthropic ``refusal``, OpenAI ``content_filter``).
StopReason = Literal["stop", "length", "tool_calls", "content_filter"]


def approximate_tokens(text: str) -> int:
    """About four characters per token: good enough for counts nobody bills."""
    return max(1, math.ceil(len(text) / 4)) if text else 0


@dataclass(frozen=True, slots=True)
class Reply:
    """One scripted model answer.

    Token counts left as ``None`` are approximated from the request and the reply text.
    ``stop_reason`` defaults to ``"tool_calls"`` when there are tool calls, else ``"stop"``; it
    is sent as each API's own value (``end_turn``/``max_tokens``/``tool_use`` for Anthropic).
    ``chunk_chars`` sets the size of each streamed text, thinking or argument-JSON delta;
    delays left as ``None`` take the emulator's defaults. ``model=None`` echoes the requested model.
    ``redacted_thinking`` is the opaque ``data`` of an Anthropic ``redacted_thinking`` block sent
    after the thinking (the OpenAI API has no such thing and ignores it). With ``reasoning_tokens``
    (or thinking) set, Anthropic usage carries ``output_tokens_details.thinking_tokens``.
    ``reports_usage=False`` streams Chat Completions without a usage chunk whatever
    ``stream_options.include_usage`` asks, as llama.cpp's and other servers do.
    """

    text: str = ""
    thinking: str = ""
    redacted_thinking: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int | None = None
    model: str | None = None
    stop_reason: StopReason | None = None
    chunk_chars: int = 4
    chunk_delay_s: float | None = None
    first_token_delay_s: float | None = None
    reports_usage: bool = True

    def __post_init__(self) -> None:
        if self.chunk_chars < 1:
            raise ValueError("Reply.chunk_chars must be at least 1.")
        cached = self.cache_read_tokens + self.cache_write_tokens
        if self.input_tokens is not None and self.input_tokens < cached:
            raise ValueError(
                "Reply.input_tokens counts every prompt token, cached ones included, so it must "
                "be at least cache_read_tokens + cache_write_tokens."
            )
        output, reasoning = self.output_tokens, self.reasoning_tokens
        if output is not None and reasoning is not None and output < reasoning:
            raise ValueError("Reply.output_tokens includes reasoning_tokens: it cannot be smaller.")

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Reply:
        calls = [ToolCall(**call) for call in data.get("tool_calls", [])]
        return cls(**{**data, "tool_calls": calls})


@dataclass(frozen=True, slots=True)
class Fault:
    """One scripted failure; it takes one queue slot, like a ``Reply``.

    Build them with the class methods. ``drop_mid_stream`` streams ``reply`` (or the echo reply)
    and closes the socket after ``after_chunks`` SSE events, always before the stream is complete;
    on a non-streaming request it closes the connection without answering.
    """

    kind: FaultKind
    retry_after: float | None = None
    after_chunks: int = 0
    status: int | None = None
    message: str | None = None
    reply: Reply | None = None

    @classmethod
    def rate_limit(cls, retry_after: float | None = 1) -> Fault:
        """HTTP 429 with a ``Retry-After`` header (omitted when ``retry_after`` is None)."""
        return cls(kind="rate_limit", retry_after=retry_after)

    @classmethod
    def server_error(cls) -> Fault:
        """HTTP 500 (Anthropic ``api_error``, OpenAI ``server_error``)."""
        return cls(kind="server_error")

    @classmethod
    def overloaded(cls) -> Fault:
        """Anthropic's HTTP 529 ``overloaded_error``; OpenAI's equivalent, HTTP 503."""
        return cls(kind="overloaded")

    @classmethod
    def unauthorized(cls) -> Fault:
        """HTTP 401 (Anthropic ``authentication_error``, OpenAI ``invalid_api_key``)."""
        return cls(kind="unauthorized")

    @classmethod
    def drop_mid_stream(cls, after_chunks: int = 3, reply: Reply | None = None) -> Fault:
        """Close the connection after ``after_chunks`` SSE events of ``reply``."""
        return cls(kind="drop_mid_stream", after_chunks=after_chunks, reply=reply)

    @classmethod
    def slow_first_token(cls, delay_s: float, reply: Reply | None = None) -> Reply:
        """A reply (``reply`` or an echo) whose first token comes ``delay_s`` seconds late."""
        return replace(reply or Reply(), first_token_delay_s=delay_s)

    @classmethod
    def http_error(cls, status: int, message: str = "Bad request") -> Fault:
        """Any other HTTP error (e.g. 400, 403, 404) in each API's error shape."""
        return cls(kind="http_error", status=status, message=message)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Fault:
        reply = data.get("reply")
        return cls(**{**data, "reply": Reply.from_json(reply) if reply else None})


Scripted = Reply | Fault


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request the emulator received; API-key header values are stored as ``"***"``."""

    api: Api
    path: str
    body: dict[str, Any]
    stream: bool
    received_at: float
    headers: dict[str, str] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """The fields ``GET /_emulator/requests`` serves to another process."""
        return {
            "api": self.api,
            "path": self.path,
            "received_at": self.received_at,
            "stream": self.stream,
            "model": self.body.get("model"),
        }


def scripted_from_json(data: dict[str, Any]) -> Scripted:
    """Parse ``{"reply": {...}}`` or ``{"fault": {...}}`` (the enqueue endpoint's body)."""
    if "fault" in data:
        return Fault.from_json(data["fault"])
    if "reply" in data:
        return Reply.from_json(data["reply"])
    raise ValueError('Expected a JSON object with a "reply" or a "fault" key.')


def scripted_to_json(item: Scripted) -> dict[str, Any]:
    return {"fault": item.to_json()} if isinstance(item, Fault) else {"reply": item.to_json()}
