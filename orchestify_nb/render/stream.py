"""Draw one streamed answer: live in a notebook output, or chunk by chunk in a terminal.

In a notebook the answer is one display (``display_id``) updated in place at most every
``UpdateThrottle.interval_s``; the last update carries the final rendering and the output
metadata, so the saved notebook holds exactly one output with the final text. In terminal
IPython there is no display to update: chunks are printed as they arrive.
"""

from __future__ import annotations

import html
import sys
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TextIO

from orchestify_nb.render.first_token import FirstTokenClock
from orchestify_nb.render.formats import OutputFormat, answer_bundle, footer_text, parse_json_answer
from orchestify_nb.render.parsed import growing_bundle, parsed_bundle
from orchestify_nb.render.throttle import UpdateThrottle

if TYPE_CHECKING:
    from IPython.display import DisplayHandle

    from orchestify_nb.providers.types import LLMResponse, StreamEvent

#: Key under which an answer's provenance is stored in the output's metadata.
METADATA_KEY = "orchestify_nb"


class StreamRenderer:
    """Renders the events of one answer; call ``start``, ``add`` per event, ``tick`` when idle,
    then exactly one of ``finish``, ``interrupt`` or ``fail``.

    ``updates`` counts display messages sent (the first display included) and ``finished_at``
    is the monotonic time of the final one, for the render benchmark.
    """

    def __init__(
        self,
        *,
        output_format: OutputFormat = "markdown",
        terminal: bool = False,
        waiting_label: str = "",
        throttle: UpdateThrottle | None = None,
        stream: TextIO | None = None,
    ) -> None:
        self.output_format = output_format
        self.terminal = terminal
        self.waiting_label = waiting_label
        self.throttle = throttle or UpdateThrottle()
        self.text = ""
        self.thinking = ""
        self.updates = 0
        self.finished_at: float | None = None
        #: Monotonic and wall-clock (UTC) times of ``start``: an interrupted call's footer and
        #: ledger lookup start from them.
        self.started_at: float | None = None
        self.started_wall: datetime | None = None
        self._stream = stream
        self._handle: DisplayHandle | None = None
        self._dirty = False
        self._printed_thinking_header = False
        self._printed_answer_header = False
        self._first_token = FirstTokenClock()
        #: What was inserted into the prompt (``ContextItem.line()``s), folded under the answer.
        self.context_lines: list[str] = []
        #: A typed answer's ``OutputSchema``: the answer is drawn as the object parsed so far.
        self.growing_object: Any = None

    # ------------------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        """Show that the call is under way (notebook: a placeholder the answer will replace)."""
        self.started_at, self.started_wall = time.monotonic(), datetime.now(UTC)
        if self.terminal:
            return
        label = f"waiting for {self.waiting_label}…" if self.waiting_label else "waiting…"
        sub = f"<sub>{html.escape(label)}</sub>"
        self._send({"text/plain": label, "text/markdown": sub, "text/html": sub}, None)
        self.throttle.reset()

    def add(self, event: StreamEvent) -> None:
        """Take one stream event; redraw if the throttle allows."""
        if event.type == "text":
            self.text += event.text
        elif event.type == "thinking":
            self.thinking += event.text
        else:
            return
        self._first_token.token_arrived()
        if self.terminal:
            self._print_delta(event.type, event.text)
            return
        self._dirty = True
        if self.throttle.due():
            self._redraw()

    def tick(self) -> None:
        """Called while no event arrives: draw text that the throttle held back."""
        if self._dirty and not self.terminal and self.throttle.due():
            self._redraw()

    def finish(self, response: LLMResponse, metadata: dict[str, Any] | None = None) -> None:
        """Draw the final answer with its footer and attach the provenance metadata."""
        self.text = response.content
        self.thinking = response.thinking or self.thinking
        note = " · ".join(filter(None, [footer_text(response), self._first_token.note()]))
        if self.terminal:
            self._print_end(note)
            return
        if response.typed:  # output_schema: the object as a table
            bundle = parsed_bundle(response.parsed, note)
        else:
            bundle = answer_bundle(
                self.text, output_format=self.output_format, thinking=self.thinking, note=note
            )
        if self.context_lines:
            add_context(bundle, self.context_lines)
        self._final(bundle, {METADATA_KEY: metadata} if metadata else None)

    def interrupt(self, details: str = "", metadata: dict[str, Any] | None = None) -> None:
        """Keep the partial answer, marked as interrupted (■, like the panel's Stop); ``details``
        follow the mark (the magic passes the call's usage) and ``metadata`` its provenance."""
        note = f"interrupted after {len(self.text):,} characters"
        self._stop(f"{note} · {details}" if details else note, metadata, mark="■ ")

    def fail(self, error: BaseException) -> None:
        """Keep any partial answer, marked as failed (the caller reports the error itself)."""
        self._stop(f"stopped by {type(error).__name__}; the message follows")

    def elapsed_s(self) -> float:
        """Seconds since ``start`` (0 if it was not called)."""
        return 0.0 if self.started_at is None else time.monotonic() - self.started_at

    # ------------------------------------------------------------------------------ internals
    def _stop(self, note: str, metadata: dict[str, Any] | None = None, mark: str = "") -> None:
        if self.terminal:
            self._print_end(note)
            return
        fmt: OutputFormat = "text" if self.output_format in ("code", "json") else self.output_format
        bundle = answer_bundle(
            self.text, output_format=fmt, thinking=self.thinking, note=note, mark=mark
        )
        self._final(bundle, {METADATA_KEY: metadata} if metadata else None)

    def _redraw(self) -> None:
        self._dirty = False
        schema = self.growing_object
        bundle = growing_bundle(self.text, schema.wrapped) if schema is not None else None
        if bundle is None:
            bundle = answer_bundle(
                self.text, output_format=self.output_format, thinking=self.thinking, streaming=True
            )
        self._send(bundle, None)

    def _final(self, bundle: dict[str, Any], metadata: dict[str, Any] | None) -> None:
        self._dirty = False
        self._send(bundle, metadata)
        self.finished_at = time.monotonic()

    def _send(self, bundle: dict[str, Any], metadata: dict[str, Any] | None) -> None:
        if self._handle is None:
            from IPython.display import display

            show: Any = display  # IPython's display functions are untyped
            self._handle = show(bundle, raw=True, metadata=metadata, display_id=True)
        else:
            update: Any = self._handle.update
            update(bundle, raw=True, metadata=metadata or {})
        self.updates += 1

    def _out(self) -> TextIO:
        return self._stream or sys.stdout

    def _print_delta(self, kind: str, text: str) -> None:
        out = self._out()
        if kind == "thinking" and not self._printed_thinking_header:
            out.write("[thinking]\n")
            self._printed_thinking_header = True
        elif kind == "text" and self._printed_thinking_header and not self._printed_answer_header:
            out.write("\n[answer]\n")
            self._printed_answer_header = True
        out.write(text)
        out.flush()
        self.updates += 1

    def _print_end(self, note: str) -> None:
        out = self._out()
        if self.output_format == "json" and self.text:
            parsed = parse_json_answer(self.text)
            if parsed.error is not None:
                note = f"not valid JSON ({parsed.error}) · {note}"
        out.write(f"\n[{note}]\n")
        out.flush()
        self.finished_at = time.monotonic()


def add_context(bundle: dict[str, Any], lines: list[str]) -> None:
    """Fold the list of inserted objects under the answer (``context: N items``)."""
    summary = f"context: {len(lines)} item{'s' if len(lines) != 1 else ''}"
    items = "".join(f"<li>{html.escape(line)}</li>" for line in lines)
    bundle["text/html"] += (
        f"<details><summary><sub>{summary}</sub></summary><ul>{items}</ul></details>"
    )
    bundle["text/plain"] += f"\n[{summary}: {'; '.join(lines)}]"
    if "text/markdown" in bundle:
        bundle["text/markdown"] += (
            f"\n\n<sub>{html.escape(summary)}: {html.escape('; '.join(lines))}</sub>"
        )
