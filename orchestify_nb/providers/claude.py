"""Claude through the official ``anthropic`` SDK's ``AsyncAnthropic`` Messages API.

Translation only: requests into Messages API arguments, content blocks and raw stream events
into our types. Retries, pricing, budgets and the ledger live in the base class. The SDK is
imported when the first call creates the client, never when this module is imported.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from orchestify_nb.errors import ModelNotSupportedError
from orchestify_nb.providers._sdk import (
    SDKClientProvider,
    map_finish_reason,
    raise_option_problem,
    unknown_options,
)
from orchestify_nb.providers.anthropic_api import (
    sampling_problem,
    thinking_block,
    thinking_problem,
    to_anthropic_messages,
)
from orchestify_nb.providers.forced_answer import (
    answer_finish,
    answer_tool_arguments,
    uses_answer_tool,
)
from orchestify_nb.providers.prompt_cache import anthropic_breakpoints
from orchestify_nb.providers.structured import asked_schema
from orchestify_nb.providers.types import (
    LLMRequest,
    ProviderEvent,
    StreamEnd,
    StreamEvent,
    StreamProgress,
    ToolCallDelta,
)
from orchestify_nb.providers.wire_format import check_answer, check_event_stream, empty_stream
from orchestify_nb.tokens import TokenCounts

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

#: Model families that read no images or PDFs; every later Claude model reads both.
_TEXT_ONLY_PREFIXES = ("claude-2", "claude-instant", "claude-v1")

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

    def supports_images(self, model: str | None = None) -> bool:
        return not (model or self.default_model or "").startswith(_TEXT_ONLY_PREFIXES)

    def supports_documents(self, model: str | None = None) -> bool:
        return self.supports_images(model)

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
        if uses_answer_tool(request):  # an older model: a forced tool call carries the answer
            arguments.update(answer_tool_arguments(request))
        elif request.output_schema is not None:  # the Messages API's structured output
            schema, _strict = asked_schema(request.output_schema)
            arguments["output_config"] = {"format": {"type": "json_schema", "schema": schema}}
        arguments.update(request.options)
        if request.prompt_cache is not None:
            anthropic_breakpoints(arguments, request.prompt_cache)
        return arguments

    async def _complete(
        self, request: LLMRequest, progress: StreamProgress
    ) -> AsyncIterator[ProviderEvent]:
        progress.model = request.model
        message: Message = await self._clients.get().messages.create(**self._arguments(request))
        check_answer(message, "content")
        progress.model = message.model
        fold_usage(progress, message.usage, 0)
        signed: list[dict[str, Any]] = []
        tools, forced = 0, uses_answer_tool(request)
        for block in message.content:
            if block.type == "text":
                yield StreamEvent("text", block.text)
            elif block.type == "thinking":
                yield StreamEvent("thinking", block.thinking)
                signed.append(thinking_block(block.thinking, block.signature))
            elif block.type == "redacted_thinking":
                signed.append({"type": "redacted_thinking", "data": block.data})
            elif block.type == "tool_use":
                arguments = block.input if isinstance(block.input, dict) else {}
                if forced:
                    yield StreamEvent("text", json.dumps(arguments))
                    continue
                yield StreamEvent.tool_call_delta(
                    ToolCallDelta(tools, block.id, block.name, json.dumps(arguments))
                )
                tools += 1
        finish = answer_finish(map_finish_reason(FINISH_REASONS, message.stop_reason), forced)
        yield StreamEnd(finish, tuple(signed), message)

    async def _stream(
        self, request: LLMRequest, progress: StreamProgress
    ) -> AsyncIterator[ProviderEvent]:
        progress.model = request.model
        stream = await self._clients.get().messages.create(**self._arguments(request), stream=True)
        tool_by_block: dict[int, int] = {}  # content-block index -> tool call index
        signed = SignedBlocks()
        uncached_input = 0
        stop_reason: str | None = None
        started = False  # message_start came: the stream is the API's
        forced = uses_answer_tool(request)
        try:
            content_type = await check_event_stream(stream)
            async for event in stream:
                kind = event.type
                if kind == "content_block_delta":  # the hot path: one per chunk
                    delta = event.delta
                    if delta.type == "text_delta":
                        yield StreamEvent("text", delta.text)
                    elif delta.type == "thinking_delta":
                        signed.add_thinking(event.index, delta.thinking)
                        yield StreamEvent("thinking", delta.thinking)
                    elif delta.type == "signature_delta":
                        signed.add_signature(event.index, delta.signature)
                    elif delta.type == "input_json_delta" and forced:
                        yield StreamEvent("text", delta.partial_json)
                    elif delta.type == "input_json_delta":
                        yield StreamEvent.tool_call_delta(
                            ToolCallDelta(
                                tool_by_block[event.index], None, None, delta.partial_json
                            )
                        )
                elif kind == "content_block_start":
                    block = event.content_block
                    if block.type == "tool_use" and not forced:
                        index = tool_by_block[event.index] = len(tool_by_block)
                        yield StreamEvent.tool_call_delta(
                            ToolCallDelta(index, block.id, block.name)
                        )
                    elif block.type == "text" and block.text:
                        yield StreamEvent("text", block.text)
                    elif block.type == "thinking":
                        signed.start_thinking(event.index, block.thinking, block.signature)
                        if block.thinking:
                            yield StreamEvent("thinking", block.thinking)
                    elif block.type == "redacted_thinking":
                        signed.add_redacted(event.index, block.data)
                elif kind == "message_start":
                    started = True
                    progress.model = event.message.model
                    uncached_input = fold_usage(progress, event.message.usage, uncached_input)
                elif kind == "message_delta":
                    stop_reason = event.delta.stop_reason or stop_reason
                    uncached_input = fold_usage(progress, event.usage, uncached_input)
                elif kind == "message_stop":  # the API's end marker
                    finish = answer_finish(map_finish_reason(FINISH_REASONS, stop_reason), forced)
                    yield StreamEnd(finish, signed.blocks())
                    return
        finally:
            await stream.close()
        if not started:
            raise empty_stream(content_type)


class SignedBlocks:
    """A stream's thinking and redacted_thinking blocks by content-block index, put back
    together for the next request (a thinking block's text is kept as parts until the end)."""

    def __init__(self) -> None:
        self._blocks: dict[int, dict[str, Any]] = {}
        self._text: dict[int, list[str]] = {}

    def start_thinking(self, index: int, text: str, signature: str | None) -> None:
        self._blocks[index] = thinking_block("", signature or "")
        self._text[index] = [text] if text else []

    def add_thinking(self, index: int, text: str) -> None:
        self._text[index].append(text)

    def add_signature(self, index: int, signature: str) -> None:
        self._blocks[index]["signature"] += signature

    def add_redacted(self, index: int, data: str) -> None:
        self._blocks[index] = {"type": "redacted_thinking", "data": data}

    def blocks(self) -> tuple[dict[str, Any], ...]:
        return tuple(
            {**block, "thinking": "".join(self._text[index])}
            if block["type"] == "thinking"
            else block
            for index, block in sorted(self._blocks.items())
        )


def fold_usage(
    progress: StreamProgress, usage: Usage | MessageDeltaUsage, uncached_input: int
) -> int:
    """Report the SDK's (cumulative) usage to ``progress``; returns the uncached input count.

    Anthropic's ``input_tokens`` excludes prompt-cache reads and writes; ours includes them.
    """
    if usage.input_tokens is not None:
        uncached_input = usage.input_tokens
    known = progress.tokens
    cache_read = usage.cache_read_input_tokens
    cache_write = usage.cache_creation_input_tokens
    cache_read = known.cache_read if cache_read is None else cache_read
    cache_write = known.cache_write if cache_write is None else cache_write
    details = getattr(usage, "output_tokens_details", None)  # anthropic SDK >= 2 reports it
    progress.report(
        TokenCounts(
            input=uncached_input + cache_read + cache_write,
            output=usage.output_tokens,
            cache_read=cache_read,
            cache_write=cache_write,
            reasoning=known.reasoning if details is None else details.thinking_tokens,
        )
    )
    return uncached_input
