"""``%llm fix`` and ``%llm explain`` in a real kernel: after a ``KeyError`` the request carries
the traceback and the failing cell's source, and the suggested cell is offered next; the
magic's line is never expanded by IPython, so only ``@{name}`` inserts a value."""

from __future__ import annotations

import json

import pytest

from orchestify_nb.testing import LLMEmulator, Reply
from tests.magics.conftest import KernelNotebook, output_text

pytestmark = pytest.mark.kernel

FIXED = 'prices = {"apple": 1.2}\ntotal = prices.get("pear", 0)'


def test_fix_after_a_key_error_sends_the_traceback_and_the_cell_and_offers_the_fix(
    kernel_notebook: KernelNotebook, emulator: LLMEmulator
) -> None:
    kernel_notebook.run('prices = {"apple": 1.2}\ntotal = prices["pear"]')
    emulator.enqueue(Reply(text=f"There is no pear.\n\n```python\n{FIXED}\n```"))

    cell = kernel_notebook.run("%llm fix")

    sent = json.dumps(emulator.requests[-1].body["messages"])
    assert "KeyError: 'pear'" in sent and 'total = prices[\\"pear\\"]' in sent
    assert "prices: dict" in sent
    assert "There is no pear." in output_text(cell)
    assert {"source": "set_next_input", "text": FIXED, "replace": False} in kernel_notebook.replies[
        -1
    ]["payload"]


def test_explain_describes_an_object_and_the_line_is_not_expanded_by_ipython(
    kernel_notebook: KernelNotebook, emulator: LLMEmulator
) -> None:
    kernel_notebook.run("import numpy as np\ngrid = np.zeros((3, 4))")
    emulator.enqueue(Reply(text="A 3 by 4 grid of zeros."))

    kernel_notebook.run("%llm explain @{grid}")

    sent = json.dumps(emulator.requests[-1].body["messages"])
    assert "shape (3, 4), dtype float64" in sent
    emulator.enqueue(Reply(text="ok"))
    kernel_notebook.run("%%llm provider=gpt system={grid}\nHi")
    assert emulator.requests[-1].body["messages"][0]["content"] == "{grid}"


def test_fix_as_a_cell_takes_the_question_from_its_body_and_options_from_its_line(
    kernel_notebook: KernelNotebook, emulator: LLMEmulator
) -> None:
    kernel_notebook.run('prices = {"apple": 1.2}\ntotal = prices["pear"]')
    emulator.reset()
    emulator.enqueue(Reply(text=f"Use get.\n\n```python\n{FIXED}\n```"))

    kernel_notebook.run("%%llm fix provider=gpt max_tokens=300\nShould a missing fruit cost 0?")

    (request,) = emulator.requests
    assert request.api == "openai" and request.body["max_tokens"] == 300
    sent = json.dumps(request.body["messages"])
    assert "KeyError: 'pear'" in sent and 'total = prices[\\"pear\\"]' in sent
    assert "The user asks: Should a missing fruit cost 0?" in sent
    assert {"source": "set_next_input", "text": FIXED, "replace": False} in kernel_notebook.replies[
        -1
    ]["payload"]
