"""``Panel(schemas=[...])``: the schema chosen in the chooser is sent as the backend's native
structured-output request and the answer shows as an escaped table (``response.parsed`` is the
object); ``(text)`` asks for a plain answer; a schema pydantic cannot read fails at once."""

from __future__ import annotations

import pytest

from orchestify_nb.panel.schemas_view import PanelSchemas
from orchestify_nb.providers.structured import SchemaDefinitionError
from orchestify_nb.testing import LLMEmulator, Reply
from tests.widgets.kernels import KernelDriver

SETUP = """
from pydantic import BaseModel
from orchestify_nb import Panel
class Invoice(BaseModel):
    vendor: str
    total: float
class Receipt(BaseModel):
    shop: str
typed = Panel(schemas=[Invoice, Receipt])
"""


@pytest.mark.kernel
def test_the_chosen_schema_is_asked_natively_and_the_answer_shows_as_an_escaped_table(
    panel_kernel: KernelDriver, llm_emulator: LLMEmulator
) -> None:
    llm_emulator.enqueue(Reply(text='{"vendor": "<b>ACME</b>", "total": 12.5}', chunk_chars=5))
    panel_kernel.run(
        SETUP + "typed.schemas.selector.value = 'Invoice'\n"
        "typed.send('Extract the invoice.')\n"
        "await typed.wait()"
    )

    (request,) = llm_emulator.requests
    schema = request.body["output_config"]["format"]["schema"]
    assert set(schema["properties"]) == {"vendor", "total"}
    parsed = panel_kernel.value("repr(typed.turns[-1].response.parsed)")
    assert parsed == "Invoice(vendor='<b>ACME</b>', total=12.5)"
    answer = str(panel_kernel.value("typed.turns[-1].answer.value"))
    assert "&lt;b&gt;ACME&lt;/b&gt;" in answer and "<b>ACME" not in answer


@pytest.mark.kernel
def test_with_text_chosen_the_panel_asks_for_a_plain_answer(
    panel_kernel: KernelDriver, llm_emulator: LLMEmulator
) -> None:
    llm_emulator.enqueue(Reply(text="Plain words."))
    panel_kernel.run(SETUP + "typed.send('Hello')\nawait typed.wait()")

    (request,) = llm_emulator.requests
    assert "output_config" not in request.body
    assert "Plain words." in str(panel_kernel.value("typed.turns[-1].answer.value"))


def test_a_schema_pydantic_cannot_read_fails_when_the_chooser_is_made() -> None:
    with pytest.raises(SchemaDefinitionError, match="output_schema="):
        PanelSchemas([object()])
