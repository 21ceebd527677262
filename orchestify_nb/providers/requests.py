"""Checking a call's arguments into an ``LLMRequest``: the one validation every surface shares.

``complete()``, ``stream()``, the magics, the panel and batch runs all build their request here,
once, so a value the API would refuse (``max_tokens=-1``, ``temperature=nan``, a lone surrogate
in the prompt) is the same clear error whichever way it came in, and nothing is sent.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from numbers import Real
from typing import Any

from orchestify_nb.errors import InvalidArgumentError
from orchestify_nb.providers.prompt_cache import PromptCacheValueError, parse_cache_prompt
from orchestify_nb.providers.structured import (
    DEFAULT_REPAIR,
    SchemaDefinitionError,
    output_schema_of,
)
from orchestify_nb.providers.types import LLMMessage, LLMRequest, ToolSpec

#: What ``complete()``/``stream()`` take as the conversation: a prompt, or turns.
Messages = Sequence[LLMMessage | Mapping[str, Any]] | str

#: What is wrong with a request and how to fix it, as found before anything is sent.
OptionProblem = tuple[str, str]

#: The widest temperature range any supported API accepts (OpenAI's); narrower ones are the
#: provider's own ``validate_options``.
TEMPERATURE_RANGE = (0.0, 2.0)


def coerce_messages(messages: Messages) -> list[LLMMessage]:
    """A prompt or a list of turns (``LLMMessage`` or dicts) as ``LLMMessage`` turns."""
    if isinstance(messages, str):
        return [LLMMessage(role="user", content=messages)]
    return [m if isinstance(m, LLMMessage) else LLMMessage(**m) for m in messages]


def check_arguments(
    *,
    max_tokens: object,
    temperature: object,
    thinking: object,
) -> str | None:
    """What is wrong with the numeric arguments, or ``None``."""
    if max_tokens is not None and not _whole_at_least(max_tokens, 1):
        return f"max_tokens must be a whole number above 0, not {max_tokens!r}"
    if thinking is not None and not _whole_at_least(thinking, 0):
        return f"thinking must be a whole number of tokens, 0 or more, not {thinking!r}"
    if temperature is not None:
        return temperature_problem(temperature)
    return None


def temperature_problem(temperature: object) -> str | None:
    low, high = TEMPERATURE_RANGE
    if (
        not isinstance(temperature, Real)
        or isinstance(temperature, bool)
        or not math.isfinite(float(temperature))
    ):
        return f"temperature must be a number from {low:g} to {high:g}, not {temperature!r}"
    if float(temperature) < low:
        return f"temperature must be {low:g} or more, not {temperature!r}"
    if float(temperature) > high:
        return f"temperature must be {high:g} at most, not {temperature!r}"
    return None


def invalid_text(messages: Sequence[LLMMessage], system: str | None) -> str | None:
    """Where the conversation holds text no API can take (a lone surrogate, from a bad decode or
    a JSON escape), or ``None``. Checked here so it is a clear error, not an SDK's encode
    failure halfway through sending."""
    texts = [("the system prompt", system or "")]
    texts += [(f"message {n} ({m.role})", m.text) for n, m in enumerate(messages, 1)]
    for where, text in texts:
        if not isinstance(text, str):
            return f"{where} is a {type(text).__name__}, not text"
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as error:
            return (
                f"{where} holds invalid Unicode (a lone surrogate at character {error.start}), "
                "which cannot be sent"
            )
    return None


def build_request(
    *,
    provider_id: str,
    messages: Messages,
    model: str,
    default_max_tokens: int,
    temperature: float | None,
    max_tokens: int | None,
    system: str | None,
    tools: Sequence[ToolSpec | dict[str, Any]] | None,
    thinking: int | None,
    options: dict[str, Any],
) -> LLMRequest:
    """The checked ``LLMRequest`` (system turns folded into ``system``); raises
    ``InvalidArgumentError`` naming the argument and the fix before anything is sent."""
    problem = check_arguments(max_tokens=max_tokens, temperature=temperature, thinking=thinking)
    coerced = coerce_messages(messages)
    if problem is None and not coerced:
        problem = "there are no messages to send"
    system_parts = [m.text for m in coerced if m.role == "system"]
    if system:
        system_parts.insert(0, system)
    joined_system = "\n\n".join(system_parts) or None
    turns = [m for m in coerced if m.role != "system"]
    problem = problem or invalid_text(turns, joined_system)
    options = dict(options)
    prompt_cache = output_schema = None
    try:
        prompt_cache = parse_cache_prompt(options.pop("cache_prompt", None))
        schema = options.pop("output_schema", None)
        output_schema = None if schema is None else output_schema_of(schema)
    except (PromptCacheValueError, SchemaDefinitionError) as error:
        problem = problem or str(error)
    repair = options.pop("repair", DEFAULT_REPAIR)
    if not _whole_at_least(repair, 0):
        problem = problem or f"repair must be a whole number of turns, 0 or more, not {repair!r}"
    if problem is not None:
        raise InvalidArgumentError(
            problem,
            provider_id=provider_id,
            model=model,
            hint="Fix that argument and call again; nothing was sent.",
        )
    return LLMRequest(
        messages=turns,
        model=model,
        max_tokens=default_max_tokens if max_tokens is None else max_tokens,
        temperature=None if temperature is None else float(temperature),
        system=joined_system,
        tools=[ToolSpec.coerce(t) for t in tools or ()],
        thinking=thinking,
        options=options,
        prompt_cache=prompt_cache,
        output_schema=output_schema,
        repair=repair,
    )


def _whole_at_least(value: object, low: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= low
