"""A real JupyterLab on 127.0.0.1 and Debian's Chromium driven by Playwright.

The server is started by the test with a known token, its app exposed to the page
(``window.jupyterapp``, so the test can run all cells as a user's menu click would), a private
Jupyter config/runtime directory, and a root directory holding a copy of ``notebooks/``. Kernels
inherit ``ORCHESTIFY_CONFIG`` (providers at the emulator in the test process) and
``ORCHESTIFY_LEDGER``.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from orchestify_nb.testing import LLMEmulator, pytest_plugin
from tests.widgets.kernels import write_emulator_config

CHROMIUM = Path("/usr/bin/chromium")
NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

# The fixture, until the pytest11 entry point is installed in the venv.
llm_emulator = pytest_plugin.llm_emulator


@dataclass(frozen=True, slots=True)
class JupyterLab:
    url: str
    token: str
    root: Path
    ledger: Path
    log: Path

    def page_url(self, notebook: str) -> str:
        return f"{self.url}/lab/tree/{notebook}?reset&token={self.token}"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until_serving(url: str, token: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"JupyterLab exited early:\n{log.read_text()[-3000:]}")
        try:
            request = urllib.request.Request(
                f"{url}/api/status", headers={"Authorization": f"token {token}"}
            )
            with urllib.request.urlopen(request, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.25)
    raise RuntimeError(f"JupyterLab did not answer within 120 s:\n{log.read_text()[-3000:]}")


@pytest.fixture
def chromium_path() -> Path:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed (`make chromium` installs Debian's chromium)")
    return CHROMIUM


@pytest.fixture
def jupyter_lab(llm_emulator: LLMEmulator, tmp_path: Path) -> Iterator[JupyterLab]:
    root = tmp_path / "root"
    shutil.copytree(NOTEBOOKS, root)
    config_dir = tmp_path / "jupyter-config"
    (config_dir / "labconfig").mkdir(parents=True)
    # No "receive Jupyter news?" toast over the page.
    (config_dir / "labconfig" / "page_config.json").write_text(
        json.dumps({"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}})
    )
    ledger = tmp_path / "ledger.sqlite3"
    env = {
        **os.environ,
        "ORCHESTIFY_CONFIG": str(write_emulator_config(llm_emulator, tmp_path / "orch.yaml")),
        "ORCHESTIFY_LEDGER": str(ledger),
        "JUPYTER_CONFIG_DIR": str(config_dir),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
        "JUPYTER_PLATFORM_DIRS": "1",
        "IPYTHONDIR": str(tmp_path / "ipython"),
    }
    port, token = _free_port(), secrets.token_hex(16)
    log = tmp_path / "jupyterlab.log"
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        "--ServerApp.open_browser=False",
        "--ServerApp.allow_root=True",
        "--ServerApp.terminals_enabled=False",
        "--LabApp.extension_manager=readonly",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        "--LabApp.expose_app_in_browser=True",
        f"--LabApp.workspaces_dir={tmp_path / 'workspaces'}",
    ]
    with log.open("wb") as log_file:
        server = subprocess.Popen(command, env=env, stdout=log_file, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_serving(url, token, server, log)
        yield JupyterLab(url=url, token=token, root=root, ledger=ledger, log=log)
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
