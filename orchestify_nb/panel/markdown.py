"""Model answers as HTML for the panel's ``HTML`` widgets.

ipywidgets' ``HTML`` view assigns its value to ``innerHTML`` without sanitising it, so the panel
uses the same inert rendering as the magic's outputs (``orchestify_nb.render.safe_html``): raw
HTML in an answer is shown as text, links keep only http(s) and mailto targets, and the result is
sanitised again. A half-streamed answer (an unclosed code fence, a cut-off table) renders as well
as it can.
"""

from __future__ import annotations

from orchestify_nb.render.safe_html import markdown_html


def render_markdown(text: str) -> str:
    """HTML for ``text`` read as Markdown; any HTML inside ``text`` is shown, never run."""
    return markdown_html(text)
