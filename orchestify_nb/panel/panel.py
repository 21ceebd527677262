"""The panel's behaviour: send a prompt as an asyncio task on the kernel's loop, stream it into
the widgets, stop it, clear the conversation, keep the usage views current.

Why a task on the kernel's own loop: in ipykernel the shell thread runs an asyncio loop, and a
widget callback runs on it. A task started there streams between cell executions, so the kernel
stays free for other cells and for the Stop click (a comm message handled by the same loop).
Widgets are updated only by setting traits, which is safe from a task; ``with output:`` is not
(ipywidgets #2358, #3993).
"""

from __future__ import annotations

import asyncio
import html
import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from orchestify_nb.context import DEFAULT_BUDGET
from orchestify_nb.errors import OrchestifyError
from orchestify_nb.panel.context_view import ContextPickError, PanelContext, notebook_namespace
from orchestify_nb.panel.copy_cell import copy_button_html
from orchestify_nb.panel.layout import build_widgets
from orchestify_nb.panel.schemas_view import PanelSchemas
from orchestify_nb.panel.summary import ProviderChoice, provider_choices, static_html
from orchestify_nb.panel.tools_view import PanelTools
from orchestify_nb.panel.turn import TurnView, one_line
from orchestify_nb.panel.usage_view import ledger_table_html, strip_html
from orchestify_nb.providers.caching import CacheMode, check_cache_mode
from orchestify_nb.providers.prompt_cache import parse_cache_prompt
from orchestify_nb.providers.structured import misfit_error, output_schema_of
from orchestify_nb.providers.types import LLMMessage
from orchestify_nb.render import UpdateThrottle
from orchestify_nb.render.cancelled import cancelled_record, partial_response
from orchestify_nb.render.tool_steps import ToolStepsView
from orchestify_nb.tools import Approval, Tool, ToolEvent, ToolRun
from orchestify_nb.usage.context import call_context

if TYPE_CHECKING:
    from orchestify_nb.providers.base import LLMProvider
    from orchestify_nb.registry import ProviderRegistry

logger = logging.getLogger("orchestify_nb.panel")

_USAGE_TAB = 1


class Panel:
    """A chat workbench over every configured provider, as an ipywidgets panel.

    ``Panel()`` uses the notebook session's registry (the one ``%load_ext orchestify_nb`` and
    ``%%llm`` use); pass ``registry`` to use another. Display it as a cell's last expression or
    with ``show()``. The conversation stays in the panel until Clear; every call is recorded in
    the usage ledger with the tag ``panel``. ``cache`` is the response cache's mode for the
    panel's calls (``auto``, ``replay``, ``refresh``, ``off``; default: the session's) and
    ``cache_prompt`` asks the provider's prompt cache (``True``, ``"1h"``), as in ``%%llm``.
    ``tools`` (functions or ``Tool``s, e.g. ``mcp_tools("docs")``) lets the model call them:
    a selector picks which, each call shows in the answer as it runs, and ``approve="ask"``
    asks Approve / Deny before each call (or pass a function deciding). ``schema`` (a
    pydantic model, ``Literal[...]``...) asks for typed answers, drawn as the object grows;
    ``schemas=[...]`` offers several in a chooser (``(text)`` for a plain answer).
    The context picker attaches notebook variables to the next prompt, each rendered as
    ``@{name}`` would be within ``context_tokens`` (default: the config's, else 2,000), with
    their token cost shown before Send; ``context=False`` hides it.
    """

    def __init__(
        self,
        registry: ProviderRegistry | None = None,
        *,
        cache: CacheMode | None = None,
        cache_prompt: bool | str | None = None,
        tools: Sequence[Tool | Callable[..., Any]] | None = None,
        approve: Approval = None,
        schema: Any = None,
        schemas: Sequence[Any] | None = None,
        context: bool = True,
        context_tokens: int | None = None,
    ) -> None:
        problem: OrchestifyError | None = None
        self.cache = None if cache is None else check_cache_mode(cache, "Panel(cache=...)")
        parse_cache_prompt(cache_prompt)  # a bad value fails here, not at the first Send
        self.cache_prompt = cache_prompt
        self.schema = None if schema is None else output_schema_of(schema)
        self.schemas = PanelSchemas(schemas) if schemas else None
        configured_budget = None
        if registry is None:
            from orchestify_nb.session import get_session

            session = get_session()
            registry, problem = session.registry, session.config_problem
            configured_budget = session.config.context_tokens if session.config else None
        self.registry = registry
        self.turns: list[TurnView] = []
        self.history: list[LLMMessage] = []
        self._run_messages: list[LLMMessage] | None = None
        self._task: asyncio.Task[None] | None = None
        self._choices = {choice.provider_id: choice for choice in provider_choices(registry)}
        self.ui = build_widgets(list(self._choices.values()))
        self.tools = PanelTools(tools, approve) if tools else None
        if self.tools is not None:
            chat = self.ui.tabs.children[0]  # under the system prompt, and under the conversation
            parts = list(chat.children)
            parts.insert(parts.index(self.ui.system) + 1, self.tools.selector)
            parts.insert(parts.index(self.ui.status), self.tools.approval)
            chat.children = tuple(parts)
        if self.schemas is not None:  # the chooser, under the system prompt
            self._under_system(self.schemas.selector)
        self.context = None
        if context:
            budget = context_tokens or configured_budget or DEFAULT_BUDGET
            self.context = PanelContext(notebook_namespace, budget)
            self._under_system(self.context.box)
        if problem is not None:
            self._say(f"Config problem: {one_line(problem)}", error=True)
        elif not self._choices:
            self._say("No providers are configured: see %llm providers.", error=True)
        self._set_provider_fields(self.ui.provider.value)
        self.ui.provider.observe(self._on_provider_change, names="value")
        self.ui.set_temperature.observe(self._on_set_temperature, names="value")
        self.ui.send.on_click(lambda _button: self.send())
        self.ui.stop.on_click(lambda _button: self.stop())
        self.ui.clear.on_click(lambda _button: self.clear())
        self.ui.usage_refresh.on_click(lambda _button: self.refresh_usage(table=True))
        self.ui.tabs.observe(self._on_tab_change, names="selected_index")
        self.refresh_usage()

    # ------------------------------------------------------------------------------ actions
    @property
    def busy(self) -> bool:
        """True while an answer is streaming."""
        return self._task is not None and not self._task.done()

    def send(self, prompt: str | None = None) -> asyncio.Task[None] | None:
        """Send ``prompt`` (default: the prompt box) with the panel's settings; returns the task.

        Returns ``None`` (and says why in the status line) when nothing can be sent.
        """
        text = (self.ui.prompt.value if prompt is None else prompt).strip()
        if self.busy:
            self._say("Still answering: press Stop first.", error=True)
            return None
        if not text:
            self._say("Type a prompt first.", error=True)
            return None
        provider_id = self.ui.provider.value
        model = self.ui.model.value.strip()
        try:
            loop = asyncio.get_running_loop()
            provider = self.registry.get(provider_id)
        except (OrchestifyError, KeyError, RuntimeError) as error:
            self._say(self._cannot_send(error), error=True)
            return None
        turn = TurnView(text, provider.provider_id, model or provider.default_model or "")
        if self.context is not None:
            try:
                turn.sent, manifest = self.context.content(text)
            except ContextPickError as error:
                self._say(str(error), error=True)
                return None
            if manifest:
                turn.show_context(manifest)
        self._say("")
        self.ui.prompt.value = ""
        self.turns.append(turn)
        self.ui.conversation.children = tuple(turn.box for turn in self.turns)
        messages = [*self.history, LLMMessage(role="user", content=turn.sent)]
        options: dict[str, Any] = {
            "model": model or None,
            "temperature": self.ui.temperature.value if self.ui.set_temperature.value else None,
            "max_tokens": self.ui.max_tokens.value,
            "system": self.ui.system.value.strip() or None,
            "cache": self.cache,
        }
        if self.cache_prompt is not None:
            options["cache_prompt"] = self.cache_prompt
        if self.schemas is not None:
            self.schema = self.schemas.chosen()
        if self.schema is not None:
            options["output_schema"] = self.schema
            turn.typed_wrapped = self.schema.wrapped
        self._task = loop.create_task(self._answer(turn, provider, messages, options))
        self._set_busy(True)
        return self._task

    def stop(self) -> None:
        """Cancel the streaming answer; the partial text stays, marked as stopped."""
        if self.busy and self._task is not None:
            self.ui.stop.disabled = True
            self._task.cancel()

    def clear(self) -> None:
        """Forget the conversation (refused while an answer is streaming)."""
        if self.busy:
            self._say("Stop the answer before clearing.", error=True)
            return
        self.turns.clear()
        self.history.clear()
        self.ui.conversation.children = (self.ui.empty,)
        self.ui.copy.value = copy_button_html(None)
        self._say("")

    async def wait(self) -> None:
        """Wait until the current answer has finished, stopped or failed (in a cell: ``await``)."""
        if self._task is not None:
            await asyncio.wait({self._task})

    def refresh_usage(self, *, table: bool = False) -> None:
        """Redraw the usage strip, and the ledger table when asked or when its tab is open."""
        self.ui.usage_strip.value = strip_html(self.registry.get_total_usage())
        if table or self.ui.tabs.selected_index == _USAGE_TAB:
            self.ui.usage_table.value = ledger_table_html()

    # ------------------------------------------------------------------------------ display
    def show(self) -> None:
        """Display the panel in the current cell's output."""
        from IPython.display import display

        display(self)  # type: ignore[no-untyped-call]

    def to_html(self) -> str:
        """The static summary shown where widgets cannot render (nbconvert, GitHub)."""
        usage = self.registry.get_total_usage()
        return static_html(
            list(self._choices.values()),
            usage.call_count,
            usage.total_tokens,
            usage.total_cost_usd,
            [turn.summary_html() for turn in self.turns],
        )

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        bundle: dict[str, Any] = dict(self.ui.root._repr_mimebundle_(**kwargs))
        bundle["text/html"] = self.to_html()
        bundle["text/plain"] = repr(self)
        return bundle

    def __repr__(self) -> str:
        return f"Panel(providers={list(self._choices)!r}, turns={len(self.turns)})"

    # ----------------------------------------------------------------------------- the task
    async def _answer(
        self,
        turn: TurnView,
        provider: LLMProvider,
        messages: list[LLMMessage],
        options: dict[str, Any],
    ) -> None:
        throttle = UpdateThrottle()
        started, started_wall = time.perf_counter(), datetime.now(UTC)
        steps, step = ToolStepsView(live=False), 0
        try:
            with call_context(tag="panel"):
                async for event in self._events(provider, messages, options):
                    if isinstance(event, ToolEvent):
                        steps.add(event)
                        turn.show_steps(steps.bundle()["text/html"])
                        if event.run is not None:
                            self._finish_run(turn, event.run)
                    elif event.type == "done" and event.response is not None:
                        step += 1
                        if event.response.tool_calls and self.tools is not None:
                            steps.note(step, event.response.content)
                            turn.next_turn()
                        elif self.schema is not None and event.response.schema_problems:
                            turn.text = event.response.content  # what came, then the error
                            raise misfit_error(self.schema, event.response, provider.provider_id)
                        else:
                            turn.finish(event.response)
                    else:
                        turn.add(event)
                        if throttle.due():
                            turn.refresh()
            self._remember(turn)
        except asyncio.CancelledError:
            record = cancelled_record(provider, started_wall)
            usage = partial_response(record, turn.text, turn.thinking) if record else None
            turn.stop(time.perf_counter() - started, usage)
            self._remember(turn)
            raise
        except Exception as error:  # shown in the panel: a task has no cell to raise into
            if not isinstance(error, OrchestifyError):
                logger.exception("panel call to %s failed", provider.provider_id)
            turn.fail(error)
            _keep_for_llm_error(error)
        finally:
            self._set_busy(False)
            self.refresh_usage()

    def _events(
        self, provider: LLMProvider, messages: list[LLMMessage], options: dict[str, Any]
    ) -> AsyncIterator[Any]:
        """The answer's events: a plain stream, or a tool loop's when tools are ticked."""
        chosen = self.tools.selected() if self.tools is not None else []
        if self.tools is None or not chosen:
            return provider.stream(messages, **options)
        return provider.stream_tools(  # type: ignore[no-any-return]
            messages, tools=chosen, approve=self.tools.decider(), **options
        )

    def _finish_run(self, turn: TurnView, run: ToolRun) -> None:
        """The loop ended: its last turn is the answer (also when ``max_steps`` stopped it)."""
        if turn.state == "streaming" and run.response is not None:
            turn.finish(run.response)
        self._run_messages = run.messages

    def _remember(self, turn: TurnView) -> None:
        """Add a finished or stopped exchange to the history sent with the next prompt (a tool
        loop's whole conversation, its calls and results included)."""
        run_messages, self._run_messages = self._run_messages, None
        if run_messages is not None and turn.state == "done":
            self.history = list(run_messages)
            self.ui.copy.value = copy_button_html(turn.text)
            return
        if not turn.text:
            return
        self.history += [
            LLMMessage(role="user", content=turn.sent),
            LLMMessage(role="assistant", content=turn.text),
        ]
        self.ui.copy.value = copy_button_html(turn.text)

    # ------------------------------------------------------------------------------ helpers
    def _under_system(self, widget: Any) -> None:
        """Put ``widget`` in the chat tab, right under the system prompt."""
        chat = self.ui.tabs.children[0]
        parts = list(chat.children)
        parts.insert(parts.index(self.ui.system) + 1, widget)
        chat.children = tuple(parts)

    def _set_busy(self, busy: bool) -> None:
        self.ui.send.disabled = busy or not self._choices
        self.ui.stop.disabled = not busy
        self.ui.clear.disabled = busy
        self.ui.provider.disabled = busy or not self._choices

    def _say(self, message: str, *, error: bool = False) -> None:
        css = "onb-status onb-error" if error else "onb-status"
        self.ui.status.value = f'<div class="{css}">{html.escape(message)}</div>'
        self.ui.status.layout.display = None if message else "none"

    def _cannot_send(self, error: BaseException) -> str:
        if isinstance(error, RuntimeError):
            return "The panel streams on the kernel's event loop: use it in a Jupyter notebook."
        if self.ui.provider.value is None:
            return "No provider to send to: configure one (see %llm providers)."
        return one_line(error)

    def _set_provider_fields(self, provider_id: str | None) -> None:
        choice: ProviderChoice | None = self._choices.get(provider_id or "")
        if choice is None:
            return
        self.ui.model.options = choice.models
        self.ui.model.value = choice.info.default_model or ""
        self.ui.max_tokens.value = self.registry.get(choice.provider_id).max_tokens

    def _on_provider_change(self, change: dict[str, Any]) -> None:
        self._set_provider_fields(change["new"])

    def _on_set_temperature(self, change: dict[str, Any]) -> None:
        self.ui.temperature.disabled = not change["new"]

    def _on_tab_change(self, change: dict[str, Any]) -> None:
        if change["new"] == _USAGE_TAB:
            self.refresh_usage(table=True)


def _keep_for_llm_error(error: BaseException) -> None:
    """Let ``%llm error`` show the full traceback of the panel's last failure."""
    from orchestify_nb.session import peek_session

    session = peek_session()
    if session is not None:
        session.last_error = error
