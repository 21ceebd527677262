"""``%%llm tools=a,b max_steps=5 approve=ask out=run``: a tool loop in a cell.

The names are looked up in the notebook (functions, ``Tool``s) or, written ``server.tool``,
among the config's MCP servers. The output shows each tool call as it starts and finishes
(``render.tool_steps``) above the streamed answer; ``out=`` holds the ``ToolRun`` and the
cell's value is the final ``LLMResponse``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import closing
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError

from orchestify_nb.magics.cell import (
    RequestArgs,
    answer_metadata,
    as_usage_error,
    cell_context,
)
from orchestify_nb.magics.options import CellOptions

if TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell

    from orchestify_nb.providers.base import LLMProvider
    from orchestify_nb.providers.types import LLMMessage, LLMResponse
    from orchestify_nb.render import StreamRenderer
    from orchestify_nb.render.tool_steps import ToolStepsView
    from orchestify_nb.session import NotebookSession
    from orchestify_nb.tools import Approval, Tool, ToolRun
    from orchestify_nb.tools.loop import LoopEvent


def resolve_tools(shell: InteractiveShell, session: NotebookSession, names: str) -> list[Tool]:
    """The tools named on the line, each a ``UsageError`` naming the fix when it is not found."""
    from orchestify_nb.errors import OrchestifyError
    from orchestify_nb.tools import as_tool

    found: list[Tool] = []
    for name in (part.strip() for part in names.split(",")):
        if not name:
            continue
        try:
            if "." in name:
                found.append(session.mcp.tool_sync(name))
                continue
            value = shell.user_ns.get(name)
            if value is None:
                raise UsageError(
                    f"%%llm tools=: no function named {name!r} in the notebook; define it (with "
                    "type hints and a docstring) in a cell above, or write server.tool for an MCP "
                    "server's tool"
                )
            found.append(as_tool(value))
        except OrchestifyError as error:
            raise as_usage_error(session, error) from None
    return found


def _approval(shell: InteractiveShell, approve: str | None) -> Approval:
    if approve is None:
        return None
    if approve == "ask":
        return "ask"
    decide = shell.user_ns.get(approve)
    if not callable(decide):
        raise UsageError(
            f"%%llm approve={approve}: expected ask, or the name of a notebook function that "
            "takes the ToolCall and returns True to run it"
        )
    approved: Approval = decide
    return approved


def run_tool_cell(
    shell: InteractiveShell,
    session: NotebookSession,
    options: CellOptions,
    provider: LLMProvider,
    messages: list[LLMMessage],
    args: RequestArgs,
) -> LLMResponse:
    """Run the loop, drawing its steps and answer as they come; return the final answer."""
    from orchestify_nb.render import StreamRenderer
    from orchestify_nb.render.tool_steps import ToolStepsView

    assert options.tools is not None
    tools = resolve_tools(shell, session, options.tools)
    approve = _approval(shell, options.approve)
    terminal = getattr(shell, "kernel", None) is None
    steps = ToolStepsView(terminal=terminal)
    renderer = StreamRenderer(
        output_format=options.format,  # type: ignore[arg-type]
        terminal=terminal,
        waiting_label=f"{provider.provider_id} · tools: {', '.join(t.name for t in tools)}",
    )
    steps.start()  # the steps go above the answer
    renderer.start()
    loop_args: dict[str, Any] = {"tools": tools, "approve": approve, "stream": options.stream}
    if options.max_steps is not None:
        loop_args["max_steps"] = options.max_steps
    if options.cache is not None:
        loop_args["cache"] = options.cache
    try:
        with cell_context(shell, options):
            run = _drive(provider, messages, {**args, **loop_args}, renderer, steps)
    except Exception as error:  # the steps so far stay on screen (and in out=, if asked)
        partial = getattr(error, "run", None)
        if partial is not None and options.out:
            shell.user_ns[options.out] = partial
        renderer.fail(error)
        raise as_usage_error(session, error, failed_call=True) from None
    response = run.response
    assert response is not None
    renderer.finish(response, answer_metadata(response, options, messages, args.get("system")))
    if options.chat:
        session.chat(options.chat).extend([messages[-1], *run.messages[len(messages) :]])
    if options.out:
        shell.user_ns[options.out] = run
    return response


def _drive(
    provider: LLMProvider,
    messages: list[LLMMessage],
    arguments: dict[str, Any],
    renderer: StreamRenderer,
    steps: ToolStepsView,
) -> ToolRun:
    from orchestify_nb.runtime import iterate_sync
    from orchestify_nb.tools import ToolEvent
    from orchestify_nb.tools.loop import stream_tool_run

    async def events() -> AsyncIterator[LoopEvent]:
        try:
            async for event in stream_tool_run(provider, messages, **arguments):
                yield event
        finally:  # connections belong to this call's loop: close them on it
            await provider.aclose()

    step = 1
    with closing(iterate_sync(events, on_idle=renderer.tick)) as stream:
        for event in stream:
            if isinstance(event, ToolEvent):
                steps.add(event)
                if event.run is not None:
                    return event.run
            elif event.response is not None:
                if event.response.tool_calls:  # a turn's words before its calls: a step note
                    steps.note(step, event.response.content)
                    renderer.text = renderer.thinking = ""
                step += 1
            else:
                renderer.add(event)
    raise RuntimeError("the tool loop ended without its run")
