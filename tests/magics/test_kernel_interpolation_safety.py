"""In a real kernel: an ``@{...}`` whose property or ``__str__`` raises, or that walks toward the
keys, is one ``UsageError`` paragraph and sends nothing; ``out=`` cannot replace IPython's own
names."""

from __future__ import annotations

import pytest

from orchestify_nb.testing import LLMEmulator, Reply
from tests.magics.conftest import API_KEY, KernelNotebook, output_text

pytestmark = pytest.mark.kernel

_DEFINE = """\
class Exploding:
    @property
    def value(self):
        raise ValueError("the property failed")
    def __str__(self):
        raise RuntimeError("__str__ failed")
exploding = Exploding()
import os
"""


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ("exploding.value", "reading exploding.value raised ValueError: the property failed"),
        ("exploding", "rendering exploding raised RuntimeError: __str__ failed"),
        ("os.environ", "os is a module, whose attributes are not followed"),
        ("get_ipython.__self__", "attributes starting with _"),
    ],
)
def test_a_failing_or_refused_reference_is_one_paragraph_and_sends_nothing(
    kernel_notebook: KernelNotebook, emulator: LLMEmulator, reference: str, message: str
) -> None:
    kernel_notebook.run(_DEFINE)
    before = len(emulator.requests)
    cell = kernel_notebook.run(f"%%llm\nLook at @{{{reference}}}")
    text = output_text(cell)
    assert text.startswith("UsageError: ") and "Traceback" not in text, text
    assert f"@{{{reference}}}" in text and message in text
    assert [o.output_type for o in cell.outputs] == ["stream"], cell.outputs
    assert len(emulator.requests) == before
    assert API_KEY not in text


@pytest.mark.parametrize("name", ["get_ipython", "In", "Out", "_", "__builtins__", "print"])
def test_out_cannot_replace_ipythons_or_pythons_names_and_the_kernel_keeps_working(
    kernel_notebook: KernelNotebook, emulator: LLMEmulator, name: str
) -> None:
    before = len(emulator.requests)
    text = kernel_notebook.text(f"%%llm out={name}\nhi")
    assert text.startswith("UsageError: ") and f"{name} is a name IPython or Python" in text
    assert len(emulator.requests) == before
    emulator.enqueue(Reply(text="still fine"))
    kernel_notebook.run("%%llm out=answer\nhi")
    shown = kernel_notebook.text("print(type(get_ipython()).__name__, In[-1][:5], answer.content)")
    assert shown.strip() == "ZMQInteractiveShell print still fine"
