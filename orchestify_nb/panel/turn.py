"""One exchange in the panel's conversation: the prompt, the live answer, its thinking and footer.

Each part is its own ``HTML`` widget, updated only by setting ``value`` (safe from an asyncio task,
unlike ``with output:``). Thinking is a ``<details>`` block shown open while the model thinks and
closed once the answer starts, so a long chain of thought never pushes the answer out of view.
"""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING, Literal

import ipywidgets as widgets

from orchestify_nb.panel.markdown import render_markdown
from orchestify_nb.panel.usage_view import format_cost
from orchestify_nb.providers.types import LLMResponse, StreamEvent
from orchestify_nb.render.parsed import growing_bundle, parsed_html

if TYPE_CHECKING:
    from orchestify_nb.context import ContextItem
    from orchestify_nb.providers.content import Content

TurnState = Literal["streaming", "done", "stopped", "error"]


def one_line(error: BaseException) -> str:
    """An error as one readable line: its type and its message, whitespace collapsed."""
    message = " ".join(str(error).split()) or "no details"
    return f"{type(error).__name__}: {message}"


class TurnView:
    """The widgets and state of one prompt and its answer."""

    def __init__(self, prompt: str, provider_id: str, model: str) -> None:
        self.prompt = prompt
        #: What the prompt turn sent: the prompt, and the variables the context picker attached.
        self.sent: Content = prompt
        self.provider_id = provider_id
        self.model = model
        self.text = ""
        self.thinking = ""
        self.state: TurnState = "streaming"
        self.response: LLMResponse | None = None
        self.error: str | None = None
        #: With ``Panel(schema=...)``: whether the answer is asked for as ``{"value": ...}``
        #: (``None``: a plain answer); the answer is then drawn as the object so far.
        self.typed_wrapped: bool | None = None
        self.prompt_html = widgets.HTML(f'<div class="onb-user">{html.escape(prompt)}</div>')
        self.thinking_html = widgets.HTML(layout=widgets.Layout(display="none"))
        self.answer = widgets.HTML(self._answer_html())
        self.footer = widgets.HTML(
            f'<div class="onb-footer">{html.escape(model)} · waiting for the first token…</div>'
        )
        self.steps_html = widgets.HTML(layout=widgets.Layout(display="none"))
        self.box = widgets.VBox(
            [self.prompt_html, self.thinking_html, self.steps_html, self.answer, self.footer]
        )
        self.box.add_class("onb-turn")

    def show_context(self, items: list[ContextItem]) -> None:
        """List under the prompt what the context picker attached (name, kind, tokens, cuts)."""
        listed = "; ".join(item.line() for item in items)
        self.prompt_html.value = (
            f'<div class="onb-user">{html.escape(self.prompt)}'
            f'<div class="onb-context">context: {html.escape(listed)}</div></div>'
        )

    # ----------------------------------------------------------------------------- streaming
    def add(self, event: StreamEvent) -> None:
        """Fold a delta into the turn (shown at the next ``refresh``)."""
        if event.type == "text":
            self.text += event.text
        elif event.type == "thinking":
            self.thinking += event.text

    def refresh(self) -> None:
        """Redraw the live parts: thinking (open while no answer text yet) and the answer."""
        self._show_thinking(open_=not self.text)
        self.answer.value = self._answer_html()
        if self.text or self.thinking:
            self.footer.value = (
                f'<div class="onb-footer">{html.escape(self.model)} · streaming…</div>'
            )

    def show_steps(self, markup: str) -> None:
        """A tool loop's steps so far, above the answer (``markup`` is ``ToolStepsView``'s
        HTML: ours, with every piece from the model or a tool escaped)."""
        self.steps_html.layout.display = None
        self.steps_html.value = f'<div class="onb-steps">{markup}</div>'

    def next_turn(self) -> None:
        """A model turn ended in tool calls: its words are kept with the steps, and the
        answer starts again with the next turn."""
        self.text = ""

    # ------------------------------------------------------------------------------- endings
    def finish(self, response: LLMResponse) -> None:
        """The call completed: final text from the response, and its usage in the footer."""
        self.state, self.response = "done", response
        self.text = response.content or self.text
        self.thinking = response.thinking or self.thinking
        self._show_thinking(open_=False)
        self.answer.value = self._answer_html()
        self.footer.value = f'<div class="onb-footer">{html.escape(describe(response))}</div>'

    def stop(self, elapsed_s: float, usage: LLMResponse | None = None) -> None:
        """Stopped by the user: the partial answer stays, marked as stopped, with the tokens and
        cost the call used so far (``usage``, from its ledger row) when known."""
        self.state = "stopped"
        self._show_thinking(open_=False)
        self.answer.value = self._answer_html()
        kept = "partial answer kept" if self.text else "no answer yet"
        spent = " · ".join(usage_parts(usage)) if usage is not None else self.model
        self.footer.value = (
            f'<div class="onb-footer"><span class="onb-stopped">■ stopped</span> · '
            f"{html.escape(spent)} · {kept} · {elapsed_s:.1f} s</div>"
        )

    def fail(self, error: BaseException) -> None:
        """The call failed: whatever arrived stays, the error is one line in the footer."""
        self.state, self.error = "error", one_line(error)
        self._show_thinking(open_=False)
        self.answer.value = self._answer_html()
        self.footer.value = (
            f'<div class="onb-footer"><span class="onb-error">⚠ {html.escape(self.error)}'
            "</span></div>"
        )

    def summary_html(self) -> str:
        """This exchange as static HTML for the panel's widget-less fallback: the prompt, the
        answer (the same inert rendering) and the footer's words."""
        footer = strip_tags(self.footer.value)
        return (
            f'<div class="onb-turn-static"><p><b>Prompt:</b> {html.escape(self.prompt)}</p>'
            f"{render_markdown(self.text)}<p><sub>{html.escape(footer)}</sub></p></div>"
        )

    # ------------------------------------------------------------------------------ drawing
    def _answer_html(self) -> str:
        live = " onb-live" if self.state == "streaming" else ""
        body = render_markdown(self.text) if self.text else ""
        if self.response is not None and self.response.typed:
            body = parsed_html(self.response.parsed)
        elif self.typed_wrapped is not None and self.text:
            growing = growing_bundle(self.text, self.typed_wrapped)
            body = growing["text/html"] if growing is not None else body
        return f'<div class="onb-answer{live}">{body}</div>'

    def _show_thinking(self, *, open_: bool) -> None:
        if not self.thinking:
            return
        words = len(self.thinking.split())
        self.thinking_html.layout.display = None
        self.thinking_html.value = (
            f'<details class="onb-thinking"{" open" if open_ else ""}>'
            f"<summary>Thinking ({words} words)</summary>"
            f"<div>{html.escape(self.thinking)}</div></details>"
        )

    def __repr__(self) -> str:
        return f"TurnView(state={self.state!r}, model={self.model!r}, chars={len(self.text)})"


def strip_tags(markup: str) -> str:
    """The text of our own footer markup (a few spans, entities escaped)."""
    return html.unescape(re.sub(r"<[^>]*>", "", markup))


def usage_parts(response: LLMResponse) -> list[str]:
    """Model, tokens and cost of a call, as the footers show them."""
    tokens = f"{response.tokens_input:,} in / {response.tokens_output:,} out tokens"
    extras: list[str] = []
    if response.cache_read_tokens:
        extras.append(f"{response.cache_read_tokens:,} cached")
    if response.reasoning_tokens:
        extras.append(f"{response.reasoning_tokens:,} reasoning")
    if extras:
        tokens += f" ({', '.join(extras)})"
    return [response.model, tokens, format_cost(response.cost_usd)]


def describe(response: LLMResponse) -> str:
    """The footer line of a finished answer: model, tokens, cost and timing."""
    parts = usage_parts(response)
    if response.latency_s is not None:
        timing = f"{response.latency_s:.2f} s"
        if response.time_to_first_token_s is not None:
            timing += f" (first token {response.time_to_first_token_s:.2f} s)"
        parts.append(timing)
    if response.finish_reason not in (None, "stop"):
        parts.append(f"finish: {response.finish_reason}")
    return " · ".join(parts)
