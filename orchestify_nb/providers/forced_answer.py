"""Typed answers from Claude models that predate the Messages API's structured output: the
schema is offered as one tool the model is forced to call, and that call's input is the answer.

Why only there: a forced tool call constrains less (the input is not grammar-bound), so models
with ``output_config`` use it. The call is turned back into answer text (its JSON) with a
``stop`` finish, so validation, repair and rendering are the same either way.
"""

from __future__ import annotations

from typing import Any

from orchestify_nb.providers.structured import asked_schema
from orchestify_nb.providers.types import LLMRequest

#: The forced tool's name (the answer's JSON is its input).
ANSWER_TOOL = "answer"

#: Claude model families without structured output (``output_config``); later ones have it.
_NO_STRUCTURED_OUTPUT_PREFIXES = (
    "claude-2",
    "claude-instant",
    "claude-3",
    "claude-sonnet-4-0",
    "claude-sonnet-4-2025",
    "claude-opus-4-0",
    "claude-opus-4-2025",
)


def uses_answer_tool(request: LLMRequest) -> bool:
    """A typed request to a model without structured output (and no tools of its own)."""
    return (
        request.output_schema is not None
        and not request.tools
        and (request.model or "").startswith(_NO_STRUCTURED_OUTPUT_PREFIXES)
    )


def answer_tool_arguments(request: LLMRequest) -> dict[str, Any]:
    """The Messages API arguments that force the answer through the ``answer`` tool."""
    assert request.output_schema is not None
    schema, _strict = asked_schema(request.output_schema)
    tool = {
        "name": ANSWER_TOOL,
        "description": f"Give the answer as {request.output_schema.name}.",
        "input_schema": schema,
    }
    return {"tools": [tool], "tool_choice": {"type": "tool", "name": ANSWER_TOOL}}


def answer_finish(finish_reason: str | None, forced: bool) -> str | None:
    """The forced call ended the turn as a tool call; for the caller the answer is complete."""
    return "stop" if forced and finish_reason == "tool_calls" else finish_reason
