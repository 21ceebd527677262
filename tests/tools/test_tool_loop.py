"""``provider.run_tools()`` over the real SDKs against the loopback emulator, on every route
(Claude, OpenAI, LiteLLM to each API), answered whole and streamed: the tools run with validated
arguments, their results go back in each API's own format, and every turn is a ledger row."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from orchestify_nb.providers.base import LLMProvider
from orchestify_nb.providers.types import LLMMessage, ToolCall
from orchestify_nb.testing import LLMEmulator, Reply
from orchestify_nb.tools import ToolEvent, ToolRun, tool
from orchestify_nb.usage.ledger import Ledger
from tests.providers.conftest import Backend


class Calls:
    """What the tool functions were called with, in order."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, dict[str, Any]]] = []


@pytest.fixture
def calls() -> Calls:
    return Calls()


@pytest.fixture
def weather_tools(calls: Calls) -> list[Callable[..., Any]]:
    def get_weather(city: str) -> dict[str, Any]:
        """Current weather for a city."""
        calls.seen.append(("get_weather", {"city": city}))
        return {"city": city, "celsius": 18}

    @tool(name="to_fahrenheit", description="Convert Celsius to Fahrenheit.")
    async def convert(celsius: int) -> str:
        calls.seen.append(("to_fahrenheit", {"celsius": celsius}))
        return f"{celsius * 9 / 5 + 32:g} °F"

    return [get_weather, convert]


WEATHER_CALL = ToolCall(id="call_1", name="get_weather", arguments={"city": "Paris"})
CONVERT_CALL = ToolCall(id="call_2", name="to_fahrenheit", arguments={"celsius": "18"})


def three_turns() -> tuple[Reply, Reply, Reply]:
    return (
        Reply(tool_calls=[WEATHER_CALL], chunk_chars=5),
        Reply(text="Converting.", tool_calls=[CONVERT_CALL], chunk_chars=5),
        Reply(text="Paris: 18 °C, which is 64.4 °F."),
    )


def tool_results_sent(backend: Backend, body: dict[str, Any]) -> list[tuple[str, str]]:
    """(call id, result text) of each tool result the request carried, read in the API's own
    format: Anthropic ``tool_result`` blocks in a user turn, OpenAI ``tool`` role messages."""
    found = []
    for message in body["messages"]:
        if backend.speaks_anthropic and isinstance(message["content"], list):
            for block in message["content"]:
                if block.get("type") == "tool_result":
                    content = block["content"]
                    text = content if isinstance(content, str) else content[0]["text"]
                    found.append((block["tool_use_id"], text))
        elif not backend.speaks_anthropic and message["role"] == "tool":
            found.append((message["tool_call_id"], message["content"]))
    return found


@pytest.mark.parametrize("streamed", [False, True], ids=["complete", "stream"])
async def test_a_two_tool_three_step_loop_returns_the_answer_and_sends_each_result_back(
    provider: LLMProvider,
    backend: Backend,
    llm_emulator: LLMEmulator,
    weather_tools: list[Callable[..., Any]],
    calls: Calls,
    isolated_ledger: Ledger,
    streamed: bool,
) -> None:
    llm_emulator.enqueue(*three_turns())

    run: ToolRun = await provider.run_tools(
        "Weather in Paris, in Fahrenheit?", tools=weather_tools, stream=streamed
    )

    assert run.outcome == "answered"
    assert run.content == "Paris: 18 °C, which is 64.4 °F."
    assert calls.seen == [("get_weather", {"city": "Paris"}), ("to_fahrenheit", {"celsius": 18})]
    assert [len(step.results) for step in run.steps] == [1, 1, 0]
    first, second, third = (request.body for request in llm_emulator.requests)
    assert tool_results_sent(backend, first) == []
    assert tool_results_sent(backend, second) == [("call_1", '{"city": "Paris", "celsius": 18}')]
    assert tool_results_sent(backend, third)[-1] == ("call_2", "64.4 °F")
    assert {request.stream for request in llm_emulator.requests} == {streamed}
    assert [m.role for m in run.messages] == [
        "user",
        "assistant",
        "tool",
        "assistant",
        "tool",
        "assistant",
    ]
    rows = isolated_ledger.records()
    assert [(row.run_id, row.step) for row in rows] == [(run.run_id, n) for n in (1, 2, 3)]
    assert run.cost_usd is not None and run.cost_usd > 0
    assert sum(row.cost_usd or 0 for row in rows) == pytest.approx(run.cost_usd)
    assert run.tokens.input == sum(row.input_tokens for row in rows)


async def test_the_stream_form_yields_deltas_and_each_call_as_it_starts_and_finishes(
    provider: LLMProvider, llm_emulator: LLMEmulator, weather_tools: list[Callable[..., Any]]
) -> None:
    llm_emulator.enqueue(*three_turns())

    kinds = [
        event.type if isinstance(event, ToolEvent) else f"model:{event.type}"
        async for event in provider.stream_tools("Weather?", tools=weather_tools)
    ]

    assert kinds[-1] == "run_finished"
    tool_kinds = [kind for kind in kinds if not kind.startswith("model:")]
    assert tool_kinds == ["call_started", "call_finished"] * 2 + ["run_finished"]
    first_done = kinds.index("model:done")
    assert set(kinds[:first_done]) == {"model:tool_call"}  # the call's arguments, streamed
    assert kinds[first_done + 1] == "call_started"
    assert "model:text" in kinds[kinds.index("call_finished") :]
    assert kinds.count("model:done") == 3


async def test_two_sleeping_calls_in_one_turn_run_side_by_side(
    make_provider: Callable[..., LLMProvider], llm_emulator: LLMEmulator
) -> None:
    def slow_sync(n: int) -> int:
        """Sleeps a second in a thread."""
        time.sleep(1)
        return n

    async def slow_async(n: int) -> int:
        """Sleeps a second on the loop."""
        await asyncio.sleep(1)
        return n

    both = [
        ToolCall(id="a", name="slow_sync", arguments={"n": 1}),
        ToolCall(id="b", name="slow_async", arguments={"n": 2}),
        ToolCall(id="c", name="slow_sync", arguments={"n": 3}),
    ]
    llm_emulator.enqueue(Reply(tool_calls=both), Reply(text="done"))
    provider = make_provider()

    started = time.perf_counter()
    run = await provider.run_tools("go", tools=[slow_sync, slow_async])
    elapsed = time.perf_counter() - started

    assert elapsed < 1.5
    assert [r.output for r in run.steps[0].results] == ["1", "2", "3"]  # in the model's order


@pytest.mark.parametrize("streamed", [False, True], ids=["complete", "stream"])
async def test_a_raising_tool_and_bad_arguments_go_back_as_errors_and_the_loop_goes_on(
    provider: LLMProvider, backend: Backend, llm_emulator: LLMEmulator, streamed: bool
) -> None:
    ran: list[int] = []

    def divide(a: int, b: int) -> float:
        """a / b."""
        ran.append(a)
        return a / b

    calls = [
        ToolCall(id="t1", name="divide", arguments={"a": 1, "b": 0}),
        ToolCall(id="t2", name="divide", arguments={"a": "one", "b": 2}),
        ToolCall(id="t3", name="divide", arguments={"a": 1}),
    ]
    llm_emulator.enqueue(Reply(tool_calls=calls), Reply(text="Sorry, both failed."))

    run = await provider.run_tools("1/0?", tools=[divide], stream=streamed)

    assert run.content == "Sorry, both failed."
    assert ran == [1]  # bad arguments never reach the function
    statuses = [(r.status, r.output) for r in run.steps[0].results]
    assert statuses[0] == ("error", "Error: ZeroDivisionError: division by zero")
    assert statuses[1][0] == "error" and "a: Input should be a valid integer" in statuses[1][1]
    assert statuses[2][0] == "error" and "b: Field required" in statuses[2][1]
    sent = dict(tool_results_sent(backend, llm_emulator.requests[1].body))
    assert sent["t1"] == statuses[0][1] and sent["t2"] == statuses[1][1]


async def test_a_denied_call_never_runs_and_the_model_is_told(
    provider: LLMProvider, backend: Backend, llm_emulator: LLMEmulator
) -> None:
    deleted: list[str] = []
    asked: list[ToolCall] = []

    def delete_file(path: str) -> str:
        """Delete a file."""
        deleted.append(path)
        return "deleted"

    def approve(call: ToolCall) -> bool:
        asked.append(call)
        return call.arguments["path"] != "/etc/passwd"

    llm_emulator.enqueue(
        Reply(
            tool_calls=[
                ToolCall(id="d1", name="delete_file", arguments={"path": "/etc/passwd"}),
                ToolCall(id="d2", name="delete_file", arguments={"path": "/tmp/x"}),
            ]
        ),
        Reply(text="I could only delete /tmp/x."),
    )

    run = await provider.run_tools("Clean up", tools=[delete_file], approve=approve)

    assert deleted == ["/tmp/x"]
    assert [call.id for call in asked] == ["d1", "d2"]
    assert [r.status for r in run.steps[0].results] == ["denied", "ok"]
    sent = dict(tool_results_sent(backend, llm_emulator.requests[1].body))
    assert "denied" in sent["d1"] and sent["d2"] == "deleted"


async def test_max_steps_is_an_outcome_that_keeps_every_step(
    provider: LLMProvider, llm_emulator: LLMEmulator, isolated_ledger: Ledger
) -> None:
    def ping() -> str:
        """Ping."""
        return "pong"

    loop_forever = Reply(tool_calls=[ToolCall(id="p", name="ping", arguments={})])
    llm_emulator.enqueue(loop_forever, loop_forever, loop_forever)

    run = await provider.run_tools(
        [LLMMessage(role="user", content="ping")], tools=[ping], max_steps=2
    )

    assert run.outcome == "max_steps"
    assert len(run.steps) == 2 and llm_emulator.pending == 1
    assert run.response is not None and run.response.tool_calls
    assert len(isolated_ledger.records()) == 2


def test_run_tools_sync_works_from_plain_code(
    make_provider: Callable[..., LLMProvider], llm_emulator: LLMEmulator
) -> None:
    def add(a: int, b: int) -> int:
        """a + b."""
        return a + b

    llm_emulator.enqueue(
        Reply(tool_calls=[ToolCall(id="s", name="add", arguments={"a": 2, "b": 3})]),
        Reply(text="5"),
    )
    run = make_provider().run_tools_sync("2+3?", tools=[add])
    assert run.content == "5" and run.steps[0].results[0].output == "5"
    assert json.loads(run.steps[0].results[0].output) == 5
