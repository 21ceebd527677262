"""Typed answers from a Claude model that predates structured output: the schema is offered as
one forced ``answer`` tool (no ``output_config``), and the tool call's input comes back as the
answer's JSON, parsed into the model, complete and stream; newer models keep ``output_config``."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from pydantic import BaseModel

from orchestify_nb.providers.claude import ClaudeProvider
from orchestify_nb.providers.types import LLMResponse, ToolCall
from orchestify_nb.testing import LLMEmulator, Reply


class Invoice(BaseModel):
    vendor: str
    total: float


@pytest.fixture
async def old_claude(llm_emulator: LLMEmulator) -> AsyncIterator[ClaudeProvider]:
    provider = ClaudeProvider(
        api_key="sk-ant-test",
        base_url=llm_emulator.base_url,
        default_model="claude-3-5-haiku-20241022",
    )
    yield provider
    await provider.aclose()


async def typed_answer(provider: ClaudeProvider, streamed: bool) -> LLMResponse | None:
    """The typed answer to one prompt, from ``complete`` or from the ``done`` of ``stream``."""
    if not streamed:
        return await provider.complete("Extract.", output_schema=Invoice)
    return [e async for e in provider.stream("Extract.", output_schema=Invoice)][-1].response


@pytest.mark.parametrize("streamed", [False, True], ids=["complete", "stream"])
async def test_an_older_claude_is_forced_to_call_the_answer_tool_and_its_input_is_parsed(
    old_claude: ClaudeProvider, llm_emulator: LLMEmulator, streamed: bool
) -> None:
    call = ToolCall(id="t1", name="answer", arguments={"vendor": "ACME", "total": 12.5})
    llm_emulator.enqueue(Reply(tool_calls=[call]))

    response = await typed_answer(old_claude, streamed)

    assert response is not None and response.parsed == Invoice(vendor="ACME", total=12.5)
    assert response.tool_calls == [] and response.finish_reason == "stop"
    body = llm_emulator.requests[-1].body
    assert "output_config" not in body
    assert body["tool_choice"] == {"type": "tool", "name": "answer"}
    (tool,) = body["tools"]
    assert set(tool["input_schema"]["properties"]) == {"vendor", "total"}


async def test_a_current_claude_keeps_output_config_and_offers_no_answer_tool(
    llm_emulator: LLMEmulator,
) -> None:
    provider = ClaudeProvider(
        api_key="sk-ant-test", base_url=llm_emulator.base_url, default_model="claude-sonnet-4-6"
    )
    llm_emulator.enqueue(Reply(text='{"vendor": "ACME", "total": 1}'))
    try:
        response = await provider.complete("Extract.", output_schema=Invoice)
    finally:
        await provider.aclose()

    assert response.parsed == Invoice(vendor="ACME", total=1)
    body = llm_emulator.requests[-1].body
    assert "tools" not in body and body["output_config"]["format"]["type"] == "json_schema"
