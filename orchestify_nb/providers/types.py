"""The data every provider speaks: messages, responses, stream events and usage totals.

Consumers (magics, panel, ledger, batch) only ever see these types, never an SDK object.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from orchestify_nb.usage.record import UsageRecord

Role = Literal["system", "user", "assistant", "tool"]
EventType = Literal["text", "thinking", "tool_call", "done"]
FinishReason = Literal["stop", "length", "tool_calls", "content_filter", "cancelled", "error"]


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A complete tool call the model asked for; ``arguments`` is the parsed JSON object."""

    id: str
    name: str
    arguments: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """A tool offered to the model: a name, what it does, and a JSON schema of its arguments."""

    name: str
    description: str = ""
    parameters: dict[str, Any] = field(default_factory=lambda: {"type": "object", "properties": {}})

    @classmethod
    def coerce(cls, tool: ToolSpec | dict[str, Any]) -> ToolSpec:
        """Accept our spec, an Anthropic tool dict or an OpenAI function-tool dict."""
        if isinstance(tool, ToolSpec):
            return tool
        spec = tool.get("function", tool) if tool.get("type") == "function" else tool
        schema = spec.get("parameters") or spec.get("input_schema") or {"type": "object"}
        return cls(name=spec["name"], description=spec.get("description", ""), parameters=schema)


@dataclass(frozen=True, slots=True)
class LLMMessage:
    """One turn of a conversation.

    ``tool_calls`` is set on assistant turns that called tools; a ``tool`` turn answers the call
    named by ``tool_call_id`` with ``content`` as the result.

    ``provider_blocks`` is opaque provider content of an assistant turn, replayed verbatim when
    the conversation is sent again: Claude's signed ``thinking``/``redacted_thinking`` blocks,
    which the API requires back with the tool results when extended thinking is on. Take them
    from ``LLMResponse.to_message()``; never build or edit them. A provider that does not know
    them ignores them.
    """

    role: Role
    content: str
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None
    provider_blocks: tuple[dict[str, Any], ...] = field(default=(), repr=False)


@dataclass(slots=True)
class LLMResponse:
    """A complete answer with its usage, cost and timing.

    ``tokens_input`` counts every prompt token, cached ones included; ``cache_read_tokens`` and
    ``cache_write_tokens`` say how many of them were read from or written to the prompt cache.
    ``reasoning_tokens`` are included in ``tokens_output``. ``cost_usd`` is ``None`` (and
    ``priced`` False) when no price is known for the model: unknown is never reported as $0.
    ``provider_blocks`` is opaque provider content the next request must carry back (see
    ``LLMMessage``); ``to_message()`` turns the answer into the assistant turn that does so.
    """

    content: str
    model: str
    tokens_input: int = 0
    tokens_output: int = 0
    finish_reason: str | None = None
    raw_response: Any = field(default=None, repr=False, compare=False)
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0
    cost_usd: float | None = None
    priced: bool = False
    price_source: str | None = None
    latency_s: float | None = None
    time_to_first_token_s: float | None = None
    tool_calls: list[ToolCall] = field(default_factory=list)
    thinking: str = ""
    provider_id: str | None = None
    model_requested: str | None = None
    record_id: str | None = None
    provider_blocks: tuple[dict[str, Any], ...] = field(default=(), repr=False)

    @property
    def total_tokens(self) -> int:
        return self.tokens_input + self.tokens_output

    def to_message(self) -> LLMMessage:
        """This answer as the assistant turn of the conversation, so a tool loop continues with
        ``messages.append(response.to_message())``: text, tool calls and provider blocks."""
        return LLMMessage(
            role="assistant",
            content=self.content,
            tool_calls=tuple(self.tool_calls),
            provider_blocks=self.provider_blocks,
        )

    def __str__(self) -> str:
        return self.content


@dataclass(frozen=True, slots=True)
class ToolCallDelta:
    """A fragment of a streamed tool call; ``arguments_delta`` is raw JSON text to append."""

    index: int
    id: str | None = None
    name: str | None = None
    arguments_delta: str = ""


@dataclass(slots=True)
class StreamEvent:
    """One event of a stream: a text, thinking or tool-call delta, or the final ``done``.

    The ``done`` event is always last and carries the complete, priced ``LLMResponse``.
    Concatenating the ``text`` of all ``text`` events equals ``response.content``. Not frozen:
    one is made per streamed chunk, and a frozen dataclass costs four times as much to build.
    """

    type: EventType
    text: str = ""
    tool_call: ToolCallDelta | None = None
    response: LLMResponse | None = None

    @classmethod
    def text_delta(cls, text: str) -> StreamEvent:
        return cls(type="text", text=text)

    @classmethod
    def thinking_delta(cls, text: str) -> StreamEvent:
        return cls(type="thinking", text=text)

    @classmethod
    def tool_call_delta(cls, delta: ToolCallDelta) -> StreamEvent:
        return cls(type="tool_call", tool_call=delta)

    @classmethod
    def done(cls, response: LLMResponse) -> StreamEvent:
        return cls(type="done", response=response)


@dataclass(slots=True)
class TokenUsage:
    """Running totals for one provider (or, summed, for a registry) since the last reset."""

    total_input: int = 0
    total_output: int = 0
    total_cost_usd: float = 0.0
    call_count: int = 0
    total_cache_read: int = 0
    total_cache_write: int = 0
    total_reasoning: int = 0
    error_count: int = 0
    cancelled_count: int = 0
    unpriced_calls: int = 0

    @property
    def total_tokens(self) -> int:
        return self.total_input + self.total_output

    def add_record(self, record: UsageRecord) -> None:
        """Fold one ledger record into the totals."""
        self.call_count += 1
        self.total_input += record.input_tokens
        self.total_output += record.output_tokens
        self.total_cache_read += record.cache_read_tokens
        self.total_cache_write += record.cache_write_tokens
        self.total_reasoning += record.reasoning_tokens
        if record.cost_usd is not None:
            self.total_cost_usd += record.cost_usd
        elif record.input_tokens or record.output_tokens:
            self.unpriced_calls += 1
        if record.status == "error":
            self.error_count += 1
        elif record.status == "cancelled":
            self.cancelled_count += 1

    def __add__(self, other: TokenUsage) -> TokenUsage:
        return TokenUsage(
            total_input=self.total_input + other.total_input,
            total_output=self.total_output + other.total_output,
            total_cost_usd=self.total_cost_usd + other.total_cost_usd,
            call_count=self.call_count + other.call_count,
            total_cache_read=self.total_cache_read + other.total_cache_read,
            total_cache_write=self.total_cache_write + other.total_cache_write,
            total_reasoning=self.total_reasoning + other.total_reasoning,
            error_count=self.error_count + other.error_count,
            cancelled_count=self.cancelled_count + other.cancelled_count,
            unpriced_calls=self.unpriced_calls + other.unpriced_calls,
        )


@dataclass(slots=True)
class LLMRequest:
    """A validated request, as the base class hands it to a provider's translation code."""

    messages: list[LLMMessage]
    model: str
    max_tokens: int
    temperature: float | None = None
    system: str | None = None
    tools: list[ToolSpec] = field(default_factory=list)
    thinking: int | None = None
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class StreamProgress:
    """What a provider has learned so far during a call, so a failed or cancelled call can still
    be recorded with the usage the provider reported and the text that had arrived."""

    model: str | None = None
    text_parts: list[str] = field(default_factory=list)
    thinking_parts: list[str] = field(default_factory=list)
    tokens_input: int = 0
    tokens_output: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0
    first_token_at: float | None = None

    @property
    def text(self) -> str:
        """The answer text streamed so far (kept as parts: joining once beats copying per chunk)."""
        return "".join(self.text_parts)

    @property
    def thinking(self) -> str:
        return "".join(self.thinking_parts)

    def response(self, content: str, model: str, **fields: Any) -> LLMResponse:
        """An ``LLMResponse`` carrying the usage folded in so far (for the final answer, or for
        recording a call that did not finish)."""
        return LLMResponse(
            content=content,
            model=self.model or model,
            tokens_input=self.tokens_input,
            tokens_output=self.tokens_output,
            cache_read_tokens=self.cache_read_tokens,
            cache_write_tokens=self.cache_write_tokens,
            reasoning_tokens=self.reasoning_tokens,
            **fields,
        )
