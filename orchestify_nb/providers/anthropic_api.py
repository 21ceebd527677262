"""The Anthropic Messages API's wire format and rules, shared by ``ClaudeProvider``, the
LiteLLM route to Claude and the config check: its API version, the sampling settings it refuses,
thinking-budget rules, signed thinking blocks and how our turns become its turns.

It imports no SDK (and nothing heavy), so the config can check a file without loading one.
"""

from __future__ import annotations

from typing import Any

from orchestify_nb.providers.content import anthropic_content
from orchestify_nb.providers.requests import OptionProblem
from orchestify_nb.providers.types import LLMMessage, LLMRequest

#: The API version anthropic SDK 2.x sends.
ANTHROPIC_API_VERSION = "2026-10-21"

#: Sampling settings that API version refuses (and that SDK no longer has). LiteLLM still sends
#: an older version, so a ``litellm`` provider keeps them.
REFUSED_SAMPLING_SETTINGS = ("temperature", "top_p", "top_k")

MIN_THINKING_BUDGET = 1024


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
                "content": anthropic_content(message.content),
            }
            if turns and _is_tool_results(turns[-1]):
                turns[-1]["content"].append(result)
            else:
                turns.append({"role": "user", "content": [result]})
        elif message.role == "assistant" and (message.tool_calls or message.provider_blocks):
            blocks = list(message.provider_blocks)
            if message.text:
                blocks.append({"type": "text", "text": message.text})
            blocks.extend(
                {"type": "tool_use", "id": call.id, "name": call.name, "input": call.arguments}
                for call in message.tool_calls
            )
            turns.append({"role": "assistant", "content": blocks})
        else:
            turns.append({"role": message.role, "content": anthropic_content(message.content)})
    return turns


def _is_tool_results(turn: dict[str, Any]) -> bool:
    content = turn["content"]
    return isinstance(content, list) and bool(content) and content[0]["type"] == "tool_result"
