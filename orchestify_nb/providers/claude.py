"""Claude through the official ``anthropic`` SDK's ``AsyncAnthropic`` Messages API.

Translation only: requests into Messages API arguments, content blocks and raw stream events
into our types. Retries, pricing, budgets and the ledger live in the base class. The SDK is
imported when the first call creates the client, never when this module is imported.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from orchestify_nb.errors import ModelNotSupportedError
from orchestify_nb.providers._sdk import (
    OptionProblem,
    SDKClientProvider,
    build_response,
    map_finish_reason,
    parse_tool_arguments,
    raise_option_problem,
    unknown_options,
)
from orchestify_nb.providers.anthropic_api import ANTHROPIC_API_VERSION, REFUSED_SAMPLING_SETTINGS
from orchestify_nb.providers.types import (
    LLMMessage,
    LLMRequest,
    LLMResponse,
    StreamEvent,
    StreamProgress,
    ToolCall,
    ToolCallDelta,
)

if TYPE_CHECKING:
    from anthropic.types import Message, MessageDeltaUsage, Usage

#: Current Claude models (those the installed SDK names and the price data knows), newest first.
CLAUDE_MODELS: tuple[str, ...] = (
    "claude-opus-5-5",
    "claude-sonnet-5-5",
    "claude-haiku-5-5",
    "claude-opus-5",
    "claude-sonnet-5",
    "claude-opus-4-8",
    "claude-opus-4-7",
    "claude-opus-4-6",
    "claude-sonnet-4-6",
    "claude-haiku-4-5",
)

#: Model families that predate extended thinking; every later Claude model supports it.
_NO_THINKING_PREFIXES = (
    "claude-2",
    "claude-instant",
    "claude-v1",
    "claude-3-haiku",
    "claude-3-opus",
    "claude-3-sonnet",
    "claude-3-5",
    "claude-3.5",
)

#: Anthropic ``stop_reason`` -> our finish_reason vocabulary.
FINISH_REASONS: Mapping[str, str] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}

#: Messages API arguments a caller may pass through ``**options`` (anything else is a typo).
#: The sampling settings are not among them: see ``anthropic_api.REFUSED_SAMPLING_SETTINGS``.
PASSTHROUGH_OPTIONS = frozenset(
    {
        "stop_sequences",
        "metadata",
        "tool_choice",
        "service_tier",
        "cache_control",
        "extra_headers",
        "extra_query",
        "extra_body",
    }
)

MIN_THINKING_BUDGET = 1024


class ClaudeProvider(SDKClientProvider):
    """Anthropic's Claude models: tools, extended thinking and prompt-cache accounting."""

    provider_type: ClassVar[str] = "anthropic"
    api_key_env: ClassVar[str | None] = "ANTHROPIC_API_KEY"
    sdk_module: ClassVar[str] = "anthropic"
    sdk_extra: ClassVar[str] = "anthropic"
    client_class: ClassVar[str] = "AsyncAnthropic"
    catalog: ClassVar[tuple[str, ...]] = CLAUDE_MODELS

    @classmethod
    def fallback_model(cls) -> str | None:
        return "claude-sonnet-4-6"

    def validate_model(self, model: str) -> None:
        if not model.startswith("claude-"):
            raise ModelNotSupportedError(
                f"{model!r} is not a Claude model",
                provider_id=self.provider_id,
                model=model,
                hint=(
                    f"Claude model names start with 'claude-' (e.g. {CLAUDE_MODELS[1]}); "
                    "use an openai or litellm provider for other models."
                ),
            )

    def supports_thinking(self, model: str | None = None) -> bool:
        return not (model or self.default_model or "").startswith(_NO_THINKING_PREFIXES)

    def validate_options(self, request: LLMRequest) -> None:
        super().validate_options(request)
        problem = (
            sampling_problem(request)
            or unknown_options(request, PASSTHROUGH_OPTIONS)
            or thinking_problem(request)
        )
        raise_option_problem(self.provider_id, request, problem)

    # ---------------------------------------------------------------------------- translation
    def _arguments(self, request: LLMRequest) -> dict[str, Any]:
        arguments: dict[str, Any] = {
            "model": request.model,
            "max_tokens": request.max_tokens,
            "messages": to_anthropic_messages(request.messages),
        }
        if request.system:
            arguments["system"] = request.system
        if request.tools:
            arguments["tools"] = [
                {"name": t.name, "description": t.description, "input_schema": t.parameters}
                if t.description
                else {"name": t.name, "input_schema": t.parameters}
                for t in request.tools
            ]
        if request.thinking is not None:
            arguments["thinking"] = {"type": "enabled", "budget_tokens": request.thinking}
        arguments.update(request.options)
        return arguments

    async def _complete(self, request: LLMRequest, progress: StreamProgress) -> LLMResponse:
        progress.model = request.model
        message: Message = await self._clients.get().messages.create(**self._arguments(request))
        progress.model = message.model
        fold_usage(progress, message.usage, 0)
        text: list[str] = []
        thinking: list[str] = []
        tool_calls: list[ToolCall] = []
        signed: list[dict[str, Any]] = []
        for block in message.content:
            if block.type == "text":
                text.append(block.text)
            elif block.type == "thinking":
                thinking.append(block.thinking)
                signed.append(thinking_block(block.thinking, block.signature))
            elif block.type == "redacted_thinking":
                signed.append({"type": "redacted_thinking", "data": block.data})
            elif block.type == "tool_use":
                arguments = block.input if isinstance(block.input, dict) else {}
                tool_calls.append(ToolCall(id=block.id, name=block.name, arguments=arguments))
        return build_response(
            progress,
            content="".join(text),
            thinking="".join(thinking),
            tool_calls=tool_calls,
            finish_reason=map_finish_reason(FINISH_REASONS, message.stop_reason),
            raw=message,
            provider_blocks=tuple(signed),
        )

    async def _stream(
        self, request: LLMRequest, progress: StreamProgress
    ) -> AsyncIterator[StreamEvent]:
        progress.model = request.model
        stream = await self._clients.get().messages.create(**self._arguments(request), stream=True)
        text: list[str] = []
        thinking: list[str] = []
        tool_heads: list[tuple[str, str]] = []  # (id, name) per tool call, in order
        tool_arguments: list[list[str]] = []
        tool_by_block: dict[int, int] = {}
        # Thinking and redacted_thinking blocks by content-block index, for the next request;
        # a thinking block's text is kept as parts until the end.
        signed: dict[int, dict[str, Any]] = {}
        signed_text: dict[int, list[str]] = {}
        uncached_input = 0
        stop_reason: str | None = None
        try:
            async for event in stream:
                kind = event.type
                if kind == "content_block_delta":  # the hot path: one per chunk
                    delta = event.delta
                    if delta.type == "text_delta":
                        piece = delta.text
                        text.append(piece)
                        yield StreamEvent("text", piece)
                    elif delta.type == "thinking_delta":
                        thinking.append(delta.thinking)
                        signed_text[event.index].append(delta.thinking)
                        yield StreamEvent("thinking", delta.thinking)
                    elif delta.type == "signature_delta":
                        signed[event.index]["signature"] += delta.signature
                    elif delta.type == "input_json_delta":
                        index = tool_by_block[event.index]
                        tool_arguments[index].append(delta.partial_json)
                        yield StreamEvent.tool_call_delta(
                            ToolCallDelta(index=index, arguments_delta=delta.partial_json)
                        )
                elif kind == "content_block_start":
                    block = event.content_block
                    if block.type == "tool_use":
                        index = tool_by_block[event.index] = len(tool_heads)
                        tool_heads.append((block.id, block.name))
                        tool_arguments.append([])
                        yield StreamEvent.tool_call_delta(
                            ToolCallDelta(index=index, id=block.id, name=block.name)
                        )
                    elif block.type == "text" and block.text:
                        text.append(block.text)
                        yield StreamEvent("text", block.text)
                    elif block.type == "thinking":
                        signed[event.index] = thinking_block("", block.signature or "")
                        signed_text[event.index] = [block.thinking] if block.thinking else []
                        if block.thinking:
                            thinking.append(block.thinking)
                            yield StreamEvent("thinking", block.thinking)
                    elif block.type == "redacted_thinking":
                        signed[event.index] = {"type": "redacted_thinking", "data": block.data}
                elif kind == "message_start":
                    progress.model = event.message.model
                    uncached_input = fold_usage(progress, event.message.usage, uncached_input)
                elif kind == "message_delta":
                    stop_reason = event.delta.stop_reason or stop_reason
                    uncached_input = fold_usage(progress, event.usage, uncached_input)
        finally:
            await stream.close()
        tool_calls = [
            ToolCall(id=call_id, name=name, arguments=parse_tool_arguments("".join(parts)))
            for (call_id, name), parts in zip(tool_heads, tool_arguments, strict=True)
        ]
        yield StreamEvent.done(
            build_response(
                progress,
                content="".join(text),
                thinking="".join(thinking),
                tool_calls=tool_calls,
                finish_reason=map_finish_reason(FINISH_REASONS, stop_reason),
                raw=None,
                provider_blocks=tuple(
                    {**block, "thinking": "".join(signed_text[index])}
                    if block["type"] == "thinking"
                    else block
                    for index, block in sorted(signed.items())
                ),
            )
        )


def sampling_problem(request: LLMRequest) -> OptionProblem | None:
    """The Messages API version SDK 2.x sends refuses sampling parameters."""
    given = {**request.options, "temperature": request.temperature}
    rejected = [name for name in REFUSED_SAMPLING_SETTINGS if given.get(name) is not None]
    if not rejected:
        return None
    return (
        f"the Anthropic API no longer accepts {', '.join(rejected)} "
        f"(API version {ANTHROPIC_API_VERSION})",
        "Drop it and steer the answer with the prompt (or thinking=).",
    )


def thinking_problem(request: LLMRequest) -> OptionProblem | None:
    """What extended thinking on Claude rejects. Sampling options only matter through LiteLLM,
    which still speaks API version 2023-06-01, where they conflict with thinking."""
    if request.thinking is None:
        return None
    if request.temperature is not None or "top_k" in request.options:
        return (
            "temperature and top_k cannot be set together with extended thinking",
            "Drop temperature=/top_k=, or drop thinking=.",
        )
    if request.thinking < MIN_THINKING_BUDGET:
        return (
            f"the thinking budget must be at least {MIN_THINKING_BUDGET} tokens",
            f"Pass thinking={MIN_THINKING_BUDGET} or more.",
        )
    if request.thinking >= request.max_tokens:
        return (
            f"the thinking budget ({request.thinking}) must be below max_tokens "
            f"({request.max_tokens}), which also covers the answer",
            f"Raise max_tokens above {request.thinking}, or lower thinking=.",
        )
    return None


def thinking_block(thinking: str, signature: str) -> dict[str, Any]:
    """A signed thinking block as the Messages API takes it back."""
    return {"type": "thinking", "thinking": thinking, "signature": signature}


def to_anthropic_messages(messages: list[LLMMessage]) -> list[dict[str, Any]]:
    """Our turns as Messages API turns: tool calls become ``tool_use`` blocks on the assistant
    turn, and consecutive ``tool`` results are gathered into one user turn, as the API requires.

    An assistant turn's ``provider_blocks`` (its signed thinking) come first in its content,
    unchanged: with extended thinking on, the API refuses tool results whose assistant turn does
    not start with the thinking that led to the calls."""
    turns: list[dict[str, Any]] = []
    for message in messages:
        if message.role == "tool":
            result = {
                "type": "tool_result",
                "tool_use_id": message.tool_call_id,
                "content": message.content,
            }
            if turns and _is_tool_results(turns[-1]):
                turns[-1]["content"].append(result)
            else:
                turns.append({"role": "user", "content": [result]})
        elif message.role == "assistant" and (message.tool_calls or message.provider_blocks):
            blocks = list(message.provider_blocks)
            if message.content:
                blocks.append({"type": "text", "text": message.content})
            blocks.extend(
                {"type": "tool_use", "id": call.id, "name": call.name, "input": call.arguments}
                for call in message.tool_calls
            )
            turns.append({"role": "assistant", "content": blocks})
        else:
            turns.append({"role": message.role, "content": message.content})
    return turns


def _is_tool_results(turn: dict[str, Any]) -> bool:
    content = turn["content"]
    return isinstance(content, list) and bool(content) and content[0]["type"] == "tool_result"


def fold_usage(
    progress: StreamProgress, usage: Usage | MessageDeltaUsage, uncached_input: int
) -> int:
    """Fold the SDK's (cumulative) usage into ``progress``; returns the uncached input count.

    Anthropic's ``input_tokens`` excludes prompt-cache reads and writes; ours includes them.
    """
    if usage.input_tokens is not None:
        uncached_input = usage.input_tokens
    if usage.cache_read_input_tokens is not None:
        progress.cache_read_tokens = usage.cache_read_input_tokens
    if usage.cache_creation_input_tokens is not None:
        progress.cache_write_tokens = usage.cache_creation_input_tokens
    progress.tokens_input = (
        uncached_input + progress.cache_read_tokens + progress.cache_write_tokens
    )
    progress.tokens_output = usage.output_tokens
    details = getattr(usage, "output_tokens_details", None)  # anthropic SDK >= 2 reports it
    if details is not None:
        progress.reasoning_tokens = details.thinking_tokens
    return uncached_input
