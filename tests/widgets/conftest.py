"""A real ipykernel running a Panel against the loopback emulator.

The kernel finds its providers the way a user's would: ``ORCHESTIFY_CONFIG`` names a YAML file
whose anthropic and openai providers point at the emulator, and ``ORCHESTIFY_LEDGER`` a ledger
file the test reads afterwards. Tests drive the panel by executing code in the kernel (setting
widget values, clicking its buttons) exactly as a front end's comm messages would.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from jupyter_client.manager import KernelManager

from orchestify_nb.testing import LLMEmulator, pytest_plugin
from tests.widgets.kernels import KernelDriver, write_emulator_config

# The fixture, until the pytest11 entry point is installed in the venv.
llm_emulator = pytest_plugin.llm_emulator


@pytest.fixture
def ledger_file(tmp_path: Path) -> Path:
    return tmp_path / "panel-ledger.sqlite3"


@pytest.fixture
def panel_kernel(
    llm_emulator: LLMEmulator, tmp_path: Path, ledger_file: Path
) -> Iterator[KernelDriver]:
    """A kernel holding ``panel = Panel()`` built from the emulator config via the session."""
    config = write_emulator_config(llm_emulator, tmp_path / "orchestify.yaml")
    env = {**os.environ, "ORCHESTIFY_CONFIG": str(config), "ORCHESTIFY_LEDGER": str(ledger_file)}
    manager = KernelManager(kernel_name="python3")
    manager.start_kernel(env=env, cwd=str(tmp_path))
    kernel = KernelDriver(manager)
    try:
        kernel.run("from orchestify_nb.widgets import Panel\npanel = Panel()")
        yield kernel
    finally:
        kernel.close()
