"""`python -m orchestify_nb.demo` (the `make demo` job) runs a notebook headless in a real kernel
on the embedded local model, without the caller's API keys, and reports usage or the failure."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

pytestmark = [pytest.mark.kernel, pytest.mark.local_model]

SHOW_ENVIRONMENT = (
    "import os\n"
    "print(sorted(k for k in ('ANTHROPIC_API_KEY', 'OPENAI_API_KEY', 'ORCHESTIFY_CONFIG')"
    " if k in os.environ))\n"
    "print(os.environ['ORCHESTIFY_LEDGER'])"
)


def write_notebook(path: Path, *sources: str) -> Path:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    nbformat.write(notebook, path)  # type: ignore[no-untyped-call]
    return path


def run_demo(
    notebook: Path, output_dir: Path, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "ANTHROPIC_API_KEY": "sk-ant-demo-test-key",
        "OPENAI_API_KEY": "sk-demo-test-key",
        "ORCHESTIFY_CONFIG": str(notebook),  # would be an invalid config if it leaked through
    }
    command = [sys.executable, "-m", "orchestify_nb.demo", "--notebook", str(notebook)]
    return subprocess.run(
        [*command, "--output-dir", str(output_dir), "--timeout", "300"],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=600,
        check=False,
    )


def test_demo_runs_without_keys_on_the_local_model_and_prints_the_usage_table(
    tmp_path: Path,
) -> None:
    (tmp_path / "notebooks").mkdir()
    notebook = write_notebook(
        tmp_path / "notebooks" / "tiny.ipynb",
        SHOW_ENVIRONMENT,
        "%load_ext orchestify_nb",
        "%%llm max_tokens=8\nThe capital of France is",
        "print(_.provider_id, _.tokens_output, _.cost_usd)",
    )
    output_dir = tmp_path / "demo-output"

    # Relative, as `make demo` passes it, while the kernel runs in the notebook's folder.
    result = run_demo(notebook, Path("demo-output"), cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    table = result.stdout.split("Usage recorded by this run")[1]
    assert "local    gemma-3-270m-q4_k_m.gguf ok" in table
    executed = nbformat.read(output_dir / "tiny.ipynb", as_version=4)  # type: ignore[no-untyped-call]
    environment = executed.cells[0].outputs[0]["text"].splitlines()
    assert environment == ["[]", str(output_dir / "ledger.sqlite3")]
    assert executed.cells[3].outputs[0]["text"] == "local 8 0.0\n"


def test_demo_names_the_failing_cell_and_keeps_the_executed_notebook(tmp_path: Path) -> None:
    notebook = write_notebook(
        tmp_path / "broken.ipynb", "x = 1", "raise ValueError('boom')", "y = 2"
    )

    result = run_demo(notebook, tmp_path / "out")

    assert result.returncode == 1
    assert "broken.ipynb failed in cell 2: ValueError: boom" in result.stderr
    saved = nbformat.read(tmp_path / "out" / "broken.ipynb", as_version=4)  # type: ignore[no-untyped-call]
    assert saved.cells[1].outputs[0]["ename"] == "ValueError"


def test_demo_fails_when_the_notebook_made_no_local_call(tmp_path: Path) -> None:
    result = run_demo(write_notebook(tmp_path / "quiet.ipynb", "x = 1"), tmp_path / "out")

    assert result.returncode == 1
    assert "recorded no call to the local model" in result.stderr


def test_demo_without_the_notebook_says_where_to_run_it(tmp_path: Path) -> None:
    result = run_demo(tmp_path / "missing.ipynb", tmp_path / "out")

    assert result.returncode == 1
    assert "missing.ipynb' not found" in result.stderr
    assert "make demo" in result.stderr
