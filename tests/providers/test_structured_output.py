"""Typed answers over the real SDKs and the emulator: each backend asks in its own native way,
``resp.parsed`` is the schema's type (complete and stream), a misfit gets one repair turn under
the same ``run_id``, and a refusal or a cut-off answer is its own clear error."""

from __future__ import annotations

import json
import logging
from typing import Any, Literal

import pytest
from pydantic import BaseModel

from orchestify_nb.errors import InvalidArgumentError, StructuredOutputError
from orchestify_nb.providers.base import LLMProvider
from orchestify_nb.providers.caching import cache_key
from orchestify_nb.providers.structured import output_schema_of, strict_schema
from orchestify_nb.testing import LLMEmulator, Reply
from orchestify_nb.usage.ledger import Ledger
from tests.providers.conftest import Backend


class Invoice(BaseModel):
    vendor: str
    total: float
    paid: bool = False


INVOICE_JSON = '{"vendor": "ACME", "total": 12.5, "paid": true}'


def asked_schema_of(backend: Backend, body: dict[str, Any]) -> dict[str, Any]:
    """The JSON schema the request asked for, read from the API's own field."""
    if backend.name == "claude":
        assert body["output_config"]["format"]["type"] == "json_schema"
        return dict(body["output_config"]["format"]["schema"])
    if "response_format" in body:
        response_format = body["response_format"]
        assert response_format["type"] == "json_schema"
        assert response_format["json_schema"]["strict"] is True
        return dict(response_format["json_schema"]["schema"])
    # LiteLLM's route to Claude: the Messages API's own structured output
    return dict(
        body["output_format"]["schema"]
        if "output_format" in body
        else body["output_config"]["format"]["schema"]
    )


@pytest.mark.parametrize("streamed", [False, True], ids=["complete", "stream"])
async def test_each_backend_asks_natively_and_parses_the_answer_into_the_model(
    provider: LLMProvider, llm_emulator: LLMEmulator, backend: Backend, streamed: bool
) -> None:
    llm_emulator.enqueue(Reply(text=INVOICE_JSON, chunk_chars=7))

    if streamed:
        events = [e async for e in provider.stream("Extract the invoice.", output_schema=Invoice)]
        response = events[-1].response
        assert response is not None
    else:
        response = await provider.complete("Extract the invoice.", output_schema=Invoice)

    assert response.parsed == Invoice(vendor="ACME", total=12.5, paid=True)
    assert response.content == INVOICE_JSON
    schema = asked_schema_of(backend, llm_emulator.requests[-1].body)
    assert set(schema["properties"]) == {"vendor", "total", "paid"}
    assert schema["additionalProperties"] is False


async def test_a_misfit_gets_one_repair_turn_and_both_calls_share_a_run_id(
    provider: LLMProvider, llm_emulator: LLMEmulator, isolated_ledger: Ledger
) -> None:
    llm_emulator.enqueue(
        Reply(text='{"vendor": "ACME", "total": "lots"}'), Reply(text=INVOICE_JSON)
    )

    response = await provider.complete("Extract the invoice.", output_schema=Invoice)

    assert response.parsed == Invoice(vendor="ACME", total=12.5, paid=True)
    first, second = isolated_ledger.records()
    assert first.run_id is not None and first.run_id == second.run_id
    assert (first.error_type, second.error_type) == ("StructuredOutputError", None)
    repair_turn = json.dumps(llm_emulator.requests[-1].body["messages"])
    assert "did not match the required JSON schema" in repair_turn and "total" in repair_turn


async def test_an_answer_that_still_misfits_raises_with_the_raw_text_and_problems(
    provider: LLMProvider, llm_emulator: LLMEmulator
) -> None:
    llm_emulator.enqueue(Reply(text="not json"), Reply(text='{"vendor": 3}'))

    with pytest.raises(StructuredOutputError) as raised:
        await provider.complete("Extract the invoice.", output_schema=Invoice)

    assert raised.value.raw_text == '{"vendor": 3}'
    assert any(problem.startswith("vendor") for problem in raised.value.problems)
    assert "does not fit Invoice" in str(raised.value) and len(llm_emulator.requests) == 2


async def test_a_cut_off_answer_is_its_own_error_and_is_not_repaired(
    provider: LLMProvider, llm_emulator: LLMEmulator
) -> None:
    llm_emulator.enqueue(Reply(text='{"vendor": "AC', stop_reason="length"))

    with pytest.raises(StructuredOutputError, match=r"cut at max_tokens.*Raise max_tokens"):
        await provider.complete("Extract the invoice.", output_schema=Invoice, max_tokens=5)

    assert len(llm_emulator.requests) == 1


async def test_a_refusal_is_its_own_error_and_is_not_repaired(
    provider: LLMProvider, llm_emulator: LLMEmulator
) -> None:
    llm_emulator.enqueue(Reply(text="", stop_reason="content_filter"))

    with pytest.raises(StructuredOutputError, match="the model refused to answer"):
        await provider.complete("Extract the invoice.", output_schema=Invoice)

    assert len(llm_emulator.requests) == 1


async def test_a_literal_classifies_and_a_json_schema_dict_parses_to_a_dict(
    provider: LLMProvider, llm_emulator: LLMEmulator
) -> None:
    llm_emulator.enqueue(Reply(text='{"value": "neg"}'), Reply(text='{"city": "Oslo"}'))
    city_schema = {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    }

    label = await provider.complete("Broke in a week.", output_schema=Literal["pos", "neg"])
    city = await provider.complete("Where?", output_schema=city_schema, repair=0)

    assert label.parsed == "neg"
    assert city.parsed == {"city": "Oslo"}


async def test_bad_schema_and_repair_values_are_refused_before_anything_is_sent(
    provider: LLMProvider, llm_emulator: LLMEmulator
) -> None:
    with pytest.raises(InvalidArgumentError, match="not a type pydantic can validate"):
        await provider.complete("Hi", output_schema=object())
    with pytest.raises(InvalidArgumentError, match="repair must be a whole number"):
        await provider.complete("Hi", output_schema=Invoice, repair=-1)

    assert llm_emulator.requests == []


def test_an_open_mapping_cannot_be_strict_and_says_why(caplog: pytest.LogCaptureFixture) -> None:
    class Counts(BaseModel):
        by_word: dict[str, int]

    schema, reason = strict_schema(output_schema_of(Counts).json_schema)

    assert reason == "by_word allows any keys (a dict)"
    assert schema["properties"]["by_word"]["additionalProperties"] == {"type": "integer"}


def test_the_schema_is_part_of_the_response_cache_key(provider: LLMProvider) -> None:
    plain = provider.build_request("Extract.")
    typed = provider.build_request("Extract.", output_schema=Invoice)

    assert cache_key("x", None, plain) != cache_key("x", None, typed)
    logging.getLogger(__name__).debug("keys differ")
