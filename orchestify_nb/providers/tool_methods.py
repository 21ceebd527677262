"""``provider.run_tools()`` and its stream and sync forms: thin doors into the tool loop.

The loop lives in ``orchestify_nb.tools`` (a layer above the providers: it also runs MCP
servers), so these methods name it as a string, as the package root does for its lazy exports;
their return types are the loop's ``ToolRun`` and ``StreamEvent | ToolEvent``.
"""

from __future__ import annotations

import importlib
from typing import Any

_LOOP = "orchestify_nb.tools.loop"


class ToolLoopMethods:
    """The tool-loop methods every ``LLMProvider`` has."""

    async def run_tools(self, messages: Any, **arguments: Any) -> Any:
        """Let the model call ``tools=[...]`` (functions or ``Tool``s) until it answers, and
        return the ``ToolRun``: ``max_steps=10``, ``approve=None`` (a callable or ``"ask"``),
        ``stream=False``, and any ``build_request`` argument (``model``, ``system`` ...)."""
        return await importlib.import_module(_LOOP).run_tools(self, messages, **arguments)

    def stream_tools(self, messages: Any, **arguments: Any) -> Any:
        """``run_tools`` as an async stream: the model's deltas, ``call_started`` and
        ``call_finished`` per tool call, and last ``run_finished`` carrying the ``ToolRun``."""
        return importlib.import_module(_LOOP).stream_tool_run(self, messages, **arguments)

    def run_tools_sync(self, messages: Any, **arguments: Any) -> Any:
        """``run_tools`` from plain (non-async) code."""
        return importlib.import_module(_LOOP).run_tools_sync(self, messages, **arguments)
