"""A real kernel on a team ledger: ``ORCHESTIFY_LEDGER`` set to the PostgreSQL URL, calls
recorded with the hub user, ``%llm usage --by user``, and the password in no output."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

from orchestify_nb.testing import LLMEmulator, Reply
from orchestify_nb.testing.postgres import LEDGER_PASSWORD, PostgresServer
from tests.magics.conftest import KernelNotebook, output_text, write_config


@pytest.fixture
def team_kernel(
    postgres: PostgresServer, tmp_path: Path
) -> Iterator[tuple[KernelNotebook, LLMEmulator]]:
    with LLMEmulator() as emulator:
        env = {
            **os.environ,
            "ORCHESTIFY_CONFIG": str(write_config(tmp_path, emulator)),
            "ORCHESTIFY_LEDGER": postgres.url,
            "JUPYTERHUB_USER": "ana",
            "PYDEVD_DISABLE_FILE_VALIDATION": "1",
        }
        km = KernelManager(kernel_name="python3")
        client = NotebookClient(
            nbformat.v4.new_notebook(), km=km, timeout=60, allow_errors=True, record_timing=False
        )
        km.start_kernel(env=env, cwd=str(tmp_path))
        try:
            with client.setup_kernel():
                notebook = KernelNotebook(client, km, tmp_path / "unused.sqlite3")
                notebook.run("%load_ext orchestify_nb")
                yield notebook, emulator
        finally:
            if client.kc is not None:
                client.kc.stop_channels()
            km.shutdown_kernel(now=True)


def test_kernel_on_a_team_ledger_records_the_hub_user_and_usage_by_user_shows_it(
    team_kernel: tuple[KernelNotebook, LLMEmulator],
) -> None:
    notebook, emulator = team_kernel
    emulator.enqueue(Reply(text="first answer"), Reply(text="second answer"))
    outputs = [
        notebook.text("%%llm\nfirst question"),
        notebook.text("%%llm\nsecond question"),
        notebook.text(
            "from orchestify_nb.usage import get_default_ledger\n"
            "get_default_ledger().flush()\n"
            "print(repr(get_default_ledger()))"
        ),
        notebook.text("%llm usage --by user"),
        notebook.text("%llm config"),
    ]

    assert "first answer" in outputs[0] and "second answer" in outputs[1]
    assert "postgresql://***@127.0.0.1" in outputs[2]
    usage = outputs[3]
    assert re.search(r"^ana\s+[\d.]+\s+2\s", usage, re.MULTILINE), usage  # ana: 2 calls
    assert all(LEDGER_PASSWORD not in text for text in outputs)
    assert all(LEDGER_PASSWORD not in output_text(cell) for cell in notebook.client.nb.cells)
