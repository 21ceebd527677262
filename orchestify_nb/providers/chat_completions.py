"""The Chat Completions API's shape, spoken by ``OpenAIProvider`` and ``LiteLLMProvider``:
request arguments, our turns as its messages, its usage, its answers and chunk streams as our
events, and what its reasoning models accept.
"""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from typing import Any, Protocol

from orchestify_nb.providers._sdk import map_finish_reason
from orchestify_nb.providers.content import ContentPart, TextPart, chat_content, media_parts
from orchestify_nb.providers.requests import OptionProblem
from orchestify_nb.providers.structured import asked_schema
from orchestify_nb.providers.types import (
    LLMMessage,
    LLMRequest,
    ProviderEvent,
    StreamEnd,
    StreamEvent,
    StreamProgress,
    TokenCounts,
    ToolCallDelta,
    ToolSpec,
)
from orchestify_nb.providers.wire_format import (
    api_finish_reason,
    check_answer,
    check_event_stream,
    empty_stream,
)

#: Reasoning models (o-series, gpt-5 and later, except the ``-chat`` variants): they take
#: ``max_completion_tokens`` and ``reasoning_effort``, and reject sampling options.
_REASONING_MODEL = re.compile(r"^(o[1-9]|gpt-(?:[5-9]|\d\d))(?!.*-chat)")
_SAMPLING_OPTIONS = ("top_p", "presence_penalty", "frequency_penalty", "logprobs")

#: ``thinking=`` token budget -> ``reasoning_effort``: the first row whose ceiling it fits under.
_EFFORT_BY_BUDGET: tuple[tuple[float, str], ...] = (
    (4096, "low"),
    (16384, "medium"),
    (float("inf"), "high"),
)

#: Chat Completions ``finish_reason`` -> our vocabulary.
FINISH_REASONS: Mapping[str, str] = {
    "stop": "stop",
    "length": "length",
    "tool_calls": "tool_calls",
    "function_call": "tool_calls",
    "content_filter": "content_filter",
}

PASSTHROUGH_OPTIONS = frozenset(
    {
        "top_p",
        "stop",
        "seed",
        "presence_penalty",
        "frequency_penalty",
        "logit_bias",
        "logprobs",
        "top_logprobs",
        "tool_choice",
        "parallel_tool_calls",
        "response_format",
        "user",
        "metadata",
        "service_tier",
        "reasoning_effort",
        "verbosity",
        "prompt_cache_key",
        "extra_headers",
        "extra_query",
        "extra_body",
    }
)


def is_reasoning_model(model: str) -> bool:
    return bool(_REASONING_MODEL.match(model.rsplit("/", 1)[-1]))


def reasoning_problem(request: LLMRequest) -> OptionProblem | None:
    """Sampling options reasoning models reject (also checked for them through LiteLLM)."""
    if not is_reasoning_model(request.model):
        return None
    rejected = [name for name in _SAMPLING_OPTIONS if name in request.options]
    if request.temperature is not None:
        rejected.insert(0, "temperature")
    if not rejected:
        return None
    return (
        f"reasoning models do not accept {', '.join(rejected)}",
        "Drop those options, or use thinking= to steer the reasoning effort.",
    )


def reasoning_effort(budget: int) -> str:
    return next(effort for ceiling, effort in _EFFORT_BY_BUDGET if budget <= ceiling)


def chat_arguments(request: LLMRequest, *, thinking_blocks: bool = False) -> dict[str, Any]:
    """Chat Completions arguments common to the OpenAI SDK and ``litellm.acompletion``
    (``thinking_blocks``: see ``to_chat_messages``)."""
    arguments: dict[str, Any] = {
        "model": request.model,
        "messages": to_chat_messages(
            request.messages, request.system, thinking_blocks=thinking_blocks
        ),
        "max_tokens": request.max_tokens,
    }
    if request.temperature is not None:
        arguments["temperature"] = request.temperature
    if request.tools:
        arguments["tools"] = [to_chat_tool(tool) for tool in request.tools]
    if request.output_schema is not None:  # strict json_schema where the schema allows it
        schema, strict = asked_schema(request.output_schema)
        arguments["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": request.output_schema.name, "schema": schema, "strict": strict},
        }
    return arguments


def to_chat_tool(tool: ToolSpec) -> dict[str, Any]:
    function: dict[str, Any] = {"name": tool.name, "parameters": tool.parameters}
    if tool.description:
        function["description"] = tool.description
    return {"type": "function", "function": function}


def to_chat_messages(
    messages: list[LLMMessage], system: str | None, *, thinking_blocks: bool = False
) -> list[dict[str, Any]]:
    """Our turns as Chat Completions messages (the system prompt first, tool calls as
    ``tool_calls`` with JSON-encoded arguments, tool results as ``tool`` messages).

    With ``thinking_blocks`` (LiteLLM), an assistant turn's ``provider_blocks`` go back as the
    message's ``thinking_blocks`` field, which LiteLLM puts first in the Anthropic turn; the
    OpenAI API has no such field, so ``OpenAIProvider`` never sends them.

    A ``tool`` message holds text only: images a tool returned follow the run of tool messages
    in one user message (a user turn between them would break the tool calls' sequence)."""
    turns: list[dict[str, Any]] = [{"role": "system", "content": system}] if system else []
    returned: list[ContentPart] = []  # images of the current run of tool results
    for message in messages:
        if message.role != "tool" and returned:
            turns.append(_returned_images(returned))
            returned = []
        if message.role == "tool":
            returned.extend(media_parts(message.content))
            turns.append(
                {"role": "tool", "tool_call_id": message.tool_call_id, "content": message.text}
            )
        elif message.role == "assistant" and message.tool_calls:
            turns.append(
                {
                    "role": "assistant",
                    "content": message.text or None,
                    "tool_calls": [
                        {
                            "id": call.id,
                            "type": "function",
                            "function": {
                                "name": call.name,
                                "arguments": json.dumps(call.arguments),
                            },
                        }
                        for call in message.tool_calls
                    ],
                }
            )
        else:
            turns.append({"role": message.role, "content": chat_content(message.content)})
        if thinking_blocks and message.provider_blocks:
            turns[-1]["thinking_blocks"] = list(message.provider_blocks)
    if returned:
        turns.append(_returned_images(returned))
    return turns


def _returned_images(parts: list[ContentPart]) -> dict[str, Any]:
    """The user message carrying what the tool calls above returned besides text."""
    names = ", ".join(part.name for part in parts if not isinstance(part, TextPart))
    shown = (TextPart(f"What the tool calls above returned besides text ({names}):"), *parts)
    return {"role": "user", "content": chat_content(shown)}


def fold_chat_usage(progress: StreamProgress, usage: Any) -> None:
    """Report a Chat Completions usage object to ``progress``.

    ``prompt_tokens`` already counts cached tokens and ``completion_tokens`` the reasoning ones,
    which is our convention.
    """
    prompt = getattr(usage, "prompt_tokens_details", None)
    completion = getattr(usage, "completion_tokens_details", None)
    progress.report(
        TokenCounts(
            input=usage.prompt_tokens or 0,
            output=usage.completion_tokens or 0,
            cache_read=getattr(prompt, "cached_tokens", None) or 0,
            cache_write=getattr(prompt, "cache_write_tokens", None) or 0,
            reasoning=getattr(completion, "reasoning_tokens", None) or 0,
        )
    )


def completion_events(
    completion: Any,
    progress: StreamProgress,
    provider_blocks: tuple[dict[str, Any], ...] = (),
) -> Iterator[ProviderEvent]:
    """A non-streamed Chat Completions answer as the events a stream of it would give."""
    check_answer(completion, "choices")
    progress.model = completion.model or progress.model
    if completion.usage is not None:
        fold_chat_usage(progress, completion.usage)
    choice = completion.choices[0]
    message = choice.message
    reasoning = getattr(message, "reasoning_content", None)
    if reasoning:
        yield StreamEvent("thinking", reasoning)
    if message.content:
        yield StreamEvent("text", message.content)
    for index, call in enumerate(message.tool_calls or ()):
        arguments = call.function.arguments or ""
        yield StreamEvent.tool_call_delta(
            ToolCallDelta(index, call.id, call.function.name, arguments)
        )
    yield StreamEnd(
        map_finish_reason(FINISH_REASONS, choice.finish_reason), provider_blocks, completion
    )


class DeltaBlocks(Protocol):
    """Gathers the provider blocks of a stream from its non-text deltas (LiteLLM's
    ``thinking_blocks``) for the final response's ``provider_blocks``."""

    def add(self, delta: Any) -> None: ...

    def blocks(self) -> tuple[dict[str, Any], ...]: ...


def stream_chat(
    create: Callable[..., Awaitable[Any]],
    arguments: dict[str, Any],
    progress: StreamProgress,
    provider_blocks: DeltaBlocks | None = None,
) -> AsyncIterator[ProviderEvent]:
    """Open a Chat Completions stream with ``create`` (the SDK's or LiteLLM's), asking for its
    usage, and translate it."""

    async def open_stream() -> Any:
        return await create(**arguments, stream=True, stream_options={"include_usage": True})

    return stream_chat_events(open_stream, progress, provider_blocks)


async def stream_chat_events(
    open_stream: Callable[[], Awaitable[Any]],
    progress: StreamProgress,
    provider_blocks: DeltaBlocks | None = None,
) -> AsyncIterator[ProviderEvent]:
    """Translate a Chat Completions chunk stream into our events; ``StreamEnd`` only once a
    chunk carried a ``finish_reason`` (the API's end marker: a stream cut before it is
    incomplete, whatever text came).

    Tool calls arrive as fragments keyed by ``index``: the first names the call, the rest append
    JSON text. ``reasoning_content`` (vLLM, llama.cpp, LiteLLM) becomes thinking deltas; deltas
    without text or tool calls also go to ``provider_blocks`` when given. An answer that is not
    an event stream, or one that ended with neither text nor an end marker, is a
    ``ResponseFormatError``.
    """
    stream = await open_stream()
    finish_reason: str | None = None
    spoke = False
    try:
        content_type = await check_event_stream(stream)
        async for chunk in stream:
            choices = chunk.choices
            if choices:
                choice = choices[0]
                delta = choice.delta
                content = delta.content
                if content:  # the hot path: one text fragment per chunk
                    spoke = True
                    yield StreamEvent("text", content)
                elif delta.tool_calls:
                    spoke = True
                    for call in delta.tool_calls:
                        yield StreamEvent.tool_call_delta(_tool_fragment(call))
                else:
                    reasoning = getattr(delta, "reasoning_content", None)
                    if reasoning:
                        spoke = True
                        yield StreamEvent("thinking", reasoning)
                    if provider_blocks is not None:
                        provider_blocks.add(delta)
                if choice.finish_reason:
                    finish_reason = choice.finish_reason
            usage = getattr(chunk, "usage", None)  # LiteLLM chunks lack the field until the end
            if usage is not None:
                progress.model = chunk.model or progress.model
                fold_chat_usage(progress, usage)
    finally:
        await _close_stream(stream)
    finish_reason = api_finish_reason(stream, finish_reason)
    if finish_reason is None and not spoke:
        raise empty_stream(content_type)
    if finish_reason is not None:
        blocks = provider_blocks.blocks() if provider_blocks is not None else ()
        yield StreamEnd(map_finish_reason(FINISH_REASONS, finish_reason), blocks)


def _tool_fragment(call: Any) -> ToolCallDelta:
    function = call.function
    name = function.name if function is not None else None
    fragment = (function.arguments if function is not None else None) or ""
    return ToolCallDelta(index=call.index, id=call.id, name=name, arguments_delta=fragment)


async def _close_stream(stream: Any) -> None:
    """Release the HTTP response: ``aclose()`` (LiteLLM) or ``close()`` (the OpenAI SDK)."""
    aclose = getattr(stream, "aclose", None)
    result = aclose() if aclose is not None else getattr(stream, "close", lambda: None)()
    if inspect.isawaitable(result):
        await result
