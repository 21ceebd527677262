"""``Panel(schema=...)`` in a real kernel: the answer is drawn as the object it describes (an
escaped table), and one that does not fit is one line of error with its text kept."""

from __future__ import annotations

import json

import pytest

from orchestify_nb.testing import LLMEmulator, Reply
from tests.widgets.kernels import KernelDriver

pytestmark = pytest.mark.kernel

SETUP = (
    "from pydantic import BaseModel\n"
    "from orchestify_nb import Panel\n"
    "class Invoice(BaseModel):\n"
    "    vendor: str\n"
    "    total: float\n"
    "typed = Panel(schema=Invoice)\n"
)


def test_a_typed_panel_draws_the_object_as_an_escaped_table(
    panel_kernel: KernelDriver, llm_emulator: LLMEmulator
) -> None:
    panel_kernel.run(SETUP)
    answer = json.dumps({"vendor": "<b>ACME</b>", "total": 12.5})
    llm_emulator.enqueue(Reply(text=answer, chunk_chars=6))

    panel_kernel.run("typed.send('Extract the invoice.')\nawait typed.wait()")

    shown = panel_kernel.value("typed.turns[-1].answer.value")
    assert "<th>vendor</th><td>&lt;b&gt;ACME&lt;/b&gt;</td>" in shown
    assert "<td>12.5</td>" in shown
    assert panel_kernel.value("type(typed.turns[-1].response.parsed).__name__") == "Invoice"


def test_a_typed_answer_that_does_not_fit_is_one_line_of_error(
    panel_kernel: KernelDriver, llm_emulator: LLMEmulator
) -> None:
    panel_kernel.run(SETUP)
    llm_emulator.enqueue(Reply(text='{"vendor": 3}'))

    panel_kernel.run("typed.send('Extract the invoice.')\nawait typed.wait()")

    footer = panel_kernel.value("typed.turns[-1].footer.value")
    assert "StructuredOutputError" in footer and "does not fit Invoice" in footer
