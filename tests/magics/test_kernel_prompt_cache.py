"""``%%llm cache_prompt=`` in a real kernel: the cell's request carries the breakpoints, the next
cell reads the cache, and the footer says what that saved."""

from __future__ import annotations

import pytest

from orchestify_nb.testing import LLMEmulator
from tests.magics.conftest import KernelNotebook, output_text

pytestmark = pytest.mark.kernel


def test_a_cell_with_cache_prompt_marks_its_prefix_and_the_next_cell_reads_it(
    kernel_notebook: KernelNotebook, emulator: LLMEmulator
) -> None:
    kernel_notebook.run('handbook = "Answer as the company handbook says. " * 330')
    emulator.reset()

    first = kernel_notebook.run(
        "%%llm provider=claude cache_prompt=1h system=@{handbook} tag=handbook\nTravel policy?"
    )
    second = kernel_notebook.run(
        "%%llm provider=claude cache_prompt=1h system=@{handbook} tag=handbook\nExpense limit?"
    )

    bodies = [request.body for request in emulator.requests]
    assert len(bodies) == 2, output_text(first)
    for body in bodies:
        assert body["system"][-1]["cache_control"] == {"type": "ephemeral", "ttl": "1h"}
    assert "prompt cache write +$" in output_text(first)
    assert "cached" in output_text(second) and "prompt cache saved $" in output_text(second)
    usage = kernel_notebook.run("%llm usage tag=handbook")
    assert "prompt_cache_saved_usd" in output_text(usage)
