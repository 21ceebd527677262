"""Fixtures for every test: an isolated usage ledger, so no test writes to the user's real one."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from orchestify_nb.providers.caching import CACHE_ENV
from orchestify_nb.usage import LEDGER_ENV, set_default_ledger
from orchestify_nb.usage.ledger import Ledger


@pytest.fixture(autouse=True)
def isolated_ledger(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Ledger]:
    """A fresh in-memory default ledger per test, the response cache off; child processes and
    kernels started by the test inherit ``ORCHESTIFY_LEDGER`` pointing at a per-test file
    instead of the user's ledger, and ``ORCHESTIFY_CACHE=off``."""
    monkeypatch.setenv(LEDGER_ENV, str(tmp_path_factory.mktemp("ledger") / "ledger.sqlite3"))
    # Tests count the requests they send: the response cache is on only where a test turns it on.
    monkeypatch.setenv(CACHE_ENV, "off")
    ledger = Ledger(":memory:")
    set_default_ledger(ledger)
    yield ledger
    set_default_ledger(None)
    ledger.close()
