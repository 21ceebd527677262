"""``render()`` and the adapter registry; the built-in adapters live in their own modules.

The protocol: an object may define ``_repr_llm_(self, budget: int)`` (the budget in tokens)
returning text, or a list of content parts (``str``, ``TextPart``, ``ImagePart``,
``DocumentPart``) to show the model an image or a document; implementations may ignore the
budget, and text is cut to it if they do. Registered adapters are
``fn(obj, budget) -> Rendered | str`` and win over the built-in ones; the most specific
registered type (by MRO) wins among them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from orchestify_nb.providers.content import ContentPart, media_parts, normalize_content, text_of
from orchestify_nb.token_counting import get_token_counter

#: Tokens one inserted object may take by default (``context_tokens=`` changes it).
DEFAULT_BUDGET = 2000

Adapter = Callable[[Any, int], "Rendered | str"]
_registered: dict[type, Adapter] = {}


@dataclass(frozen=True, slots=True)
class Rendered:
    """An object as prompt text: ``kind`` names what it was, ``cut`` what was left out.

    ``parts``, when set, is what the prompt gets instead of ``text``: content parts holding an
    image or a document (``text`` then describes them, for the manifest and text-only uses).
    """

    text: str
    kind: str
    cut: tuple[str, ...] = ()
    tokens: int = 0
    parts: tuple[ContentPart, ...] = ()


@dataclass(slots=True)
class ContextItem:
    """One inserted object as the manifest lists it (name, kind, tokens, what was cut)."""

    name: str
    kind: str
    tokens: int
    cut: list[str] = field(default_factory=list)

    def line(self) -> str:
        cut = f", cut: {'; '.join(self.cut)}" if self.cut else ""
        return f"{self.name} ({self.kind}, {self.tokens:,} tokens{cut})"


def register(kind: type, adapter: Adapter) -> None:
    """Render objects of ``kind`` (and its subclasses) with ``adapter(obj, budget)``."""
    _registered[kind] = adapter


def count_tokens(text: str) -> int:
    return get_token_counter().count_text(text)


def render(obj: Any, budget: int = DEFAULT_BUDGET) -> Rendered:
    """``obj`` as prompt text of at most ``budget`` tokens (see the module docstring)."""
    if budget < 1:
        raise ValueError(f"budget must be at least 1 token, not {budget!r}")
    produced = _produce(obj, budget)
    if isinstance(produced, str):
        produced = Rendered(produced, type(obj).__name__)
    return fit(produced, budget)


def _produce(obj: Any, budget: int) -> Rendered | str:
    own = getattr(type(obj), "_repr_llm_", None)
    if callable(own):
        own_kind = f"{type(obj).__name__} (its _repr_llm_)"
        described = own(obj, budget)
        if isinstance(described, list | tuple):
            content = normalize_content(described)
            parts = () if isinstance(content, str) else content
            return Rendered(text_of(content), own_kind, parts=parts)
        return Rendered(str(described), own_kind)
    for kind in type(obj).__mro__:
        if kind in _registered:
            return _registered[kind](obj, budget)
    from orchestify_nb.context.builtin import builtin_adapter

    adapter = builtin_adapter(obj)
    if adapter is not None:
        return adapter(obj, budget)
    return Rendered(obj if isinstance(obj, str) else str(obj), type(obj).__name__)


def fit(rendered: Rendered, budget: int) -> Rendered:
    """``rendered`` with its token count, cut at the end (and saying so) when over budget.
    Images and documents are made to fit by their adapters; here they are only counted."""
    if rendered.parts:
        tokens = count_tokens(text_of(rendered.parts)) + sum(
            part.tokens for part in media_parts(rendered.parts)
        )
        return Rendered(rendered.text, rendered.kind, rendered.cut, tokens, rendered.parts)
    tokens = count_tokens(rendered.text)
    if tokens <= budget:
        return Rendered(rendered.text, rendered.kind, rendered.cut, tokens)
    note = f"\n[... cut to fit {budget:,} tokens]"
    keep = max(0, int(len(rendered.text) * (budget - count_tokens(note)) / tokens) - 1)
    text = rendered.text[:keep]
    while keep > 0 and count_tokens(text + note) > budget:
        keep = int(keep * 0.9)
        text = rendered.text[:keep]
    cut = (*rendered.cut, f"text after {keep:,} characters")
    return Rendered(text + note, rendered.kind, cut, count_tokens(text + note))
