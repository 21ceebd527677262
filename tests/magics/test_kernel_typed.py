"""``%%llm schema=NAME`` in a real kernel: the answer validated into the notebook's type, shown
as an escaped table with the usual footer, ``out=`` holding the response and ``.parsed`` the
object; an unknown name is one line."""

from __future__ import annotations

import json

import pytest

from orchestify_nb.testing import LLMEmulator, Reply
from tests.magics.conftest import KernelNotebook, output_text

pytestmark = pytest.mark.kernel

DEFINE_INVOICE = (
    "from pydantic import BaseModel\nclass Invoice(BaseModel):\n    vendor: str\n    total: float\n"
)
HOSTILE = '<img src=x onerror="window.__pwned=1">'


def test_a_typed_cell_shows_the_object_as_a_table_and_keeps_it_in_out(
    kernel_notebook: KernelNotebook, emulator: LLMEmulator
) -> None:
    kernel_notebook.run(DEFINE_INVOICE)
    emulator.enqueue(Reply(text=json.dumps({"vendor": HOSTILE, "total": 12.5})))

    cell = kernel_notebook.run("%%llm provider=gpt schema=Invoice out=inv\nExtract the invoice.")

    (shown,) = [o for o in cell.outputs if o.output_type in ("display_data", "execute_result")][:1]
    table = shown.data["text/html"]
    assert "<th>vendor</th>" in table and "<td>12.5</td>" in table
    assert "&lt;img" in table and "<img" not in table
    assert "gpt-4.1-mini" in table  # the usual footer
    assert shown.data["application/json"] == {"vendor": HOSTILE, "total": 12.5}
    value = kernel_notebook.run("print(type(inv.parsed).__name__, inv.parsed.total)")
    assert output_text(value).strip() == "Invoice 12.5"


def test_an_unknown_schema_name_is_one_line_and_sends_nothing(
    kernel_notebook: KernelNotebook, emulator: LLMEmulator
) -> None:
    emulator.reset()

    cell = kernel_notebook.run("%%llm provider=gpt schema=Nowhere\nExtract.")

    assert "nothing named 'Nowhere' in the notebook" in output_text(cell)
    assert emulator.requests == []


def test_a_streamed_typed_cell_is_repaired_and_both_turns_share_a_run_id(
    kernel_notebook: KernelNotebook, emulator: LLMEmulator
) -> None:
    kernel_notebook.run(DEFINE_INVOICE)
    emulator.enqueue(
        Reply(text='{"vendor": "ACME", "total": "lots"}', chunk_chars=4),
        Reply(text='{"vendor": "ACME", "total": 9.5}'),
    )

    cell = kernel_notebook.run(
        "%%llm provider=gpt schema=Invoice out=fixed tag=typed-stream\nExtract the invoice."
    )

    assert "<td>9.5</td>" in output_text_html(cell)
    assert emulator.requests[-2].stream is True and emulator.requests[-1].stream is False
    runs = kernel_notebook.run(
        "from orchestify_nb.usage import get_default_ledger\n"
        "rows = [r for r in get_default_ledger().records() if r.tag == 'typed-stream']\n"
        "print(len(rows), len({r.run_id for r in rows}), rows[0].error_type)"
    )
    assert output_text(runs).strip() == "2 1 StructuredOutputError"


def output_text_html(cell: object) -> str:
    outputs = getattr(cell, "outputs", [])
    return "".join(o.data.get("text/html", "") for o in outputs if "data" in o)
