"""Run All, restart, Run All: a real kernel pays for each ``%%llm`` cell once, and replay mode
with nothing recorded fails the first cell in one line without sending anything."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from orchestify_nb.testing import LLMEmulator, Reply
from orchestify_nb.testing.kernel import run_in_fresh_kernel
from tests.magics.conftest import output_text, write_config

PROMPTS = ("Name a prime.", "Name a colour.", "Name a river.")
ANSWERS = ("Seven.", "Teal.", "The Rhine.")


def _notebook(first: str | None, extra: str | None) -> NotebookNode:
    load = "%load_ext orchestify_nb" + (f"\n{first}" if first else "")
    cells = [nbformat.v4.new_code_cell(load)]
    cells += [
        nbformat.v4.new_code_cell(f"%%llm provider=gpt temperature=0\n{prompt}")
        for prompt in PROMPTS
    ]
    if extra:
        cells.append(nbformat.v4.new_code_cell(extra))
    return nbformat.v4.new_notebook(cells=cells)


def _run_all(
    directory: Path,
    emulator: LLMEmulator,
    first_cell: str | None = None,
    extra_cell: str | None = None,
    **env: str,
) -> NotebookNode:
    """Execute the notebook in a fresh kernel (a restart: nothing in memory survives), with
    ``first_cell`` run after ``%load_ext`` and ``extra_cell`` appended."""
    inherited = {k: v for k, v in os.environ.items() if k != "ORCHESTIFY_CACHE"}  # suite: off
    environment = {
        **inherited,
        "ORCHESTIFY_CONFIG": str(write_config(directory, emulator)),
        "ORCHESTIFY_LEDGER": str(directory / "ledger.sqlite3"),
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
        **env,
    }
    notebook = _notebook(first_cell, extra_cell)
    run_in_fresh_kernel(notebook, environment, str(directory))
    return notebook


def _answers(notebook: NotebookNode) -> list[str]:
    return [output_text(cell) for cell in notebook.cells[1:]]


def test_running_three_cells_twice_with_a_restart_sends_three_requests(tmp_path: Path) -> None:
    with LLMEmulator() as emulator:
        emulator.enqueue(*(Reply(text=answer) for answer in ANSWERS))

        first = _answers(_run_all(tmp_path, emulator))
        second = _answers(_run_all(tmp_path, emulator))

        assert len(emulator.requests) == 3
    for answer, bought, replayed in zip(ANSWERS, first, second, strict=True):
        assert answer in bought and answer in replayed
        assert "cached" not in bought
        assert "cached · from" in replayed and "saved $" in replayed


def test_replay_with_nothing_recorded_fails_the_first_cell_in_one_line(tmp_path: Path) -> None:
    with LLMEmulator() as emulator:
        notebook = _run_all(tmp_path, emulator, ORCHESTIFY_CACHE="replay")

        assert emulator.requests == []
    [error] = [o.text for o in notebook.cells[1].outputs if o.output_type == "stream"]
    assert error.startswith("UsageError: cache=replay: no recorded answer for cell In[2]")
    assert error.count("\n") == 1  # one line


def test_exported_answers_replay_in_a_fresh_ledger_with_zero_requests(tmp_path: Path) -> None:
    recording, replaying = tmp_path / "recording", tmp_path / "replaying"
    recording.mkdir()
    replaying.mkdir()
    with LLMEmulator() as emulator:
        emulator.enqueue(*(Reply(text=answer) for answer in ANSWERS))
        recorded = _run_all(recording, emulator, extra_cell="%llm cache export answers.json")
        (replaying / "answers.json").write_bytes((recording / "answers.json").read_bytes())

        replayed = _run_all(
            replaying,
            emulator,
            ORCHESTIFY_CACHE="replay",
            first_cell="%llm cache import answers.json",
        )

        assert len(emulator.requests) == 3
    assert "Exported 3 cached answer(s)" in output_text(recorded.cells[-1])
    for answer, text in zip(ANSWERS, _answers(replayed)[:3], strict=True):
        assert answer in text
