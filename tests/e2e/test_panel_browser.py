"""The panel in a real JupyterLab in headless Chromium, clicked like a user would.

Opens ``03_panel.ipynb``, runs all cells, picks a provider, sends a prompt and sees the streamed
Markdown answer and its cost footer; sends again and stops mid-stream, seeing the partial answer
marked stopped; copies an answer into a new cell. The answers come from the emulator in this
process, which the kernel reaches over 127.0.0.1.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect, sync_playwright

from orchestify_nb.testing import LLMEmulator, Reply
from orchestify_nb.usage.ledger import Ledger
from tests.e2e.conftest import CHROMIUM_ARGS, JupyterLab
from tests.widgets.kernels import CLAUDE_MODEL, OPENAI_MODEL

pytestmark = pytest.mark.e2e

KERNEL_IDLE = """() => {
  const app = window.jupyterapp;
  const panel = app && app.shell.currentWidget;
  const kernel = panel && panel.sessionContext && panel.sessionContext.session
    && panel.sessionContext.session.kernel;
  return !!kernel && kernel.connectionStatus === 'connected' && kernel.status === 'idle';
}"""
CELL_SOURCES = """() => window.jupyterapp.shell.currentWidget.content.model.sharedModel.cells
  .map(cell => [cell.cell_type, cell.getSource()])"""

FIRST_ANSWER = (
    "Here is a **short** answer with code:\n\n"
    "```python\nprint(sum(range(10)))\n```\n\n"
    "| tokens | cost |\n|---|---|\n| 12 | cheap |\n"
)
LONG_ANSWER = "Once upon a time, " + "the panel kept streaming words. " * 120


def newest(panel: Locator, selector: str) -> Locator:
    """A part of the newest turn (the conversation lists turns oldest first)."""
    return panel.locator(".onb-turn").last.locator(selector)


def open_notebook(page: Page, lab: JupyterLab) -> Locator:
    page.goto(lab.page_url("03_panel.ipynb"))
    page.wait_for_function(KERNEL_IDLE, timeout=120_000)
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
    panel = page.locator(".onb-panel")
    expect(panel).to_be_visible(timeout=120_000)
    expect(panel.locator(".onb-strip")).to_contain_text("0 calls", timeout=30_000)
    return panel


def send(panel: Locator, prompt: str) -> None:
    panel.get_by_placeholder("Ask something").fill(prompt)
    panel.get_by_role("button", name="Send").click()


def test_panel_streams_stops_and_copies_in_jupyterlab(
    chromium_path: Path, jupyter_lab: JupyterLab, llm_emulator: LLMEmulator, tmp_path: Path
) -> None:
    llm_emulator.enqueue(
        Reply(
            text=FIRST_ANSWER,
            thinking="The user wants a short answer. A tiny code sample and a table will do.",
            input_tokens=12,
            output_tokens=40,
            chunk_delay_s=0.02,
        )
    )
    llm_emulator.enqueue(Reply(text=LONG_ANSWER, chunk_chars=6, chunk_delay_s=0.06))
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium_path), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(
                viewport={"width": 1280, "height": 1000},
                permissions=["clipboard-read", "clipboard-write"],
            )
            panel = open_notebook(page, jupyter_lab)

            # The default provider (Claude): streamed Markdown, folded thinking, cost footer.
            expect(panel.locator("input[list]").first).to_have_value(CLAUDE_MODEL)
            send(panel, "Show me a short answer")
            expect(newest(panel, ".onb-footer")).to_contain_text("12 in / 40 out tokens")
            expect(newest(panel, ".onb-footer")).to_contain_text("$")
            expect(newest(panel, ".onb-answer strong")).to_have_text("short")
            expect(newest(panel, ".onb-answer pre")).to_contain_text("print(sum(range(10)))")
            thinking = newest(panel, "details.onb-thinking")
            expect(thinking.locator("summary")).to_have_text("Thinking (15 words)")
            expect(thinking.locator("div")).to_be_hidden()  # folded once the answer started
            thinking.locator("summary").click()
            expect(thinking.locator("div")).to_contain_text("A tiny code sample")
            expect(panel.locator(".onb-strip")).to_contain_text("1 call ")

            # Copy to new cell: the answer's Python code lands in a code cell below the panel.
            before = page.evaluate(CELL_SOURCES)
            panel.locator("button.onb-copy").click()
            expect(panel.locator("button.onb-copy")).to_contain_text("Inserted below")
            after = page.evaluate(CELL_SOURCES)
            assert after[2] == ["code", "print(sum(range(10)))"]
            assert after[:2] + after[3:] == before
            # Where JupyterLab keeps its app to itself, the button copies to the clipboard.
            page.evaluate(
                "() => { window.hiddenApp = window.jupyterapp; delete window.jupyterapp; }"
            )
            panel.locator("button.onb-copy").click()
            expect(panel.locator("button.onb-copy")).to_contain_text("Copied")
            assert page.evaluate("navigator.clipboard.readText()") == "print(sum(range(10)))"
            assert (
                page.evaluate(CELL_SOURCES.replace("window.jupyterapp", "window.hiddenApp"))
                == after
            )
            page.evaluate("() => { window.jupyterapp = window.hiddenApp; }")

            # Pick the OpenAI provider (its model replaces Claude's), send, and stop mid-stream:
            # the partial answer stays, marked stopped.
            panel.locator("select").first.select_option(value="gpt · openai · key set")
            expect(panel.locator("input[list]").first).to_have_value(OPENAI_MODEL)
            send(panel, "Tell me a long story")
            expect(newest(panel, ".onb-answer")).to_contain_text("the panel kept streaming")
            panel.get_by_role("button", name="Stop").click()
            expect(newest(panel, ".onb-footer")).to_contain_text("stopped", timeout=30_000)
            expect(newest(panel, ".onb-footer")).to_contain_text("partial answer kept")
            partial = newest(panel, ".onb-answer").inner_text()
            assert partial.startswith("Once upon a time") and len(partial) < len(LONG_ANSWER)
            expect(panel.get_by_role("button", name="Send")).to_be_enabled()
            expect(panel.locator(".onb-strip")).to_contain_text("1 stopped")

            screenshot = tmp_path / "panel.png"
            panel.screenshot(path=str(screenshot))
            shutil.copy(screenshot, "/tmp/panel.png")
            expect(panel.locator(".onb-thinking div")).to_be_visible()  # still open

            # The Usage tab reads the ledger: both calls, by provider and model.
            panel.get_by_role("tab", name="Usage").click()
            expect(panel.locator(".onb-usage table")).to_contain_text(OPENAI_MODEL)
            expect(panel.locator(".onb-usage table")).to_contain_text(CLAUDE_MODEL)
            panel.screenshot(path=str(tmp_path / "panel-usage.png"))
        finally:
            browser.close()

    with Ledger(jupyter_lab.ledger) as ledger:
        rows = [(r.provider_id, r.status, r.tag) for r in ledger.records()]
    assert rows == [("claude", "ok", "panel"), ("gpt", "cancelled", "panel")]
