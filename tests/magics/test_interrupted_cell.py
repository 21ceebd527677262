"""Interrupting a streaming ``%%llm`` cell in a real kernel (nbclient) reads like the panel's
Stop: the partial answer, a footer with the call's tokens, cost and time, the output's
provenance metadata, and one line of error (no traceback) that still fails the cell, so Run All
stops there."""

from __future__ import annotations

import json
import time

import pytest

from orchestify_nb.testing import LLMEmulator, Reply
from orchestify_nb.usage.ledger import Ledger
from tests.magics.conftest import API_KEY, KernelNotebook

pytestmark = pytest.mark.kernel

ANSWER = "".join(f"word{i} " for i in range(400))


def interrupt_once_streaming(notebook: KernelNotebook, emulator: LLMEmulator) -> None:
    sent_before = len(emulator.requests)
    deadline = time.monotonic() + 30
    while len(emulator.requests) == sent_before and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.6)  # about 30 chunks of 400
    notebook.km.interrupt_kernel()


def test_interrupted_cell_keeps_partial_answer_with_usage_footer_metadata_and_one_error_line(
    kernel_notebook: KernelNotebook, emulator: LLMEmulator
) -> None:
    emulator.enqueue(Reply(text=ANSWER, input_tokens=25, chunk_chars=6, chunk_delay_s=0.02))
    cell = kernel_notebook.run(
        "%%llm tag=interrupted-footer\nCount slowly.",
        during=lambda: interrupt_once_streaming(kernel_notebook, emulator),
    )

    (record,) = [
        r for r in Ledger(kernel_notebook.ledger_path).records() if r.tag == "interrupted-footer"
    ]
    assert record.status == "cancelled" and record.input_tokens == 25

    # One line of error, no traceback through the magic and the runtime; the cell failed.
    (error,) = [o for o in cell.outputs if o.output_type == "error"]
    assert error.ename == "KeyboardInterrupt"
    assert error.traceback == [
        "KeyboardInterrupt: interrupted by the user; "
        "the partial answer above is kept and recorded as cancelled"
    ]
    assert kernel_notebook.replies[-1]["status"] == "error"  # what stops Run All
    assert "Traceback" not in json.dumps(cell) and "runtime.py" not in json.dumps(cell)

    # The partial answer with a footer like the panel's: tokens, cost and time of the call.
    (display,) = [o for o in cell.outputs if o.output_type == "display_data"]
    plain = display.data["text/plain"]
    partial, footer = plain.split("\n\n[interrupted after ")
    assert 0 < len(partial) < len(ANSWER) and ANSWER.startswith(partial)
    cost = f"${record.cost_usd:.6f}" if record.cost_usd else "cost unknown"
    assert footer.endswith(
        f" · claude · claude-sonnet-4-6 · 25 in / {record.output_tokens:,} out tokens · {cost}"
        f" · {record.latency_s:.2f} s]"
    )
    assert "■ interrupted after" in display.data["text/html"]
    assert partial.split()[0] in display.data["text/html"]

    # The provenance metadata, as a finished answer has it, tied to the ledger row.
    meta = display.metadata["orchestify_nb"]
    assert meta["status"] == "cancelled" and meta["finish_reason"] == "cancelled"
    assert meta["provider"] == "claude" and meta["model"] == "claude-sonnet-4-6"
    assert meta["params"] == {"tag": "interrupted-footer"}
    assert meta["usage"]["input_tokens"] == 25
    assert meta["usage"]["output_tokens"] == record.output_tokens
    assert meta["cost_usd"] == record.cost_usd and meta["record_id"] == record.id
    assert len(meta["prompt_sha256"]) == 64
    assert API_KEY not in json.dumps(cell)
