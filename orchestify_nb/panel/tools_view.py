"""The panel's tools: which of them the model may call, and the Approve / Deny question.

``Panel(tools=[...], approve="ask")`` adds a selector (every tool on at first) under the system
prompt, and, while a call waits for approval, its tool and arguments with two buttons below the
conversation. The question is answered by a click: the loop awaits it on the kernel's event loop,
which the click handler (run by the kernel between messages) resolves.
"""

from __future__ import annotations

import asyncio
import html
import json
from collections.abc import Callable, Sequence
from typing import Any

import ipywidgets as widgets

from orchestify_nb.providers.types import ToolCall
from orchestify_nb.tools import Approval, Tool, as_tool


class PanelTools:
    """The tools offered, the selector, and the approval question (hidden until asked)."""

    def __init__(self, tools: Sequence[Tool | Callable[..., Any]], approve: Approval) -> None:
        made = [as_tool(value) for value in tools]
        self.tools = {tool.name: tool for tool in made}
        names = list(self.tools)
        self.approve = approve
        self.selector = widgets.SelectMultiple(
            options=names,
            value=names,
            rows=min(len(names), 5),
            description="Tools",
            tooltip="The tools the model may call (Ctrl/Cmd-click to toggle)",
        )
        self.question = widgets.HTML()
        self.approve_button = widgets.Button(description="Approve", button_style="success")
        self.deny_button = widgets.Button(description="Deny", button_style="danger")
        self.approval = widgets.VBox(
            [self.question, widgets.HBox([self.approve_button, self.deny_button])],
            layout=widgets.Layout(display="none"),
        )
        self.approval.add_class("onb-approval")
        self._pending: asyncio.Future[bool] | None = None
        self.approve_button.on_click(lambda _button: self.answer(True))
        self.deny_button.on_click(lambda _button: self.answer(False))

    def selected(self) -> list[Tool]:
        """The tools ticked in the selector, in the order they were given."""
        ticked = set(self.selector.value)
        return [tool for name, tool in self.tools.items() if name in ticked]

    def decider(self) -> Approval:
        """What the loop's ``approve=`` gets: the buttons for ``"ask"``, else as given."""
        return self.ask if self.approve == "ask" else self.approve

    async def ask(self, call: ToolCall) -> bool:
        """Show the call with Approve / Deny and wait for a click."""
        self._pending = asyncio.get_running_loop().create_future()
        name = self._display_name(call.name)
        arguments = json.dumps(call.arguments, ensure_ascii=False)
        self.question.value = (
            f'<div class="onb-status">Run <code>{html.escape(name)}</code>'
            f"({html.escape(arguments)})?</div>"
        )
        self.approval.layout.display = None
        try:
            return await self._pending
        finally:
            self._pending = None
            self.approval.layout.display = "none"

    def answer(self, approved: bool) -> None:
        """Answer the question that is waiting (a click; nothing when none waits)."""
        if self._pending is not None and not self._pending.done():
            self._pending.set_result(approved)

    @property
    def waiting(self) -> bool:
        return self._pending is not None and not self._pending.done()

    def _display_name(self, wire_name: str) -> str:
        for tool in self.tools.values():
            if tool.wire_name == wire_name:
                return tool.name
        return wire_name
