"""A real ipykernel running a Panel against the loopback emulator.

The kernel finds its providers the way a user's would: ``ORCHESTIFY_CONFIG`` names a YAML file
whose anthropic and openai providers point at the emulator, and ``ORCHESTIFY_LEDGER`` a ledger
file the test reads afterwards. Tests drive the panel by executing code in the kernel (setting
widget values, clicking its buttons) exactly as a front end's comm messages would.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
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


@contextmanager
def kernel_with_panel(env: dict[str, str], cwd: Path) -> Iterator[KernelDriver]:
    """A kernel started with ``env`` in ``cwd``, holding ``panel = Panel()`` (session registry)."""
    manager = KernelManager(kernel_name="python3")
    manager.start_kernel(env=env, cwd=str(cwd))
    kernel = KernelDriver(manager)
    try:
        kernel.run("from orchestify_nb.widgets import Panel\npanel = Panel()")
        yield kernel
    finally:
        kernel.close()


@pytest.fixture
def panel_kernel(
    llm_emulator: LLMEmulator, tmp_path: Path, ledger_file: Path
) -> Iterator[KernelDriver]:
    """A kernel whose panel's providers come from the emulator config (``ORCHESTIFY_CONFIG``)."""
    config = write_emulator_config(llm_emulator, tmp_path / "orchestify.yaml")
    env = {**os.environ, "ORCHESTIFY_CONFIG": str(config), "ORCHESTIFY_LEDGER": str(ledger_file)}
    with kernel_with_panel(env, tmp_path) as kernel:
        yield kernel


@pytest.fixture
def default_config_kernel(tmp_path: Path, ledger_file: Path) -> Iterator[KernelDriver]:
    """A kernel as on a fresh machine: no config file, no API key, so the embedded default."""
    hidden = {"ORCHESTIFY_CONFIG", "ANTHROPIC_API_KEY", "OPENAI_API_KEY"}
    env = {name: value for name, value in os.environ.items() if name not in hidden}
    env["ORCHESTIFY_LEDGER"] = str(ledger_file)
    env["XDG_CONFIG_HOME"] = str(tmp_path / "no-user-config")
    with kernel_with_panel(env, tmp_path) as kernel:
        yield kernel
