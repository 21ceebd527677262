"""The panel in a real kernel: a stopped answer's footer counts what the call used, and the
panel's saved output carries the conversation as static HTML for viewers without widgets."""

from __future__ import annotations

import pytest

from orchestify_nb.testing import LLMEmulator, Reply
from tests.widgets.kernels import CLAUDE_MODEL, KernelDriver
from tests.widgets.test_panel_kernel import WAIT_FOR_TEXT

pytestmark = pytest.mark.kernel


def test_stopped_answer_footer_shows_the_tokens_and_cost_the_call_used(
    panel_kernel: KernelDriver, llm_emulator: LLMEmulator
) -> None:
    full = "word " * 400
    llm_emulator.enqueue(Reply(text=full, input_tokens=30, chunk_chars=5, chunk_delay_s=0.05))
    panel_kernel.run("panel.send('Tell me a long story')")
    panel_kernel.run(WAIT_FOR_TEXT)
    panel_kernel.run("panel.ui.stop.click()\nawait panel.wait()")

    footer = panel_kernel.value("panel.turns[-1].footer.value")
    row = panel_kernel.value(
        "[(r.input_tokens, r.output_tokens, r.cost_usd) for r in "
        "panel.registry.get('claude').usage_sink.records(status='cancelled')][-1]"
    )
    assert "■ stopped" in footer and "partial answer kept" in footer
    assert f"{CLAUDE_MODEL} · 30 in / {row[1]:,} out tokens · $" in footer
    assert row[0] == 30 and row[2] > 0


def test_panel_output_carries_the_conversation_as_inert_static_html(
    panel_kernel: KernelDriver, llm_emulator: LLMEmulator
) -> None:
    answer = 'A **bold** claim.\n\n<img src=x onerror="window.__pwned=1">'
    llm_emulator.enqueue(Reply(text=answer, input_tokens=12, output_tokens=7))
    panel_kernel.run("panel.send('Summarise <the> data')\nawait panel.wait()")

    panel_kernel.run("panel")  # the bundle a saved notebook keeps for the panel's output
    (bundle,) = panel_kernel.displayed
    static = bundle["text/html"]
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert "Summarise &lt;the&gt; data" in static
    assert "<strong>bold</strong>" in static
    assert "12 in / 7 out tokens" in static
    assert "&lt;img src=x" in static and "<img" not in static
