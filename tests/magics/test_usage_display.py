"""``%llm usage`` in a real kernel: a table that fits a notebook (cost and calls first, no
all-zero columns, long model names shortened) and that shows a server's model name as text."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from orchestify_nb.testing import LLMEmulator, Reply
from tests.magics.conftest import KernelNotebook

pytestmark = pytest.mark.kernel

LONG_MODEL = "claude-sonnet-4-6-ft-our-quarterly-reporting-project-2026-v3"
HOSTILE_MODEL = '<img src=x onerror="window.__pwned=1">'


class _Table(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.headers: list[str] = []
        self._in_th = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self._in_th = tag == "th"
        if tag == "th":
            self.headers.append("")

    def handle_endtag(self, tag: str) -> None:
        self._in_th = self._in_th and tag != "th"

    def handle_data(self, data: str) -> None:
        if self._in_th:
            self.headers[-1] += data


def test_usage_table_puts_cost_and_calls_first_and_fits_a_notebook(
    kernel_notebook: KernelNotebook, emulator: LLMEmulator
) -> None:
    emulator.enqueue(Reply(text="one", input_tokens=10, output_tokens=5))
    kernel_notebook.run("%%llm tag=wide\nFirst.")
    emulator.enqueue(Reply(text="two", input_tokens=10, output_tokens=5))
    kernel_notebook.run(f"%%llm tag=wide model={LONG_MODEL}\nSecond.")
    emulator.enqueue(Reply(text="three", model=HOSTILE_MODEL))
    kernel_notebook.run("%%llm tag=wide\nThird.")

    cell = kernel_notebook.run("%llm usage tag=wide")
    (table,) = [o for o in cell.outputs if o.output_type == "execute_result"]
    parsed = _Table()
    parsed.feed(table.data["text/html"])
    columns = [h for h in parsed.headers if h][:4]
    assert columns == ["cost_usd", "calls", "input_tokens", "output_tokens"]
    assert "cache_read_tokens" not in parsed.headers and "reasoning_tokens" not in parsed.headers
    assert (
        len([h for h in parsed.headers if h.endswith(("_s", "_rate", "_tokens", "calls", "usd"))])
        <= 7
    )

    assert LONG_MODEL not in table.data["text/html"]
    shortened = [h for h in parsed.headers if h.startswith("claude-sonnet") and "…" in h]
    assert len(shortened) == 1 and len(shortened[0]) <= 28 and shortened[0].endswith("2026-v3")

    assert "img" not in parsed.tags  # the server's model name is shown as text
    assert "&lt;img" in table.data["text/html"]
