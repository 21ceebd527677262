"""What the panel puts into ``innerHTML``: model text must render as Markdown and never run."""

from __future__ import annotations

from html.parser import HTMLParser

from orchestify_nb.panel.copy_cell import cell_for, copy_button_html
from orchestify_nb.panel.markdown import render_markdown


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def tags_of(markup: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(markup)
    return parser.tags


def test_markdown_renders_emphasis_code_and_tables() -> None:
    markup = render_markdown(
        "**bold** and `x`\n\n```python\nprint(1 < 2)\n```\n\n|a|b|\n|-|-|\n|1|2|"
    )
    names = [tag for tag, _ in tags_of(markup)]
    assert {"strong", "code", "pre", "table", "td"} <= set(names)
    assert "print(1 &lt; 2)" in markup


def test_html_and_script_links_in_an_answer_are_shown_not_run() -> None:
    markup = render_markdown(
        '<img src=x onerror="alert(1)"> <script>alert(2)</script> [click](javascript:alert(3))'
    )
    tags = tags_of(markup)
    assert all(tag not in ("img", "script") for tag, _ in tags)
    assert all("javascript:" not in (attrs.get("href") or "") for _, attrs in tags)
    assert "&lt;img" in markup


def test_half_streamed_code_fence_still_renders_as_code() -> None:
    assert "<pre>" in render_markdown("Here:\n\n```python\ndef f(")


def test_copy_takes_python_blocks_as_a_code_cell_and_prose_as_markdown() -> None:
    answer = "Use this:\n\n```python\nx = 1\n```\n\nthen\n\n```\nprint(x)\n```\n"
    assert cell_for(answer) == ("code", "x = 1\n\nprint(x)")
    assert cell_for("Just words, *no code*.") == ("markdown", "Just words, *no code*.")
    shell = "Run:\n\n```bash\nls\n```\n"
    assert cell_for(shell) == ("markdown", shell)


def test_copy_button_carries_the_answer_intact_inside_its_attribute() -> None:
    answer = 'He said "hi" & left: <script>alert(1)</script>\nsecond line'
    ((tag, attrs),) = tags_of(copy_button_html(answer))
    assert tag == "button"
    assert attrs["data-text"] == answer and attrs["data-kind"] == "markdown"
    assert "disabled" not in attrs and (attrs["onclick"] or "").startswith("(function (button)")
    ((_, empty),) = tags_of(copy_button_html(None))
    assert "disabled" in empty and "data-text" not in empty
