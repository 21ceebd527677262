"""A saved notebook never holds a key: a real kernel loads the extension from a config whose keys
are ``${VAR}`` references filled from the kernel's environment, lists providers, shows the
config, fails a call (401) and prints ``%llm error``, answers through every backend, opens the
panel and displays the session; the notebook as nbformat would save it, and the kernel's
ledger file, contain no key."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

from orchestify_nb.testing import Fault, LLMEmulator
from tests.magics.conftest import KernelNotebook, output_text
from tests.security.leaks import BACKENDS, FakeKeys, assert_no_key, write_config

pytestmark = pytest.mark.kernel


@dataclass
class SecuredKernel:
    notebook: KernelNotebook
    emulator: LLMEmulator
    keys: FakeKeys
    directory: Path


@pytest.fixture(scope="module")
def secured_kernel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecuredKernel]:
    """One kernel for the module; its keys exist only in its environment."""
    directory = tmp_path_factory.mktemp("secured-kernel")
    keys = FakeKeys.new()
    with LLMEmulator() as emulator:
        config = write_config(
            directory / "orchestify.yaml",
            anthropic_url=emulator.base_url,
            openai_url=emulator.openai_base_url,
        )
        env = {
            **os.environ,
            **keys.environ,
            "ORCHESTIFY_CONFIG": str(config),
            "ORCHESTIFY_LEDGER": str(directory / "ledger.sqlite3"),
            "PYDEVD_DISABLE_FILE_VALIDATION": "1",
        }
        manager = KernelManager(kernel_name="python3")
        client = NotebookClient(
            nbformat.v4.new_notebook(), km=manager, timeout=60, allow_errors=True
        )
        manager.start_kernel(env=env, cwd=str(directory))
        try:
            with client.setup_kernel():
                notebook = KernelNotebook(client, manager, directory / "ledger.sqlite3")
                yield SecuredKernel(notebook, emulator, keys, directory)
        finally:
            if client.kc is not None:
                client.kc.stop_channels()
            manager.shutdown_kernel(now=True)


def test_saved_notebook_and_ledger_hold_no_key_after_listing_failing_and_answering(
    secured_kernel: SecuredKernel,
) -> None:
    notebook, emulator = secured_kernel.notebook, secured_kernel.emulator
    shown: dict[str, str] = {}

    shown["load"] = notebook.text("%load_ext orchestify_nb")
    shown["providers"] = notebook.text("%llm providers")
    shown["config"] = notebook.text("%llm config")
    for backend in BACKENDS:
        emulator.enqueue(Fault.unauthorized())
        shown[f"fail {backend.provider_id}"] = notebook.text(
            f"%%llm provider={backend.provider_id}\nTell me a secret."
        )
        shown[f"error {backend.provider_id}"] = notebook.text("%llm error")
        shown[f"ok {backend.provider_id}"] = notebook.text(
            f"%%llm provider={backend.provider_id}\nHello from {backend.provider_id}."
        )
    shown["usage"] = notebook.text("%llm usage")
    shown["panel"] = notebook.text("%llm panel")
    shown["session"] = notebook.text("from orchestify_nb.session import get_session\nget_session()")

    # The cells did what they should, so their outputs are worth checking.
    assert "litellm_anthropic" in shown["providers"] and "yes" in shown["providers"]
    assert "orchestify.yaml" in shown["config"]
    assert "AuthenticationError" in shown["session"]  # its last_error is the 401 above
    for backend in BACKENDS:
        assert "API key was rejected" in shown[f"fail {backend.provider_id}"]
        assert "Traceback" in shown[f"error {backend.provider_id}"]
        assert f"Hello from {backend.provider_id}." in shown[f"ok {backend.provider_id}"]
    saved = nbformat.writes(notebook.client.nb)
    assert_no_key(saved, secured_kernel.keys.all, "the saved notebook")
    ledger = notebook.ledger_path
    assert ledger.exists(), "the kernel wrote no ledger"
    for side_file in ledger.parent.glob(f"{ledger.name}*"):
        assert_no_key(side_file.read_bytes(), secured_kernel.keys.all, f"kernel ledger {side_file}")


def test_loading_a_broken_config_with_a_literal_key_shows_no_key(
    secured_kernel: SecuredKernel,
) -> None:
    broken = secured_kernel.directory / "broken.yaml"
    key = secured_kernel.keys.openai
    broken.write_text(f"providers:\n  gpt:\n    type: openai\n    api_key: !!int {key}\n")

    cell = secured_kernel.notebook.run(f"%llm config {broken}")
    error = secured_kernel.notebook.run("%llm error")

    assert "UsageError" in output_text(cell), "the broken config was not reported"
    for shown in (cell, error):
        assert_no_key(nbformat.writes(nbformat.v4.new_notebook(cells=[shown])), [key], "cell")
