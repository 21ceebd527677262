"""Model answers as safe HTML for the panel's ``HTML`` widgets.

ipywidgets' ``HTML`` view assigns its value to ``innerHTML`` without sanitising it, so the text
of an answer must never reach the page as markup: raw HTML in the answer is escaped and
``javascript:`` links are neutralised. mistune does both (``escape=True`` and its URL check);
without it the answer is shown as escaped plain text, which is still safe and still readable.
A half-streamed answer (an unclosed code fence, a cut-off table) renders as well as it can.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from functools import cache


@cache
def _renderer() -> Callable[[str], str] | None:
    try:
        import mistune
    except ImportError:
        return None
    markdown = mistune.create_markdown(escape=True, plugins=["strikethrough", "table", "url"])

    def render(text: str) -> str:
        return str(markdown(text))

    return render


def render_markdown(text: str) -> str:
    """HTML for ``text`` read as Markdown; any HTML inside ``text`` is shown, never run."""
    render = _renderer()
    if render is None:
        return f'<div class="onb-plain">{html.escape(text)}</div>'
    return render(text)
