"""The data every provider speaks: messages, responses, stream events and usage totals.

Consumers (magics, panel, ledger, batch) only ever see these types, never an SDK object.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from orchestify_nb.providers.content import Content, ContentPart, normalize_content, text_of
from orchestify_nb.tokens import TokenCounts, counts_of
from orchestify_nb.usage.totals import TokenUsage

if TYPE_CHECKING:
    from orchestify_nb.providers.prompt_cache import PromptCache
    from orchestify_nb.providers.structured import OutputSchema

__all__ = [
    "EventType",
    "FinishReason",
    "LLMMessage",
    "LLMRequest",
    "LLMResponse",
    "ProviderEvent",
    "Role",
    "StreamEnd",
    "StreamEvent",
    "StreamProgress",
    "TokenCounts",
    "TokenUsage",
    "ToolCall",
    "ToolCallDelta",
    "ToolSpec",
    "parse_tool_arguments",
]

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


@dataclass(frozen=True, slots=True, init=False)
class LLMMessage:
    """One turn of a conversation.

    ``content`` is text, or content parts (``TextPart``, ``ImagePart``, ``DocumentPart``; a list
    is kept as a tuple, and parts that are all text become one string); ``text`` is its text.
    ``tool_calls`` is set on assistant turns that called tools; a ``tool`` turn answers the call
    named by ``tool_call_id`` with ``content`` as the result.

    ``provider_blocks`` is opaque provider content of an assistant turn, replayed verbatim when
    the conversation is sent again: Claude's signed ``thinking``/``redacted_thinking`` blocks,
    which the API requires back with the tool results when extended thinking is on. Take them
    from ``LLMResponse.to_message()``; never build or edit them. A provider that does not know
    them ignores them.
    """

    role: Role
    content: Content
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None
    provider_blocks: tuple[dict[str, Any], ...] = field(default=(), repr=False)

    def __init__(
        self,
        role: Role,
        content: str | Sequence[ContentPart | str],
        tool_calls: Sequence[ToolCall] = (),
        tool_call_id: str | None = None,
        provider_blocks: Sequence[dict[str, Any]] = (),
    ) -> None:
        setter = object.__setattr__  # frozen: set once, here
        setter(self, "role", role)
        setter(self, "content", normalize_content(content))
        setter(self, "tool_calls", tuple(tool_calls))
        setter(self, "tool_call_id", tool_call_id)
        setter(self, "provider_blocks", tuple(provider_blocks))

    @property
    def text(self) -> str:
        """The turn's text (its text parts, when it has images or documents)."""
        return text_of(self.content)


@dataclass(slots=True)
class LLMResponse:
    """A complete answer with its usage, cost and timing.

    ``tokens`` holds the call's counts (``TokenCounts``: input includes cached tokens, output
    includes reasoning tokens); ``tokens_input``, ``tokens_output``, ``cache_read_tokens``,
    ``cache_write_tokens`` and ``reasoning_tokens`` read them under the seed's names.
    ``cost_usd`` is ``None`` (and ``priced`` False) when no price is known for the model: unknown
    is never reported as $0. ``usage_estimated`` is True when the server reported no usage and
    the counts were estimated from the text. ``provider_blocks`` is opaque provider content the
    next request must carry back (see ``LLMMessage``); ``to_message()`` turns the answer into
    the assistant turn that does so.
    """

    content: str
    model: str
    tokens: TokenCounts = field(default_factory=TokenCounts)
    finish_reason: str | None = None
    raw_response: Any = field(default=None, repr=False, compare=False)
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
    usage_estimated: bool = False
    #: Set when the answer was replayed from the response cache: when it was bought, and what
    #: that call cost (this one costs $0).
    cached_at: datetime | None = None
    saved_usd: float | None = None
    #: What the prompt cache saved on this call: its input at the normal rate minus what it cost
    #: (negative on a call that only wrote the cache, whose writes cost more than plain input).
    prompt_cache_saved_usd: float | None = None
    #: With ``output_schema``: the answer as the schema's type (``typed`` is then True), or
    #: what did not fit it.
    parsed: Any = None
    typed: bool = False
    schema_problems: list[str] = field(default_factory=list)

    #: The seed's names for the counts, read from ``tokens``.
    tokens_input, tokens_output, cache_read_tokens, cache_write_tokens, reasoning_tokens = (
        counts_of()
    )

    @property
    def total_tokens(self) -> int:
        return self.tokens.total

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
    #: ``cache_prompt=``: ask the provider's prompt cache (``providers.prompt_cache``).
    prompt_cache: PromptCache | None = None
    #: ``output_schema=``: the typed answer asked for, and the repair turns allowed
    #: (``providers.structured``).
    output_schema: OutputSchema | None = None
    repair: int = 1


@dataclass(slots=True)
class StreamEnd:
    """A provider's last event: it saw the API's own end marker (``message_stop``, a
    ``finish_reason``), with what only the end knows. A stream without it ended early."""

    finish_reason: str | None
    provider_blocks: tuple[dict[str, Any], ...] = ()
    raw_response: Any = None


#: What a provider's translation yields: deltas, then one ``StreamEnd``.
ProviderEvent = StreamEvent | StreamEnd


@dataclass(slots=True)
class StreamProgress:
    """One call as it arrives: the provider sets ``model`` and ``tokens`` as the SDK reports
    them, and the base class adds every delta, so a finished call becomes one ``LLMResponse``
    and a failed or cancelled one is still recorded with what was spent and said."""

    model: str | None = None
    tokens: TokenCounts = field(default_factory=TokenCounts)
    usage_reported: bool = False
    text_parts: list[str] = field(default_factory=list)
    thinking_parts: list[str] = field(default_factory=list)
    tool_heads: dict[int, list[str]] = field(default_factory=dict)  # index -> [id, name]
    tool_arguments: dict[int, list[str]] = field(default_factory=dict)
    first_token_at: float | None = None

    def report(self, tokens: TokenCounts) -> None:
        """The SDK's latest (cumulative) usage."""
        self.tokens = tokens
        self.usage_reported = True

    def add(self, event: StreamEvent) -> None:
        """Fold one delta into the answer being assembled."""
        if event.type == "text":
            self.text_parts.append(event.text)
        elif event.type == "thinking":
            self.thinking_parts.append(event.text)
        elif event.tool_call is not None:
            delta = event.tool_call
            head = self.tool_heads.setdefault(delta.index, ["", ""])
            if delta.id:
                head[0] = delta.id
            if delta.name:
                head[1] = delta.name
            self.tool_arguments.setdefault(delta.index, []).append(delta.arguments_delta)

    @property
    def text(self) -> str:
        """The answer text so far (kept as parts: joining once beats copying per chunk)."""
        return "".join(self.text_parts)

    @property
    def thinking(self) -> str:
        return "".join(self.thinking_parts)

    def tool_calls(self) -> list[ToolCall]:
        return [
            ToolCall(
                id=self.tool_heads[index][0],
                name=self.tool_heads[index][1],
                arguments=parse_tool_arguments("".join(self.tool_arguments[index])),
            )
            for index in sorted(self.tool_heads)
        ]

    def response(self, model: str, end: StreamEnd | None = None) -> LLMResponse:
        """The one ``LLMResponse`` of this call: complete when ``end`` is given, else what had
        arrived when it failed or was cancelled."""
        return LLMResponse(
            content=self.text,
            model=self.model or model,
            tokens=self.tokens,
            thinking=self.thinking,
            tool_calls=self.tool_calls(),
            finish_reason=end.finish_reason if end else None,
            raw_response=end.raw_response if end else None,
            provider_blocks=end.provider_blocks if end else (),
        )


def parse_tool_arguments(text: str) -> dict[str, Any]:
    """The JSON object a model produced as tool arguments.

    A truncated or malformed argument string (``finish_reason == "length"``) is kept under
    ``"_raw"`` rather than dropped, so the caller can see what the model wrote.
    """
    if not text.strip():
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {"_raw": text}
    return value if isinstance(value, dict) else {"_raw": text}
