"""Typed answers: ``complete(..., output_schema=S)`` returns ``resp.parsed``, an instance of ``S``.

``S`` is a pydantic model, anything pydantic's ``TypeAdapter`` takes (a dataclass, a TypedDict,
``list[Model]``, ``Literal["pos", "neg"]``), or a JSON Schema dict (then ``parsed`` is a dict,
checked with ``jsonschema``). ``OutputSchema`` is what a request carries: the JSON schema the
model is asked for and how to validate what comes back. APIs want an object at the top level, so
any other type is asked for as ``{"value": ...}`` and unwrapped.

Each backend asks in its own strongest way (the translators use ``json_schema``): Anthropic's
``output_config`` format, OpenAI's strict ``response_format`` (``strict_schema`` adjusts a schema
to strict mode's rules, or says why it cannot), LiteLLM's ``response_format``, and the local
model's JSON-schema grammar. Every answer is validated when it is recorded (``validate_answer``);
``complete()`` then sends ``repair`` turns with the validation errors (default one) and raises
``StructuredOutputError`` when the answer still does not fit. A refusal or an answer cut at
``max_tokens`` is said as such, never as a JSON parse error, and is not repaired.
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass, replace
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING, Any

from orchestify_nb.errors import StructuredOutputError

if TYPE_CHECKING:
    from orchestify_nb.providers.caching import CacheMode
    from orchestify_nb.providers.types import LLMMessage, LLMRequest, LLMResponse

logger = logging.getLogger("orchestify_nb.structured")

#: Repair turns ``complete()`` sends by default when an answer does not fit the schema.
DEFAULT_REPAIR = 1
_WRAPPED_KEY = "value"


class SchemaDefinitionError(TypeError):
    """``output_schema`` is neither a type pydantic can validate nor a JSON Schema dict."""


@dataclass(frozen=True)
class OutputSchema:
    """What the model is asked for (``json_schema``, an object) and how to read its answer."""

    name: str
    json_schema: dict[str, Any]
    source: Any
    wrapped: bool = False

    @cached_property
    def _adapter(self) -> Any:
        """The pydantic validator, built once per schema (building one takes milliseconds)."""
        from pydantic import TypeAdapter

        return TypeAdapter(self.source)

    @cached_property
    def asked(self) -> tuple[dict[str, Any], bool]:
        """The schema as sent (strict where it can be), worked out once per schema."""
        return _asked(self)

    def parse(self, text: str) -> Any:
        """The answer as the schema's type; raises ``AnswerMismatch`` with the problems."""
        try:
            data = json.loads(text)
        except ValueError as error:
            raise AnswerMismatch([f"the answer is not JSON: {error}"]) from None
        if self.wrapped:
            if not isinstance(data, dict) or _WRAPPED_KEY not in data:
                raise AnswerMismatch([f'expected an object with a "{_WRAPPED_KEY}" key'])
            data = data[_WRAPPED_KEY]
        if isinstance(self.source, dict):
            return _validate_json_schema(self.source, data)
        from pydantic import ValidationError

        try:
            return self._adapter.validate_python(data)
        except ValidationError as error:
            raise AnswerMismatch(
                [
                    f"{'.'.join(str(part) for part in item['loc']) or 'answer'}: {item['msg']}"
                    for item in error.errors()
                ]
            ) from None


class AnswerMismatch(ValueError):
    """An answer that does not fit the schema; ``problems`` says where and why."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


def output_schema_of(value: Any) -> OutputSchema:
    """``output_schema=`` as an ``OutputSchema`` (raises ``SchemaDefinitionError``); the same
    type gives the same one, so a batch builds its schema and validator once, not per row."""
    if isinstance(value, OutputSchema):
        return value
    if isinstance(value, dict):
        return _schema_of_dict(json.dumps(value, sort_keys=True, default=str))
    try:
        return _schema_of_type(value)
    except TypeError:  # unhashable: build it afresh
        return _schema_of_type.__wrapped__(value)


@lru_cache(maxsize=64)
def _schema_of_dict(text: str) -> OutputSchema:
    value = json.loads(text)
    return _object_schema(_safe_name(str(value.get("title") or "answer")), dict(value), value)


@lru_cache(maxsize=256)
def _schema_of_type(value: Any) -> OutputSchema:
    from pydantic import PydanticSchemaGenerationError, TypeAdapter

    try:
        schema = TypeAdapter(value).json_schema()
    except (PydanticSchemaGenerationError, TypeError, ValueError) as error:
        raise SchemaDefinitionError(
            f"output_schema={value!r} is not a type pydantic can validate ({error}); pass a "
            "pydantic model, a dataclass, a TypedDict, list[Model], Literal[...] or a JSON "
            "Schema dict"
        ) from None
    name = getattr(value, "__name__", None) or str(schema.get("title") or "answer")
    return _object_schema(_safe_name(name), schema, value)


def _object_schema(name: str, schema: dict[str, Any], source: Any) -> OutputSchema:
    if schema.get("type") == "object":
        return OutputSchema(name, schema, source)
    definitions = schema.pop("$defs", None)
    wrapper: dict[str, Any] = {
        "type": "object",
        "properties": {_WRAPPED_KEY: schema},
        "required": [_WRAPPED_KEY],
        "additionalProperties": False,
    }
    if definitions:
        wrapper["$defs"] = definitions
    return OutputSchema(name, wrapper, source, wrapped=True)


def _safe_name(name: str) -> str:
    """A schema name the APIs accept (letters, digits, ``_`` and ``-``, at most 64)."""
    cleaned = "".join(c if c.isalnum() or c in "_-" else "_" for c in name)
    return cleaned[:64] or "answer"


def _validate_json_schema(schema: dict[str, Any], data: Any) -> Any:
    try:
        import jsonschema
    except ImportError:  # pragma: no cover - jsonschema comes with nbformat and litellm
        return data
    validator = jsonschema.Draft202012Validator(schema)
    problems = [
        f"{'.'.join(str(p) for p in error.absolute_path) or 'answer'}: {error.message}"
        for error in validator.iter_errors(data)
    ]
    if problems:
        raise AnswerMismatch(problems)
    return data


def strict_schema(schema: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """``schema`` under strict structured-output rules (OpenAI's strict mode; Anthropic's
    closed objects): every object closed and every property required (a field with a default
    is then always sent, which validates the same), ``default``/``title`` dropped. An open
    mapping such as ``dict[str, int]`` has no closed form: the schema is returned as it was,
    with the reason."""
    problem: list[str] = []

    def visit(node: Any, where: str) -> Any:
        if isinstance(node, list):
            return [visit(item, where) for item in node]
        if not isinstance(node, dict):
            return node
        result = {
            key: visit(value, f"{where}.{key}" if key != "properties" else where)
            for key, value in node.items()
            if key not in ("default", "title")
        }
        if result.get("type") == "object" or "properties" in result:
            if node.get("additionalProperties") not in (None, False) and not problem:
                problem.append(f"{where.lstrip('.') or 'the answer'} allows any keys (a dict)")
            result["required"] = list(result.get("properties", {}))
            result["additionalProperties"] = False
        return result

    adjusted = visit(schema, "")
    return (schema, problem[0]) if problem else (adjusted, None)


def asked_schema(schema: OutputSchema) -> tuple[dict[str, Any], bool]:
    """The schema to send, and whether it is strict (logged when it cannot be)."""
    return schema.asked


def _asked(schema: OutputSchema) -> tuple[dict[str, Any], bool]:
    adjusted, problem = strict_schema(schema.json_schema)
    if problem is not None:
        logger.warning(
            "output_schema %s cannot be sent in strict mode (%s); the answer is still "
            "validated, and repaired if it does not fit",
            schema.name,
            problem,
        )
    return adjusted, problem is None


def repair_message(problems: list[str]) -> str:
    """The user turn that asks for an answer that fits, with what was wrong."""
    listed = "\n".join(f"- {problem}" for problem in problems[:20])
    return (
        "Your answer did not match the required JSON schema:\n"
        f"{listed}\n"
        "Answer again with only the JSON, matching the schema exactly."
    )


def validate_answer(request: LLMRequest, response: LLMResponse) -> list[str]:
    """Set ``response.parsed`` from its text, or ``response.schema_problems`` to what is wrong
    (also returned; empty when the answer fits or no schema was asked for)."""
    schema = request.output_schema
    if schema is None:
        return []
    problems: list[str] = []
    if response.finish_reason == "content_filter":
        problems = ["the model refused to answer"]
    elif response.finish_reason == "length":
        problems = [f"the answer was cut at max_tokens ({request.max_tokens}) before it ended"]
    else:
        try:
            response.parsed = schema.parse(response.content)
        except AnswerMismatch as mismatch:
            problems = mismatch.problems
    response.schema_problems = problems
    response.typed = not problems
    return problems


class StructuredOutputs:
    """``complete()`` with ``output_schema``: validated, repaired, one ``run_id`` for all turns."""

    provider_id: str

    async def _complete_once(self, request: LLMRequest, cache: CacheMode | None) -> LLMResponse:
        raise NotImplementedError

    async def _complete_structured(
        self, request: LLMRequest, cache: CacheMode | None
    ) -> LLMResponse:
        from orchestify_nb.usage.context import call_context, current_call_context

        assert request.output_schema is not None
        asked = request
        with call_context(run_id=current_call_context().run_id or uuid.uuid4().hex):
            response = await self._complete_once(request, cache)
            problems = response.schema_problems  # checked when it was recorded (or replayed)
            for _ in range(request.repair):
                if not repairable(response):
                    break
                asked = replace(asked, messages=repair_turns(asked, response))
                response = await self._complete_once(asked, cache)
                problems = response.schema_problems
        if problems:
            raise misfit_error(request.output_schema, response, self.provider_id)
        return response


def repair_turns(request: LLMRequest, response: LLMResponse) -> list[LLMMessage]:
    """The conversation of the repair turn: the request's, the misfit, and what was wrong."""
    from orchestify_nb.providers.types import LLMMessage

    asked = LLMMessage(role="user", content=repair_message(response.schema_problems))
    return [*request.messages, response.to_message(), asked]


def repairable(response: LLMResponse) -> bool:
    """A misfit worth a repair turn (a refusal or a cut-off answer is not)."""
    return bool(response.schema_problems) and response.finish_reason not in (
        "content_filter",
        "length",
    )


def misfit_error(
    schema: OutputSchema, response: LLMResponse, provider_id: str | None
) -> StructuredOutputError:
    """The one error for an answer that does not fit, with its text and problems."""
    problems = response.schema_problems
    return StructuredOutputError(
        f"the answer does not fit {schema.name}: {'; '.join(problems)}",
        provider_id=provider_id,
        model=response.model_requested or response.model,
        raw_text=response.content,
        problems=problems,
        hint=_hint(response.finish_reason),
    )


def _hint(finish_reason: str | None) -> str:
    if finish_reason == "length":
        return "Raise max_tokens so the whole JSON fits."
    if finish_reason == "content_filter":
        return "Rephrase the prompt; the model declined it."
    return "Loosen the schema, describe the fields in the prompt, or pass repair=2."
