"""Model output in a real JupyterLab in headless Chromium: hostile answers run nothing, and an
interrupted ``%%llm`` cell ends with its partial answer, a footer and one line of error.

A notebook of ``%%llm`` cells runs with Run All, as a user would. The emulator answers with
payloads that set a ``window`` flag if the page ever runs them (while the answer streams, at its
final render, in the default Markdown format and in the ``format=html`` opt-in, and in the
panel); the flags must stay unset and the markup show as text. The last answer is interrupted as the
toolbar's ■ does it: no traceback, and Run All stops at that cell.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import nbformat
import pytest
from playwright.sync_api import Locator, Page, expect, sync_playwright

from orchestify_nb.testing import LLMEmulator, Reply
from tests.e2e.conftest import CHROMIUM_ARGS, JupyterLab
from tests.e2e.test_panel_browser import KERNEL_IDLE, newest, send

pytestmark = pytest.mark.e2e

MARKDOWN_ANSWER = (
    "Here is the **summary** you asked for.\n\n"
    '<img src="no-such-image.png" onerror="window.__pwned_markdown = 1">\n\n'
    '<svg><animate onbegin="window.__pwned_markdown = 2" attributeName="x" dur="1s"/></svg>\n\n'
    "<script>window.__pwned_markdown = 3</script>\n\n"
    "[open the report](javascript:window.__pwned_markdown=4) and `<b>code stays text</b>`.\n"
)
HTML_ANSWER = (
    "<h3>Report</h3><p>All <b>fine</b>.</p>"
    '<img src="no-such-image.png" onerror="window.__pwned_html = 1">'
    '<iframe srcdoc="<script>parent.__pwned_html = 2</script>"></iframe>'
    '<p style="position:fixed;top:0;left:0">styled</p>'
    '<a href="javascript:window.__pwned_html=3" id="hostile-link">click me</a>'
)
PANEL_ANSWER = 'Panel answer <img src="no-such-image.png" onerror="window.__pwned_panel = 1">'
SLOW_ANSWER = "Counting: " + " ".join(f"n{i}" for i in range(600))
#: Run All as the menu does, without waiting for the cells (``evaluate`` awaits promises).
RUN_ALL = "() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }"
INTERRUPT = """async () => {
  await window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.interrupt();
}"""
FLAGS = "() => [window.__pwned_markdown, window.__pwned_html, window.__pwned_panel]"

CELLS = [
    "%load_ext orchestify_nb",
    "%%llm\nSummarise the attached document.",
    "%%llm format=html\nThe report as HTML.",
    "%%llm tag=slow\nCount slowly.",
    "print('Run All went on past the interrupted cell')",
    "from orchestify_nb.widgets import Panel\npanel = Panel()\npanel",
]


def write_notebook(root: Path) -> str:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in CELLS]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nbformat.write(notebook, root / "untrusted.ipynb")
    return "untrusted.ipynb"


def output_of(page: Page, index: int) -> Locator:
    """What the outputs of cell ``index`` render (JupyterLab's own prompts and icons left out)."""
    return page.locator(".jp-Notebook .jp-Cell").nth(index).locator(".jp-OutputArea-output")


def wait_for_streaming(page: Page, index: int, text: str) -> None:
    expect(output_of(page, index)).to_contain_text(text, timeout=60_000)


def test_hostile_answers_run_nothing_and_an_interrupted_cell_shows_no_traceback(
    chromium_path: Path, jupyter_lab: JupyterLab, llm_emulator: LLMEmulator, tmp_path: Path
) -> None:
    llm_emulator.enqueue(Reply(text=MARKDOWN_ANSWER, chunk_chars=7, chunk_delay_s=0.01))
    llm_emulator.enqueue(Reply(text=HTML_ANSWER, chunk_chars=9, chunk_delay_s=0.01))
    llm_emulator.enqueue(
        Reply(text=SLOW_ANSWER, input_tokens=21, chunk_chars=4, chunk_delay_s=0.05)
    )
    notebook = write_notebook(jupyter_lab.root)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium_path), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1400})
            page.goto(jupyter_lab.page_url(notebook))
            page.wait_for_function(KERNEL_IDLE, timeout=120_000)
            page.evaluate(RUN_ALL)

            # Both hostile answers stream in and reach their final render (the footer): no
            # payload ran, neither while streaming nor at the end.
            markdown, html = output_of(page, 1), output_of(page, 2)
            expect(markdown).to_contain_text("claude-sonnet-4-5", timeout=60_000)  # the footer
            expect(html).to_contain_text("claude-sonnet-4-5", timeout=60_000)
            page.wait_for_timeout(500)  # give a failed image's error handler time to fire
            assert page.evaluate(FLAGS) == [None, None, None], "an answer ran script"

            # The Markdown answer: rendered as Markdown, its HTML shown as text.
            expect(markdown.locator("strong")).to_have_text("summary")
            expect(markdown).to_contain_text('<img src="no-such-image.png" onerror=')
            expect(markdown).to_contain_text("<script>window.__pwned_markdown = 3</script>")
            expect(markdown.locator("code")).to_have_text("<b>code stays text</b>")
            assert markdown.locator("img, svg, script, a[href^='javascript']").count() == 0

            # format=html: the formatting stays, scripts, handlers, frames and styles do not.
            expect(html.locator("h3")).to_have_text("Report")
            expect(html.locator("b")).to_have_text("fine")
            assert html.locator("img, iframe, script, [style*='fixed']").count() == 0
            assert html.locator("a#hostile-link, a[href^='javascript']").count() == 0

            # Interrupt the slow answer mid-stream, as the toolbar's ■ does.
            wait_for_streaming(page, 3, "n40")
            page.evaluate(INTERRUPT)
            slow = page.locator(".jp-Notebook .jp-Cell").nth(3).locator(".jp-OutputArea")
            expect(slow).to_contain_text("■ interrupted after", timeout=30_000)
            expect(slow).to_contain_text("21 in / ")
            expect(slow).to_contain_text(
                "KeyboardInterrupt: interrupted by the user; the partial answer above is kept"
            )
            expect(slow).not_to_contain_text("Traceback")
            expect(slow).not_to_contain_text("runtime.py")
            page.wait_for_function(KERNEL_IDLE, timeout=60_000)
            time.sleep(1.0)  # Run All would have started the next cell by now
            assert output_of(page, 4).count() == 0  # the cell after it never ran

            # The panel (its own cell, run by hand): a hostile answer is inert there too.
            page.locator(".jp-Notebook .jp-Cell").nth(5).click()
            llm_emulator.enqueue(Reply(text=PANEL_ANSWER))
            page.evaluate("window.jupyterapp.commands.execute('notebook:run-cell')")
            panel = page.locator(".onb-panel")
            expect(panel).to_be_visible(timeout=60_000)
            send(panel, "Answer with an image")
            expect(newest(panel, ".onb-footer")).to_contain_text("out tokens", timeout=30_000)
            expect(newest(panel, ".onb-answer")).to_contain_text("<img src=")
            assert newest(panel, ".onb-answer img").count() == 0

            page.wait_for_timeout(500)  # give any image error handler time to fire
            assert page.evaluate(FLAGS) == [None, None, None]
            screenshot = tmp_path / "untrusted-and-interrupted.png"
            page.locator(".jp-Notebook .jp-Cell").nth(1).scroll_into_view_if_needed()
            page.screenshot(path=str(screenshot), full_page=True)
            shutil.copy(screenshot, "/tmp/untrusted-and-interrupted.png")
        finally:
            browser.close()
