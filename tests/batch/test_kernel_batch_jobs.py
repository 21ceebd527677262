"""Submit in one kernel, restart, collect in the next: a real kernel, results land, no resubmit."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from orchestify_nb.testing import LLMEmulator
from orchestify_nb.testing.kernel import run_in_fresh_kernel
from tests.magics.conftest import output_text, write_config

FRAME = (
    "import pandas as pd\nimport orchestify_nb.batch\n"
    "df = pd.DataFrame({'city': ['Oslo', 'Lima', 'Oslo']})"
)


def _run(directory: Path, emulator: LLMEmulator, *cells: str) -> list[str]:
    environment = {
        **os.environ,
        "ORCHESTIFY_CONFIG": str(write_config(directory, emulator)),
        "ORCHESTIFY_LEDGER": str(directory / "ledger.sqlite3"),
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
    }
    notebook: NotebookNode = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(source) for source in ("%load_ext orchestify_nb", *cells)]
    )
    run_in_fresh_kernel(notebook, environment, str(directory))
    return [output_text(cell) for cell in notebook.cells]


def test_results_land_in_the_columns_after_a_kernel_restart_without_resubmitting(
    tmp_path: Path,
) -> None:
    with LLMEmulator() as emulator:
        submitted = _run(
            tmp_path,
            emulator,
            FRAME,
            "df.llm.complete('Capital? {city}', out='a', mode='batch', provider='claude')\n"
            "print('JOB', df['a_batch_job'][0])",
        )
        job_id = submitted[-1].split("JOB ")[1].strip()
        assert emulator.batches.jobs() == [job_id]

        emulator.batches.finish()
        collected = _run(
            tmp_path,
            emulator,
            FRAME,
            f"df.llm.collect({job_id!r}, out='a')\nprint(list(df['a']), list(df['a_status']))",
            "%llm jobs",
        )
        assert emulator.batches.jobs() == [job_id]  # nothing submitted twice
    assert "['Capital? Oslo', 'Capital? Lima', 'Capital? Oslo']" in collected[-2]
    assert "['succeeded', 'succeeded', 'succeeded']" in collected[-2]
    listed = collected[-1]  # %llm jobs in the fresh kernel
    assert job_id in listed and "anthropic" in listed and "ended" in listed
