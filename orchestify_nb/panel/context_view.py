"""The panel's context picker: notebook variables to attach to the next prompt.

Each attached variable goes through ``context.render`` within the budget (as ``@{name}`` does in
a cell), and its kind and token cost show before Send, so what a prompt will carry, and cost,
is known first. The list is the notebook's variables that ``@{name}`` could send: no private
names, modules, functions or classes, and never the environment or a secret.
"""

from __future__ import annotations

import html
import types
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from orchestify_nb.context.safety import never_sent
from orchestify_nb.providers.content import Content, ContentPart, normalize_content

if TYPE_CHECKING:
    from orchestify_nb.context import ContextItem, Rendered

#: IPython's own names in a notebook's namespace, never worth attaching.
_SHELL_NAMES = frozenset({"In", "Out", "exit", "quit", "get_ipython"})
_NOT_DATA = (types.ModuleType, types.FunctionType, types.BuiltinFunctionType, type)


class ContextPickError(ValueError):
    """An attached variable that cannot be rendered; the message names it."""


def notebook_namespace() -> Mapping[str, Any]:
    """The running notebook's variables (none outside IPython)."""
    from IPython import get_ipython

    shell = get_ipython()
    return shell.user_ns if shell is not None else {}


class PanelContext:
    """The picker's widgets, and the attached variables rendered for the next prompt."""

    def __init__(self, namespace: Callable[[], Mapping[str, Any]], budget: int) -> None:
        self._namespace = namespace
        self.budget = budget
        self.selector = widgets.SelectMultiple(
            options=[], rows=4, description="Context", layout=widgets.Layout(width="60%")
        )
        self.refresh_button = widgets.Button(
            description="Refresh", tooltip="List the notebook's variables again"
        )
        self.cost = widgets.HTML()
        self.box = widgets.HBox([self.selector, self.refresh_button, self.cost])
        self._cache: dict[str, tuple[int, Rendered]] = {}
        self.selector.observe(lambda _change: self.show_cost(), names="value")
        self.refresh_button.on_click(lambda _button: self.refresh())
        self.refresh()

    def refresh(self) -> None:
        """List the namespace's variables again, keeping what is still there selected."""
        namespace = self._namespace()
        names = [name for name, value in namespace.items() if _attachable(name, value)]
        kept = tuple(name for name in self.selector.value if name in names)
        self.selector.options = [(f"{name} ({_kind(namespace[name])})", name) for name in names]
        self.selector.value = kept
        self.show_cost()

    def attached(self, *, fresh: bool = False) -> list[tuple[str, Rendered]]:
        """The selected variables rendered within the budget. The cost display reuses the
        rendering of a variable still bound to the same object; ``fresh`` (what Send uses)
        renders each again, since an object changed in place keeps its identity."""
        from orchestify_nb.context import render

        namespace = self._namespace()
        shown: list[tuple[str, Rendered]] = []
        for name in self.selector.value:
            if name not in namespace:
                raise ContextPickError(f"{name} is no longer defined in the notebook; Refresh")
            value = namespace[name]
            cached = self._cache.get(name)
            if fresh or cached is None or cached[0] != id(value):
                try:
                    cached = (id(value), render(value, self.budget))
                except Exception as error:  # the object's own adapter or __str__
                    raise ContextPickError(
                        f"rendering {name} failed ({type(error).__name__}: {error}); "
                        "untick it, or fix the object"
                    ) from None
                self._cache[name] = cached
            shown.append((name, cached[1]))
        return shown

    def show_cost(self) -> None:
        """What the attached variables will add to the next prompt, in tokens."""
        if not self.selector.value:
            self.cost.value = '<span class="onb-muted">nothing attached</span>'
            return
        try:
            items = self.attached()
        except ContextPickError as error:
            self.cost.value = f'<span class="onb-error">{html.escape(str(error))}</span>'
            return
        listed = "; ".join(item.line() for item in _manifest(items))
        total = sum(shown.tokens for _, shown in items)
        self.cost.value = html.escape(f"{listed}: {total:,} tokens in all")

    def content(self, prompt: str) -> tuple[Content, list[ContextItem]]:
        """``prompt`` with the attached variables after it, as they are now, and their
        manifest."""
        items = self.attached(fresh=True)
        if not items:
            return prompt, []
        pieces: list[ContentPart | str] = [prompt, "\n\nContext from the notebook:"]
        for name, shown in items:
            pieces.append(f"\n\n{name}:\n")
            pieces.extend(shown.parts or (shown.text,))
        return normalize_content(pieces), _manifest(items)


def _manifest(items: list[tuple[str, Rendered]]) -> list[ContextItem]:
    from orchestify_nb.context import ContextItem

    return [ContextItem(name, shown.kind, shown.tokens, list(shown.cut)) for name, shown in items]


def _attachable(name: str, value: Any) -> bool:
    """Whether ``@{name}`` could send ``value``: data, not code, never a secret."""
    if name.startswith("_") or name in _SHELL_NAMES or isinstance(value, _NOT_DATA):
        return False
    return never_sent(value) is None


def _kind(value: Any) -> str:
    kind = type(value).__name__
    shape = getattr(value, "shape", None)
    return f"{kind} {'×'.join(map(str, shape))}" if isinstance(shape, tuple) else kind
