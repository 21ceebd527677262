"""The steps of a tool loop as they happen: one output (a display id) listing each tool call
with its arguments and result in a folded block, updated as calls start and finish, and last
the loop's totals.

Arguments and results come from the model and from tools: untrusted, so every piece is
HTML-escaped; the HTML around them is ours.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from orchestify_nb.providers.content import shown_text

if TYPE_CHECKING:
    from IPython.display import DisplayHandle

    from orchestify_nb.tools.run import ToolEvent, ToolRun

_MARKS = {"ok": "✓", "error": "✗", "denied": "⊘", "running": "…"}
_MAX_SHOWN = 2_000  # characters of a result shown in the fold


@dataclass(slots=True)
class _Line:
    step: int
    tool: str
    arguments: str
    status: str = "running"
    output: str = ""
    duration_s: float = 0.0


@dataclass
class ToolStepsView:
    """Call ``start`` before the answer's own output, ``add`` per ``ToolEvent`` and ``note``
    for a model turn's own text; the view stays empty until the first call and is redrawn at
    each event."""

    terminal: bool = False
    #: False: keep the steps and build ``bundle()`` only, showing nothing (the panel draws them).
    live: bool = True
    lines: dict[str, _Line] = field(default_factory=dict)
    notes: list[tuple[int, str]] = field(default_factory=list)
    footer: str = ""
    _handle: DisplayHandle | None = None

    def add(self, event: ToolEvent) -> None:
        call = event.call
        if event.type == "run_finished" and event.run is not None:
            self.footer = run_footer(event.run)
        elif call is not None:
            line = self.lines.setdefault(
                call.id,
                _Line(event.step, event.tool_name, json.dumps(call.arguments, ensure_ascii=False)),
            )
            if event.result is not None:
                line.status, line.output = event.result.status, shown_text(event.result.output)
                line.duration_s = event.result.duration_s
            if not self.live:
                return
            if self.terminal and (event.result is not None or event.type == "call_started"):
                print(self._plain_line(line), flush=True)
                return
        if self.live and not self.terminal and (self.lines or self._handle is not None):
            self._draw()

    def start(self) -> None:
        """Reserve this view's place above the answer (empty until the first call); in a
        terminal the lines are printed as they come instead."""
        if self.live and not self.terminal:
            self._draw()

    def note(self, step: int, text: str) -> None:
        """What the model said in a turn that called tools (shown before those calls)."""
        if text.strip():
            self.notes.append((step, text))

    def _plain_line(self, line: _Line) -> str:
        head = f"[step {line.step}] {_MARKS[line.status]} {line.tool}({line.arguments})"
        return f"{head} -> {line.output}" if line.status != "running" else head

    def bundle(self) -> dict[str, Any]:
        """Step by step: what the model said in that turn, then its calls, then the totals."""
        plain: list[str] = []
        rich: list[str] = []
        steps = sorted(
            {step for step, _ in self.notes} | {line.step for line in self.lines.values()}
        )
        for step in steps:
            for said in (text for number, text in self.notes if number == step):
                plain.append(f"[step {step}] {said}")
                rich.append(f"<p><sub>step {step}</sub> {html.escape(said)}</p>")
            for line in (line for line in self.lines.values() if line.step == step):
                plain.append(self._plain_line(line))
                rich.append(_folded(line))
        if self.footer:
            plain.append(f"[{self.footer}]")
            rich.append(f"<p><sub>{html.escape(self.footer)}</sub></p>")
        return {"text/plain": "\n".join(plain), "text/html": "".join(rich)}

    def _draw(self) -> None:
        if self._handle is None:
            from IPython.display import display

            show: Any = display
            self._handle = show(self.bundle(), raw=True, display_id=True)
        else:
            update: Any = self._handle.update
            update(self.bundle(), raw=True)


def _folded(line: _Line) -> str:
    """One call as a folded block: tool, arguments and time in the summary, result inside."""
    shown = line.output[:_MAX_SHOWN] + ("…" if len(line.output) > _MAX_SHOWN else "")
    timing = f" · {line.duration_s:.2f} s" if line.status != "running" else ""
    return (
        f"<details><summary>step {line.step} · {_MARKS[line.status]} "
        f"<code>{html.escape(line.tool)}</code>({html.escape(line.arguments)}){timing}"
        f'</summary><pre style="white-space: pre-wrap">{html.escape(shown)}</pre></details>'
    )


def run_footer(run: ToolRun) -> str:
    """The loop's totals: turns, tool calls, tokens and cost (unknown if a turn was unpriced)."""
    cost = run.cost_usd
    shown = "cost unknown" if cost is None else f"${cost:.6f}" if cost < 0.01 else f"${cost:.4f}"
    limit = " · stopped at max_steps" if run.outcome == "max_steps" else ""
    return (
        f"tool loop · {_count(len(run.steps), 'model turn')} · "
        f"{_count(len(run.tool_results), 'tool call')} · "
        f"{run.tokens.input:,} in / {run.tokens.output:,} out tokens · {shown} total{limit}"
    )


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"
