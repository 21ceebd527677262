"""The binder/ folder is what repo2docker expects, checked by repo2docker's own rules (read in
jupyterhub/repo2docker: buildpacks/base.py, buildpacks/python/__init__.py, utils.py)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

# repo2docker's SUPPORTED_PYTHON_VERSION (buildpacks/conda/supported_python_version.py).
REPO2DOCKER_PYTHONS = ("3.8", "3.9", "3.10", "3.11", "3.12", "3.13", "3.14")


def requirement_lines(path: Path) -> list[str]:
    """Lines as pip and repo2docker read them: comments and blank lines dropped."""
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return [line for line in lines if line]


def test_postbuild_is_an_executable_bash_script_that_stops_at_the_first_error(
    binder_dir: Path, repo_root: Path
) -> None:
    post_build = binder_dir / "postBuild"
    lines = post_build.read_text().splitlines()
    commands = [line for line in lines[1:] if line.strip() and not line.startswith("#")]

    assert lines[0] in ("#!/bin/bash", "#!/usr/bin/env bash")
    assert re.fullmatch(r"set -[a-z]*e[a-z]*( -o)?( pipefail)?", commands[0]), commands[0]
    assert os.access(post_build, os.X_OK)
    staged = subprocess.run(
        ["git", "ls-files", "--stage", "binder/postBuild"],
        cwd=repo_root,
        capture_output=True,
        text=True,
        check=True,
    )
    assert staged.stdout.startswith("100755"), "commit postBuild with its executable bit"
    assert subprocess.run(["bash", "-n", str(post_build)], check=False).returncode == 0


def test_runtime_txt_names_a_python_repo2docker_and_the_package_both_support(
    binder_dir: Path, repo_root: Path
) -> None:
    runtime = (binder_dir / "runtime.txt").read_text().strip()
    name, version = runtime.split("-")  # repo2docker: name-version
    requires = tomllib.loads((repo_root / "pyproject.toml").read_text())["project"]

    assert name == "python"
    assert version in REPO2DOCKER_PYTHONS
    assert Version(version) in SpecifierSet(requires["requires-python"])


def test_requirements_install_this_repository_with_the_local_extra_and_jupyterlab(
    binder_dir: Path, repo_root: Path
) -> None:
    lines = requirement_lines(binder_dir / "requirements.txt")
    extras = tomllib.loads((repo_root / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]

    # A requirement starting with "." is local to repo2docker: it copies the whole repository
    # in first and runs pip from its root, so "." is this repository (its pyproject.toml).
    assert Requirement(f"orchestify_nb{lines[0][1:]}").extras >= {"local"}
    assert "local" in extras
    assert any(r.startswith("llama-cpp-python") for r in extras["local"])
    names = {Requirement(line).name for line in lines[1:]}
    assert {"jupyterlab", "ipywidgets"} <= names


#: What a notebook's code names -> the extra that installs it.
_NEEDS = {
    "ClaudeProvider": "anthropic",
    "OpenAIProvider": "openai",
    "LiteLLMProvider": "litellm",
    "mcp_tools": "mcp",
    "mcp_servers": "mcp",
}


def test_binder_installs_every_sdk_the_notebooks_use(binder_dir: Path, repo_root: Path) -> None:
    import nbformat

    installed = Requirement(
        "orchestify_nb" + requirement_lines(binder_dir / "requirements.txt")[0][1:]
    ).extras
    needed: dict[str, set[str]] = {}
    for path in sorted((repo_root / "notebooks").glob("*.ipynb")):
        code = "\n".join(
            cell.source for cell in nbformat.read(path, 4).cells if cell.cell_type == "code"
        )
        for name, extra in _NEEDS.items():
            if name in code:
                needed.setdefault(extra, set()).add(path.name)

    assert needed, "the notebooks name no SDK-backed provider: update _NEEDS"
    missing = {extra: sorted(names) for extra, names in needed.items() if extra not in installed}
    assert missing == {}, f"binder/requirements.txt lacks extras the notebooks use: {missing}"


def test_apt_txt_installs_the_compiler_llama_cpp_python_builds_with(binder_dir: Path) -> None:
    packages = requirement_lines(binder_dir / "apt.txt")

    assert "build-essential" in packages
    assert all(re.match(r"^[a-z0-9.+-]+$", package) for package in packages)


@pytest.mark.local_model
def test_postbuild_prepares_the_local_model_and_trusts_the_notebooks(
    binder_dir: Path, repo_root: Path, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "JUPYTER_DATA_DIR": str(tmp_path),  # the trust database goes here, not in $HOME
    }

    result = subprocess.run(
        [shutil.which("bash") or "bash", str(binder_dir / "postBuild")],
        cwd=repo_root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert "local model ready: " in result.stdout
    assert "gemma-3-270m-q4_k_m.gguf" in result.stdout
    assert "Signing notebook: notebooks/01_quickstart.ipynb" in result.stdout
    assert (tmp_path / "nbsignatures.db").exists()
