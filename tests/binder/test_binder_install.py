"""Binder's install step, replayed: binder/requirements.txt into a fresh venv, pip run from the
repository root as repo2docker runs it, then the local model answers in that venv.

Cost: a new venv and a full install (the whole dependency tree plus JupyterLab). With pip's
cache warm (wheels, and the llama-cpp-python wheel built once from source) it takes about one
to two minutes and ~1 GB in tmp; on a cold cache llama-cpp-python compiles for several minutes.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SMOKE_TEST = """
import asyncio, importlib.metadata as metadata
import anthropic, ipywidgets, jupyterlab, llama_cpp, openai, orchestify_nb
from orchestify_nb.providers.local import LocalProvider
response = asyncio.run(LocalProvider().complete("The capital of France is", max_tokens=4))
print(orchestify_nb.__file__)
print(metadata.version("llama-cpp-python"), response.provider_id, response.tokens_output)
"""


@pytest.mark.binder_install
@pytest.mark.local_model
@pytest.mark.timeout(3600)
def test_binder_requirements_install_into_a_fresh_venv_where_the_local_model_runs(
    repo_root: Path, tmp_path: Path
) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = str(venv / "bin" / "python")

    install = subprocess.run(
        [python, "-m", "pip", "install", "--quiet", "-r", "binder/requirements.txt"],
        cwd=repo_root,  # repo2docker's WORKDIR: "." in the file is the repository
        capture_output=True,
        text=True,
        check=False,
    )
    assert install.returncode == 0, install.stderr[-4000:]

    smoke = subprocess.run(
        [python, "-c", SMOKE_TEST], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert smoke.returncode == 0, smoke.stderr[-4000:]
    installed_at, versions = smoke.stdout.strip().splitlines()
    assert installed_at.startswith(str(venv))  # the venv's copy, not this checkout
    assert versions.split()[1:] == ["local", "4"]
    lab = subprocess.run(
        [str(venv / "bin" / "jupyter"), "lab", "--version"], capture_output=True, text=True
    )
    assert lab.returncode == 0 and lab.stdout.strip().startswith("4.")
