"""Fixtures and markers for the Binder files' tests."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "binder_install: installs binder/requirements.txt into a fresh venv (network, minutes)",
    )


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def binder_dir() -> Path:
    return REPO_ROOT / "binder"
