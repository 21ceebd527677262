"""OpenAI Chat Completions through the official ``openai`` SDK's ``AsyncOpenAI``.

With a custom ``base_url`` the same provider talks to anything that speaks the API: proxies,
Azure-style gateways, vLLM, a llama.cpp server, a LiteLLM Proxy; model names are then the
server's and are not checked here. The chunk and completion translation at the bottom is shared
with ``LiteLLMProvider``, whose responses have the same shape.
"""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any, ClassVar, Protocol
from urllib.parse import urlsplit

from orchestify_nb.errors import (
    ModelNotSupportedError,
)
from orchestify_nb.providers._sdk import (
    OptionProblem,
    SDKClientProvider,
    build_response,
    map_finish_reason,
    parse_tool_arguments,
    raise_option_problem,
    unknown_options,
)
from orchestify_nb.providers.base import LLMProvider
from orchestify_nb.providers.types import (
    LLMMessage,
    LLMRequest,
    LLMResponse,
    StreamEvent,
    StreamProgress,
    ToolCall,
    ToolCallDelta,
    ToolSpec,
)

#: Current models (named by the installed SDK, not deprecated, priced), newest first.
OPENAI_MODELS: tuple[str, ...] = (
    "gpt-6.1-sol",
    "gpt-6-luna",
    "gpt-5.6-sol",
    "gpt-5.6-terra",
    "gpt-5.6-luna",
    "gpt-5.5",
    "gpt-5.4",
    "gpt-5.4-mini",
    "gpt-4.1",
    "gpt-4o",
)

#: Name prefixes of models api.openai.com serves through Chat Completions.
_OPENAI_PREFIXES = ("gpt-", "o1", "o3", "o4", "chatgpt-", "ft:", "codex-")

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


class OpenAIProvider(SDKClientProvider):
    """OpenAI models, or any OpenAI-compatible server named by ``base_url``."""

    provider_type: ClassVar[str] = "openai"
    api_key_env: ClassVar[str | None] = "OPENAI_API_KEY"
    sdk_module: ClassVar[str] = "openai"
    sdk_extra: ClassVar[str] = "openai"
    client_class: ClassVar[str] = "AsyncOpenAI"
    catalog: ClassVar[tuple[str, ...]] = OPENAI_MODELS

    @classmethod
    def fallback_model(cls) -> str | None:
        return "gpt-5.4-mini"

    @property
    def serves_any_model(self) -> bool:
        """A custom ``base_url`` serves its own model names, whatever they look like."""
        return self.base_url is not None and urlsplit(self.base_url).hostname != "api.openai.com"

    @property
    def requires_api_key(self) -> bool:
        return not self.serves_any_model  # llama.cpp and vLLM servers often take no key

    def known_models(self) -> list[str]:
        return LLMProvider.known_models(self) if self.serves_any_model else super().known_models()

    def validate_model(self, model: str) -> None:
        if self.serves_any_model or model.startswith(_OPENAI_PREFIXES):
            return
        raise ModelNotSupportedError(
            f"{model!r} is not an OpenAI model",
            provider_id=self.provider_id,
            model=model,
            hint=(
                f"Pick an OpenAI model such as {OPENAI_MODELS[0]}; for a model served elsewhere "
                "set base_url to that server, or use a litellm or anthropic provider."
            ),
        )

    def supports_thinking(self, model: str | None = None) -> bool:
        return is_reasoning_model(model or self.default_model or "")

    def validate_options(self, request: LLMRequest) -> None:
        super().validate_options(request)
        problem = unknown_options(request, PASSTHROUGH_OPTIONS) or reasoning_problem(request)
        raise_option_problem(self.provider_id, request, problem)

    # ---------------------------------------------------------------------------- translation
    def _arguments(self, request: LLMRequest) -> dict[str, Any]:
        arguments = chat_arguments(request)
        if is_reasoning_model(request.model):
            arguments["max_completion_tokens"] = arguments.pop("max_tokens")
            if request.thinking is not None:
                arguments["reasoning_effort"] = reasoning_effort(request.thinking)
        arguments.update(request.options)
        return arguments

    async def _complete(self, request: LLMRequest, progress: StreamProgress) -> LLMResponse:
        progress.model = request.model
        completion = await self._clients.get().chat.completions.create(**self._arguments(request))
        return response_from_completion(completion, progress)

    def _stream(self, request: LLMRequest, progress: StreamProgress) -> AsyncIterator[StreamEvent]:
        progress.model = request.model
        arguments = self._arguments(request)

        async def open_stream() -> Any:
            return await self._clients.get().chat.completions.create(
                **arguments, stream=True, stream_options={"include_usage": True}
            )

        return stream_chat_events(open_stream, progress)


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


# ---------------------------------------------------- the Chat Completions shape (also LiteLLM)
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
    OpenAI API has no such field, so ``OpenAIProvider`` never sends them."""
    turns: list[dict[str, Any]] = [{"role": "system", "content": system}] if system else []
    for message in messages:
        if message.role == "tool":
            turns.append(
                {"role": "tool", "tool_call_id": message.tool_call_id, "content": message.content}
            )
        elif message.role == "assistant" and message.tool_calls:
            turns.append(
                {
                    "role": "assistant",
                    "content": message.content or None,
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
            turns.append({"role": message.role, "content": message.content})
        if thinking_blocks and message.provider_blocks:
            turns[-1]["thinking_blocks"] = list(message.provider_blocks)
    return turns


def fold_chat_usage(progress: StreamProgress, usage: Any) -> None:
    """Fold a Chat Completions usage object into ``progress``.

    ``prompt_tokens`` already counts cached tokens and ``completion_tokens`` the reasoning ones,
    which is our convention.
    """
    progress.tokens_input = usage.prompt_tokens or 0
    progress.tokens_output = usage.completion_tokens or 0
    prompt = getattr(usage, "prompt_tokens_details", None)
    if prompt is not None:
        progress.cache_read_tokens = getattr(prompt, "cached_tokens", None) or 0
        progress.cache_write_tokens = getattr(prompt, "cache_write_tokens", None) or 0
    completion = getattr(usage, "completion_tokens_details", None)
    if completion is not None:
        progress.reasoning_tokens = getattr(completion, "reasoning_tokens", None) or 0


def response_from_completion(completion: Any, progress: StreamProgress) -> LLMResponse:
    """A non-streamed Chat Completions answer as an ``LLMResponse``."""
    progress.model = completion.model or progress.model
    if completion.usage is not None:
        fold_chat_usage(progress, completion.usage)
    choice = completion.choices[0]
    message = choice.message
    tool_calls = [
        ToolCall(
            id=call.id,
            name=call.function.name,
            arguments=parse_tool_arguments(call.function.arguments or ""),
        )
        for call in message.tool_calls or ()
    ]
    return build_response(
        progress,
        content=message.content or "",
        thinking=getattr(message, "reasoning_content", None) or "",
        tool_calls=tool_calls,
        finish_reason=map_finish_reason(FINISH_REASONS, choice.finish_reason),
        raw=completion,
    )


class DeltaBlocks(Protocol):
    """Gathers the provider blocks of a stream from its non-text deltas (LiteLLM's
    ``thinking_blocks``) for the final response's ``provider_blocks``."""

    def add(self, delta: Any) -> None: ...

    def blocks(self) -> tuple[dict[str, Any], ...]: ...


async def stream_chat_events(
    open_stream: Callable[[], Awaitable[Any]],
    progress: StreamProgress,
    provider_blocks: DeltaBlocks | None = None,
) -> AsyncIterator[StreamEvent]:
    """Translate a Chat Completions chunk stream into our events, then the final ``done``.

    Tool calls arrive as fragments keyed by ``index``: the first names the call, the rest append
    JSON text. ``reasoning_content`` (vLLM, llama.cpp, LiteLLM) becomes thinking deltas; deltas
    without text or tool calls also go to ``provider_blocks`` when given.
    """
    stream = await open_stream()
    text: list[str] = []
    thinking: list[str] = []
    tool_heads: dict[int, list[str]] = {}  # index -> [id, name]
    tool_arguments: dict[int, list[str]] = {}
    finish_reason: str | None = None
    try:
        async for chunk in stream:
            choices = chunk.choices
            if choices:
                choice = choices[0]
                delta = choice.delta
                content = delta.content
                if content:  # the hot path: one text fragment per chunk
                    text.append(content)
                    yield StreamEvent("text", content)
                elif delta.tool_calls:
                    for call in delta.tool_calls:
                        yield _tool_fragment(call, tool_heads, tool_arguments)
                else:
                    reasoning = getattr(delta, "reasoning_content", None)
                    if reasoning:
                        thinking.append(reasoning)
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
    tool_calls = [
        ToolCall(
            id=tool_heads[index][0],
            name=tool_heads[index][1],
            arguments=parse_tool_arguments("".join(tool_arguments[index])),
        )
        for index in sorted(tool_heads)
    ]
    yield StreamEvent.done(
        build_response(
            progress,
            content="".join(text),
            thinking="".join(thinking),
            tool_calls=tool_calls,
            finish_reason=map_finish_reason(FINISH_REASONS, finish_reason),
            raw=None,
            provider_blocks=provider_blocks.blocks() if provider_blocks is not None else (),
        )
    )


def _tool_fragment(
    call: Any, heads: dict[int, list[str]], arguments: dict[int, list[str]]
) -> StreamEvent:
    function = call.function
    name = function.name if function is not None else None
    fragment = (function.arguments if function is not None else None) or ""
    head = heads.setdefault(call.index, ["", ""])
    if call.id:
        head[0] = call.id
    if name:
        head[1] = name
    arguments.setdefault(call.index, []).append(fragment)
    return StreamEvent.tool_call_delta(
        ToolCallDelta(index=call.index, id=call.id, name=name, arguments_delta=fragment)
    )


async def _close_stream(stream: Any) -> None:
    """Release the HTTP response: ``aclose()`` (LiteLLM) or ``close()`` (the OpenAI SDK)."""
    aclose = getattr(stream, "aclose", None)
    result = aclose() if aclose is not None else getattr(stream, "close", lambda: None)()
    if inspect.isawaitable(result):
        await result
