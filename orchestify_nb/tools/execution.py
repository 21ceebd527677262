"""One model turn's tool calls: asked for approval one by one, then run side by side.

A tool's own failure (bad arguments, an exception, an unknown name, a denial) becomes the
call's error result, which goes back to the model: the loop continues. Only a broken tool
*server* (``MCPServerError``) ends the loop, since every later call to it would fail too.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from typing import Literal

from orchestify_nb.errors import MCPServerError
from orchestify_nb.providers.content import Content
from orchestify_nb.providers.types import ToolCall
from orchestify_nb.tools.functions import Tool, ToolArgumentsError
from orchestify_nb.tools.run import ToolEvent, ToolResult

#: ``approve=``: a callable deciding each call (sync or async), ``"ask"`` (asks on stdin), or
#: ``None`` (every call runs).
ApproveCallable = Callable[[ToolCall], bool | Awaitable[bool]]
Approval = ApproveCallable | Literal["ask"] | None

DENIED = "Error: the user denied this tool call; it was not run."


def ask_on_stdin(call: ToolCall) -> bool:
    """``approve="ask"``: show the call and read y/n (``input()``, which a notebook cell shows
    as a text box)."""
    import json

    arguments = json.dumps(call.arguments, ensure_ascii=False)
    answer = input(f"Run tool {call.name}({arguments})? [y/N] ")
    return answer.strip().lower() in {"y", "yes"}


async def _approved(approve: Approval, call: ToolCall) -> bool:
    if approve is None:
        return True
    decide: ApproveCallable = ask_on_stdin if approve == "ask" else approve
    if inspect.iscoroutinefunction(decide):
        return bool(await decide(call))
    verdict = await asyncio.to_thread(decide, call)  # input() must not stall the loop
    return bool(await verdict) if inspect.isawaitable(verdict) else bool(verdict)


async def _run_one(tool: Tool | None, call: ToolCall, known: Sequence[str]) -> ToolResult:
    started = time.perf_counter()
    output: Content
    if tool is None:
        status, output = (
            "error",
            (f"Error: there is no tool named {call.name!r}; the tools are {', '.join(known)}."),
        )
    else:
        try:
            status, output = "ok", await tool.call(call.arguments)
        except MCPServerError:
            raise
        except ToolArgumentsError as error:
            status, output = (
                "error",
                f"Error: {error}. Call {call.name} again with fixed arguments.",
            )
        except Exception as error:  # the tool's own failure is the model's to handle
            status, output = "error", f"Error: {type(error).__name__}: {error}"
    name = tool.name if tool is not None else call.name
    return ToolResult(call, name, status, output, time.perf_counter() - started)  # type: ignore[arg-type]


async def run_calls(
    step: int, calls: Sequence[ToolCall], tools: Mapping[str, Tool], approve: Approval
) -> AsyncIterator[ToolEvent]:
    """Events for one turn's calls: each approval decided in the model's order, then
    ``call_started`` for every approved call and ``call_finished`` as each one ends."""
    known = [tool.name for tool in tools.values()]
    running: dict[asyncio.Task[ToolResult], ToolCall] = {}
    try:
        for call in calls:
            tool = tools.get(call.name)
            name = tool.name if tool is not None else call.name
            if not await _approved(approve, call):
                denied = ToolResult(call, name, "denied", DENIED)
                yield ToolEvent("call_finished", step, call, name, result=denied)
                continue
            yield ToolEvent("call_started", step, call, name)
            running[asyncio.ensure_future(_run_one(tool, call, known))] = call
        for finished in asyncio.as_completed(list(running)):
            result = await finished
            yield ToolEvent("call_finished", step, result.call, result.tool_name, result=result)
    finally:
        for task in running:
            task.cancel()
