"""Typed answers (``df.llm.extract(schema=..., mode="batch")``) as provider batch jobs.

Every request asks for the schema with the fields the realtime providers send (Anthropic's
``output_config`` or, for older Claude models, the forced ``answer`` tool; OpenAI's
``response_format``), built by the same helpers. Collected answers are validated against the
schema and land in the same typed columns as a realtime extraction (``batch.typed_columns``);
a succeeded request whose answer does not fit gets the status ``invalid`` and the problems as
its error.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from orchestify_nb.batch.jobs.plan import BatchApi
from orchestify_nb.batch.typed_columns import write_parsed_columns
from orchestify_nb.providers.chat_completions import chat_arguments
from orchestify_nb.providers.forced_answer import answer_tool_arguments, uses_answer_tool
from orchestify_nb.providers.structured import AnswerMismatch, asked_schema, output_schema_of
from orchestify_nb.providers.types import LLMRequest

if TYPE_CHECKING:
    import pandas as pd

    from orchestify_nb.batch.jobs.job import RowOutcome

#: A frame row whose request succeeded but whose answer does not fit the schema.
INVALID = "invalid"


def schema_fields(api: BatchApi, request: LLMRequest) -> dict[str, Any]:
    """The request body fields that ask for ``request.output_schema``, as sent in realtime."""
    if api == "openai":
        return {"response_format": chat_arguments(request)["response_format"]}
    if uses_answer_tool(request):
        return answer_tool_arguments(request)
    assert request.output_schema is not None
    schema, _strict = asked_schema(request.output_schema)
    return {"output_config": {"format": {"type": "json_schema", "schema": schema}}}


def fill_typed_columns(
    frame: pd.DataFrame,
    schema: Any,
    out: str,
    positions: list[int],
    outcomes: Sequence[RowOutcome],
) -> None:
    """Validate each succeeded row's answer as ``schema`` and fill its typed columns at
    ``positions``; rows whose answer does not fit keep missing values, status ``invalid`` and
    the problems as error."""
    reader = output_schema_of(schema)
    parsed: list[Any] = []
    statuses = list(frame[f"{out}_status"])
    errors = list(frame[f"{out}_error"])
    for position, outcome in zip(positions, outcomes, strict=True):
        value = None
        if outcome.status == "succeeded" and outcome.text is not None:
            try:
                value = reader.parse(outcome.text)
            except AnswerMismatch as mismatch:
                statuses[position] = INVALID
                errors[position] = f"the answer does not fit {reader.name}: {mismatch}"
        parsed.append(value)
    frame[f"{out}_status"] = statuses
    frame[f"{out}_error"] = errors
    write_parsed_columns(frame, schema, out, positions, parsed)
