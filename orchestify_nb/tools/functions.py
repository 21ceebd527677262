"""Python functions as tools: the JSON schema from the signature (pydantic), the description
from the docstring, and the model's arguments validated before the function runs.

A plain function with type hints is enough; ``@tool`` only renames or describes it. Every tool,
a function's or an MCP server's, is a ``Tool``: what the model is offered (``spec()``) and one
``call(arguments)`` coroutine returning the text sent back as the result.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import json
import re
import typing
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar, overload

from orchestify_nb.errors import ToolDefinitionError
from orchestify_nb.providers.content import (
    Content,
    DocumentPart,
    ImagePart,
    TextPart,
    normalize_content,
)
from orchestify_nb.providers.types import ToolSpec

F = TypeVar("F", bound=Callable[..., Any])

#: What both the Messages and the Chat Completions APIs accept as a tool name.
_WIRE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_TOOL_ATTRIBUTE = "__orchestify_tool__"


class ToolArgumentsError(ValueError):
    """The model's arguments do not fit the tool's signature; sent back to the model as is."""


@dataclass(frozen=True, slots=True)
class Tool:
    """One tool the model may call.

    ``name`` is what users write (``get_weather``, ``docs.search`` for an MCP server's tool);
    ``wire_name`` is what the API sees (dots are not allowed there). ``call`` validates the
    arguments, runs the tool and returns the result as text, or content parts for an image
    (``result_content``); it raises ``ToolArgumentsError`` for arguments that do not fit, and
    whatever the tool raises.
    """

    name: str
    description: str
    parameters: dict[str, Any]
    call: Callable[[dict[str, Any]], Awaitable[Content]] = field(repr=False, compare=False)
    wire_name: str = ""

    def __post_init__(self) -> None:
        if not self.wire_name:
            object.__setattr__(self, "wire_name", self.name.replace(".", "__"))
        if not _WIRE_NAME.match(self.wire_name):
            raise ToolDefinitionError(
                f"tool name {self.name!r} cannot be sent to a model: use letters, digits, _ and - "
                "only, at most 64 characters (rename it with @tool(name=...))"
            )

    def spec(self) -> ToolSpec:
        return ToolSpec(
            name=self.wire_name, description=self.description, parameters=self.parameters
        )


@overload
def tool(function: F, /) -> F: ...
@overload
def tool(*, name: str | None = None, description: str | None = None) -> Callable[[F], F]: ...
def tool(
    function: F | None = None, /, *, name: str | None = None, description: str | None = None
) -> F | Callable[[F], F]:
    """Mark a function as a tool, optionally renamed or described (``@tool`` or
    ``@tool(name=..., description=...)``). The function itself is returned unchanged, so it
    can still be called directly; an undecorated function is a tool too."""

    def mark(target: F) -> F:
        setattr(target, _TOOL_ATTRIBUTE, (name, description))
        return target

    return mark(function) if function is not None else mark


def as_tool(value: Tool | Callable[..., Any]) -> Tool:
    """A ``Tool`` as is, or a function (sync or async) made into one."""
    if isinstance(value, Tool):
        return value
    if not callable(value):
        raise ToolDefinitionError(
            f"{value!r} is not a tool: pass a function with type hints, or a Tool"
        )
    name, description = getattr(value, _TOOL_ATTRIBUTE, (None, None))
    function_name = getattr(value, "__name__", type(value).__name__)
    validate = _argument_validator(value, function_name)
    schema = validate.json_schema()
    return Tool(
        name=name or function_name,
        description=description or inspect.getdoc(value) or "",
        parameters=schema,
        call=functools.partial(_run_function, value, validate),
    )


class _ArgumentValidator:
    """The function's parameters as a pydantic model: its schema, and validation of the model's
    arguments into keyword arguments (unknown names refused, values coerced as pydantic does)."""

    def __init__(self, model: Any, names: list[str]) -> None:
        self.model = model
        self.names = names

    def json_schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = self.model.model_json_schema()
        schema.pop("title", None)
        for spec in schema.get("properties", {}).values():
            spec.pop("title", None)
        return schema

    def keyword_arguments(self, arguments: dict[str, Any]) -> dict[str, Any]:
        from pydantic import ValidationError

        if "_raw" in arguments and "_raw" not in self.names:
            raise ToolArgumentsError(
                f"the arguments were not a JSON object: {arguments['_raw'][:200]!r}"
            )
        try:
            validated = self.model.model_validate(arguments)
        except ValidationError as error:
            problems = "; ".join(
                f"{'.'.join(str(part) for part in item['loc']) or 'arguments'}: {item['msg']}"
                for item in error.errors()
            )
            raise ToolArgumentsError(f"invalid arguments: {problems}") from None
        return {name: getattr(validated, name) for name in self.names}


def _argument_validator(function: Callable[..., Any], function_name: str) -> _ArgumentValidator:
    from pydantic import ConfigDict, create_model

    try:
        signature = inspect.signature(function)
        hints = typing.get_type_hints(function, include_extras=True)
    except (TypeError, ValueError, NameError) as error:
        raise ToolDefinitionError(
            f"cannot read the signature of {function_name}: {error}; tools need a plain "
            "signature with type hints that resolve"
        ) from None
    fields: dict[str, Any] = {}
    for parameter in signature.parameters.values():
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            raise ToolDefinitionError(
                f"{function_name} takes *{parameter.name}: a tool's arguments must be named "
                "parameters, so the model knows what to send"
            )
        default = ... if parameter.default is parameter.empty else parameter.default
        fields[parameter.name] = (hints.get(parameter.name, Any), default)
    model = create_model(
        f"{function_name}_arguments", __config__=ConfigDict(extra="forbid"), **fields
    )
    return _ArgumentValidator(model, list(fields))


async def _run_function(
    function: Callable[..., Any], validate: _ArgumentValidator, arguments: dict[str, Any]
) -> Content:
    """Validate, then run: a coroutine function on this loop, a plain one in a thread (so the
    calls of one turn run side by side and the loop stays responsive)."""
    keywords = validate.keyword_arguments(arguments)
    if inspect.iscoroutinefunction(function):
        result = await function(**keywords)
    else:
        result = await asyncio.to_thread(function, **keywords)
        if inspect.isawaitable(result):
            result = await result
    return result_content(result)


def result_content(result: Any) -> Content:
    """What a tool returned, as the model reads it: an image (a matplotlib figure, a PIL
    image, an ``ImagePart``) or a list of strings and parts as content parts, rendered as
    ``@{name}`` renders them; anything else as text (``result_text``)."""
    if isinstance(result, TextPart | ImagePart | DocumentPart):
        return normalize_content([result])
    if (
        isinstance(result, list | tuple)
        and all(isinstance(item, str | TextPart | ImagePart | DocumentPart) for item in result)
        and any(isinstance(item, ImagePart | DocumentPart) for item in result)
    ):
        return normalize_content(result)
    module = type(result).__module__.split(".", 1)[0]
    if module in ("matplotlib", "PIL"):
        from orchestify_nb.context import render

        shown = render(result)
        if shown.parts:
            return shown.parts
    return result_text(result)


def result_text(result: Any) -> str:
    """What a tool returned, as the text the model reads: strings as they are, pydantic models
    and other values as JSON."""
    if isinstance(result, str):
        return result
    dump = getattr(result, "model_dump_json", None)
    if callable(dump):
        return str(dump())
    try:
        return json.dumps(result, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return str(result)
