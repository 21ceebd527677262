"""Model output as HTML that runs nothing: the one place an answer becomes markup.

A model's answer is untrusted input (a prompt-injected document can make it say anything), yet
JupyterLab treats the outputs of the running session as trusted and assigns their HTML without
sanitising it, and ipywidgets' ``HTML`` view does the same. So the markup we hand over must already
be inert:

- Markdown is parsed by mistune with ``escape=True`` (raw HTML in the answer is shown as text, in
  code spans and blocks as well), links keep only ``http``, ``https`` and ``mailto`` targets, and
  images become links (an image loads on its own, so its URL could carry data out of the page).
- ``format=html`` is the explicit opt-in to the answer's own markup; it still goes through
  ``sanitize_html``.
- Both then pass through nh3 (the Ammonia sanitiser): a fixed list of tags and attributes, no
  scripts, handlers, styles, frames, objects or forms, and ``rel="noopener noreferrer"`` on links.

We render the HTML ourselves rather than hand ``text/markdown`` to the front end: JupyterLab's
Markdown renderer (marked) also passes trusted raw HTML through, and escaping the source for a
different parser would depend on both parsers agreeing about every code span and fence.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any
from urllib.parse import urlsplit

#: The link targets kept clickable; any other scheme, and relative URLs, become plain text.
LINK_SCHEMES = frozenset({"http", "https", "mailto"})

_TAGS = frozenset(
    {
        "a", "abbr", "b", "blockquote", "br", "caption", "code", "dd", "del", "details", "div",
        "dl", "dt", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "ins", "kbd", "li",
        "mark", "ol", "p", "pre", "q", "s", "samp", "small", "span", "strike", "strong", "sub",
        "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul", "var",
    }
)  # fmt: skip
_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "code": {"class"},
    "ol": {"start"},
    "td": {"colspan", "rowspan", "style"},
    "th": {"colspan", "rowspan", "style"},
}
#: Math spans keep their class so the front end's MathJax finds them; code keeps its language.
_CLASSES = {"div": {"math"}, "span": {"math"}}


def safe_link(url: str) -> str | None:
    """``url`` if it may be a clickable link target (http, https, mailto), else ``None``."""
    text = url.strip()
    try:
        scheme = urlsplit(text).scheme.lower()
    except ValueError:
        return None
    return text if scheme in LINK_SCHEMES else None


def _keep_attribute(tag: str, attribute: str, value: str) -> str | None:
    if attribute == "href":
        return safe_link(value)
    if attribute == "class" and tag == "code":
        return value if value.startswith("language-") and value.isprintable() else None
    return value


def sanitize_html(fragment: str) -> str:
    """``fragment`` with every tag, attribute and URL not on our short list removed."""
    import nh3

    return nh3.clean(
        fragment,
        tags=set(_TAGS),
        attributes={tag: set(names) for tag, names in _ATTRIBUTES.items()},
        allowed_classes={tag: set(names) for tag, names in _CLASSES.items()},
        attribute_filter=_keep_attribute,
        url_schemes=set(LINK_SCHEMES),
        filter_style_properties={"text-align"},
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


@cache
def _markdown() -> Callable[[str], str]:
    import mistune
    from mistune.renderers.html import HTMLRenderer

    class InertRenderer(HTMLRenderer):
        """mistune's renderer with our link rules: unsafe targets are shown, not linked."""

        def link(self, text: str, url: str, title: str | None = None) -> str:
            target = safe_link(url)
            if target is None:
                return text
            title_attr = f' title="{self.escape_attribute(title)}"' if title else ""
            return f'<a href="{self.escape_attribute(target)}"{title_attr}>{text}</a>'

        def image(self, text: str, url: str, title: str | None = None) -> str:
            label = f"[image: {text}]" if text else "[image]"
            return self.link(label, url, title)

    render: Any = mistune.create_markdown(
        escape=True,
        renderer=InertRenderer(escape=True),
        plugins=["strikethrough", "table", "url", "math"],
    )

    def markdown(text: str) -> str:
        return sanitize_html(str(render(text)))

    return markdown


def markdown_html(text: str) -> str:
    """HTML for ``text`` read as Markdown; any HTML inside ``text`` is shown, never run."""
    return _markdown()(text)
