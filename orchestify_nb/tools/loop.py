"""The tool loop: ask the model, run the tools it calls, send the results back, until it
answers (or ``max_steps`` turns were taken).

Every model turn is one ordinary provider call, so it is priced and recorded by the provider
base class like any other; ``call_context(run_id=, step=)`` tags its ledger row with the loop's
id and the turn's number. ``stream_tool_run`` is the one implementation; ``run_tools`` and
``run_tools_sync`` consume it.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncGenerator, Callable, Iterable
from typing import TYPE_CHECKING, Any

from orchestify_nb.errors import InvalidArgumentError, OrchestifyError, ToolDefinitionError
from orchestify_nb.providers.requests import Messages, coerce_messages
from orchestify_nb.providers.types import LLMResponse, StreamEvent
from orchestify_nb.tools.execution import Approval, run_calls
from orchestify_nb.tools.functions import Tool, as_tool
from orchestify_nb.tools.run import ToolEvent, ToolResult, ToolRun, ToolStep
from orchestify_nb.usage.context import call_context

if TYPE_CHECKING:
    from orchestify_nb.providers.base import LLMProvider

LoopEvent = StreamEvent | ToolEvent
ToolLike = Tool | Callable[..., Any]


def toolbox(tools: Iterable[ToolLike]) -> dict[str, Tool]:
    """The tools by the name the API sees, refusing two tools that would share one."""
    by_wire_name: dict[str, Tool] = {}
    for value in tools:
        made = as_tool(value)
        if made.wire_name in by_wire_name:
            raise ToolDefinitionError(
                f"two tools are named {made.name!r}; give one another name with @tool(name=...)"
            )
        by_wire_name[made.wire_name] = made
    return by_wire_name


async def stream_tool_run(
    provider: LLMProvider,
    messages: Messages,
    *,
    tools: Iterable[ToolLike],
    max_steps: int = 10,
    approve: Approval = None,
    stream: bool = True,
    **request_args: Any,
) -> AsyncGenerator[LoopEvent, None]:
    """The loop as events: the model's deltas (with ``stream=True``) and each turn's ``done``,
    then ``call_started``/``call_finished`` per tool call, and last ``run_finished`` with the
    ``ToolRun``. A failure (the provider's, a broken MCP server) is raised with the run so far
    as ``error.run``: the finished steps are kept, in the object and in the ledger."""
    if not isinstance(max_steps, int) or isinstance(max_steps, bool) or max_steps < 1:
        raise InvalidArgumentError(
            f"max_steps={max_steps!r}: expected a whole number of model turns, 1 or more",
            provider_id=provider.provider_id,
        )
    offered = toolbox(tools)
    run = ToolRun(run_id=uuid.uuid4().hex, messages=coerce_messages(messages))
    specs = [tool.spec() for tool in offered.values()]
    try:
        for number in range(1, max_steps + 1):
            started = time.perf_counter()
            response: LLMResponse | None = None
            with call_context(run_id=run.run_id, step=number):
                if stream:
                    async for event in provider.stream(run.messages, tools=specs, **request_args):
                        if event.response is not None:
                            response = event.response
                        yield event
                else:
                    response = await provider.complete(run.messages, tools=specs, **request_args)
                    yield StreamEvent.done(response)
            assert response is not None
            step = ToolStep(number, response, duration_s=time.perf_counter() - started)
            run.steps.append(step)
            run.messages.append(response.to_message())
            if not response.tool_calls:
                break
            async for tool_event in run_calls(number, response.tool_calls, offered, approve):
                if tool_event.result is not None:
                    step.results.append(tool_event.result)
                yield tool_event
            order = {call.id: index for index, call in enumerate(response.tool_calls)}
            step.results.sort(key=lambda result: order.get(result.call.id, len(order)))
            run.messages.extend(result.to_message() for result in step.results)
        else:
            run.outcome = "max_steps"
    except OrchestifyError as error:
        run.outcome = "failed"
        error.run = run  # type: ignore[attr-defined]
        raise
    yield ToolEvent("run_finished", len(run.steps), run=run)


async def run_tools(
    provider: LLMProvider, messages: Messages, *, stream: bool = False, **arguments: Any
) -> ToolRun:
    """Run the loop to its end and return the ``ToolRun``; takes ``stream_tool_run``'s
    arguments (``tools``, ``max_steps``, ``approve``, request arguments), but answers whole
    turns unless ``stream=True``."""
    async for event in stream_tool_run(provider, messages, stream=stream, **arguments):
        if isinstance(event, ToolEvent) and event.run is not None:
            return event.run
    raise AssertionError("a tool loop ends with its run or an exception")  # pragma: no cover


def run_tools_sync(provider: LLMProvider, messages: Messages, **arguments: Any) -> ToolRun:
    """``run_tools`` from plain (non-async) code, on a private event loop; the provider's
    connections, which belong to that loop, are closed with it."""
    from orchestify_nb.runtime import run_sync

    async def loop() -> ToolRun:
        try:
            return await run_tools(provider, messages, **arguments)
        finally:
            await provider.aclose()

    return run_sync(loop())


__all__ = [
    "LoopEvent",
    "ToolResult",
    "run_tools",
    "run_tools_sync",
    "stream_tool_run",
    "toolbox",
]
