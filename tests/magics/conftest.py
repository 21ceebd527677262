"""A real ipykernel, started once per test module, with ``%load_ext orchestify_nb`` pointed at the
loopback emulator through a config file, and a helper that runs cells in it like a notebook."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import nbformat
import pytest
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient
from nbformat import NotebookNode

from orchestify_nb.testing import LLMEmulator

API_KEY = "sk-test-SECRET-0123456789"


def write_config(directory: Path, emulator: LLMEmulator) -> Path:
    """A config with an Anthropic and an OpenAI provider, both served by ``emulator``."""
    path = directory / "orchestify.yaml"
    path.write_text(
        f"""\
providers:
  claude:
    type: anthropic
    api_key: {API_KEY}
    base_url: {emulator.base_url}
    default_model: claude-sonnet-4-6
    max_retries: 0
  gpt:
    type: openai
    api_key: {API_KEY}
    base_url: {emulator.openai_base_url}
    default_model: gpt-4.1-mini
    max_retries: 0
default_provider: claude
agents:
  terse:
    provider: gpt
    temperature: 0.1
    system: Answer in five words.
""",
        encoding="utf-8",
    )
    return path


class KernelNotebook:
    """Cells run one by one in one live kernel; ``cells`` keeps them as a saved notebook would.

    ``replies`` holds each cell's ``execute_reply`` content (payloads such as set_next_input).
    """

    def __init__(self, client: NotebookClient, km: KernelManager, ledger_path: Path) -> None:
        self.client = client
        self.km = km
        self.ledger_path = ledger_path
        self.replies: list[dict[str, Any]] = []
        client.on_cell_executed = self._keep_reply

    def _keep_reply(self, cell: NotebookNode, cell_index: int, execute_reply: Any) -> None:
        self.replies.append(execute_reply["content"])

    def run(self, source: str, *, during: Callable[[], None] | None = None) -> NotebookNode:
        """Execute ``source`` as a new cell; ``during`` runs on a thread while it executes."""
        cell = nbformat.v4.new_code_cell(source)
        self.client.nb.cells.append(cell)
        helper = threading.Thread(target=during, name="test-during-cell") if during else None
        if helper is not None:
            helper.start()
        try:
            self.client.execute_cell(cell, len(self.client.nb.cells) - 1)
        finally:
            if helper is not None:
                helper.join(30)
        return cell

    def text(self, source: str) -> str:
        """Run ``source`` and return everything its outputs show as text."""
        return output_text(self.run(source))


def output_text(cell: NotebookNode) -> str:
    parts = []
    for output in cell.outputs:
        if output.output_type == "stream":
            parts.append(output.text)
        elif output.output_type in ("display_data", "execute_result"):
            parts.append(output.data.get("text/plain", ""))
        elif output.output_type == "error":
            parts.append(f"{output.ename}: {output.evalue}")
    return "".join(parts)


@pytest.fixture(scope="module")
def emulator() -> Iterator[LLMEmulator]:
    with LLMEmulator() as emu:
        yield emu


@pytest.fixture(scope="module")
def kernel_notebook(
    emulator: LLMEmulator, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[KernelNotebook]:
    """One kernel for the module, with the extension loaded; shut down after the last test."""
    directory = tmp_path_factory.mktemp("kernel")
    with kernel_with_config(directory, write_config(directory, emulator)) as notebook:
        yield notebook


@contextmanager
def kernel_with_config(directory: Path, config: Path) -> Iterator[KernelNotebook]:
    """A kernel started in ``directory`` with ``config`` and its own ledger there, the
    extension loaded."""
    ledger_path = directory / "ledger.sqlite3"
    env = {
        **os.environ,
        "ORCHESTIFY_CONFIG": str(config),
        "ORCHESTIFY_LEDGER": str(ledger_path),
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
    }
    km = KernelManager(kernel_name="python3")  # ipykernel's native spec: this interpreter
    client = NotebookClient(
        nbformat.v4.new_notebook(), km=km, timeout=60, allow_errors=True, record_timing=False
    )
    km.start_kernel(env=env, cwd=str(directory))
    try:
        with client.setup_kernel():
            notebook = KernelNotebook(client, km, ledger_path)
            loaded = notebook.run("%load_ext orchestify_nb")
            assert loaded.outputs == [], output_text(loaded)
            yield notebook
    finally:
        if client.kc is not None:
            client.kc.stop_channels()
        km.shutdown_kernel(now=True)
