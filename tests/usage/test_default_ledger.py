"""Where calls are recorded when nobody says: ORCHESTIFY_LEDGER, else the config, else the user
data directory; never failing a call because the file cannot be opened; and no pandas at import."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import platformdirs
import pytest

from orchestify_nb.config import load_config
from orchestify_nb.usage import (
    LEDGER_ENV,
    configure_default_ledger,
    default_ledger_path,
    get_default_ledger,
    set_default_ledger,
)
from orchestify_nb.usage.budgets import Budget
from orchestify_nb.usage.ledger import Ledger
from tests.usage.conftest import make_record


def test_the_default_ledger_opens_the_file_named_by_orchestify_ledger(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "from-env.sqlite3"
    monkeypatch.setenv(LEDGER_ENV, str(path))
    set_default_ledger(None)

    ledger = get_default_ledger()
    ledger.record(make_record())

    assert ledger.path == str(path) and path.exists()
    assert get_default_ledger() is ledger
    ledger.close()


def test_without_the_variable_the_config_path_then_the_user_data_dir_is_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(LEDGER_ENV)
    configured = tmp_path / "configured.sqlite3"

    assert default_ledger_path(configured) == str(configured)
    assert default_ledger_path() == str(
        platformdirs.user_data_path("orchestify_nb") / "ledger.sqlite3"
    )
    monkeypatch.setenv(LEDGER_ENV, ":memory:")
    assert default_ledger_path(configured) == ":memory:"


def test_an_unopenable_file_falls_back_to_memory_instead_of_failing_calls(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv(LEDGER_ENV, str(tmp_path))  # a directory, not a database file
    set_default_ledger(None)

    with caplog.at_level(logging.WARNING, logger="orchestify_nb.usage"):
        ledger = get_default_ledger()

    assert ledger.path == ":memory:"
    assert "cannot open the usage ledger" in caplog.text
    assert "ORCHESTIFY_LEDGER" in caplog.text
    ledger.record(make_record())
    assert len(ledger) == 1
    ledger.close()


def test_configuring_from_a_config_sets_budgets_and_keeps_an_open_ledger(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(LEDGER_ENV)
    path = tmp_path / "configured.sqlite3"
    config = load_config({"ledger": {"path": str(path)}, "budgets": {"per_day": 3.0}})

    first = configure_default_ledger(config)
    first.record(make_record(cost_usd=1.0))
    again = configure_default_ledger(load_config({"ledger": {"path": str(path)}}))

    assert first is again is get_default_ledger()
    assert first.path == str(path)
    assert again.budgets == ()
    assert len(again) == 1
    configure_default_ledger(config)
    assert get_default_ledger().budgets == (Budget(3.0, "day"),)
    first.close()


def test_recording_a_call_imports_neither_pandas_nor_matplotlib(tmp_path: Path) -> None:
    script = (
        "import sys\n"
        "from orchestify_nb.usage import get_default_ledger\n"
        "from orchestify_nb.usage.budgets import Budget\n"
        "from orchestify_nb.usage.record import UsageRecord\n"
        "ledger = get_default_ledger()\n"
        "ledger.set_budgets([Budget(5.0, 'day')])\n"
        "now = UsageRecord.now()\n"
        "ledger.record(UsageRecord('p', 'openai', 'm', 'm', now, now, cost_usd=0.1))\n"
        "ledger.check_budget('p')\n"
        "print(ledger.totals().call_count, 'pandas' in sys.modules, 'matplotlib' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120
    )

    assert result.stdout.split() == ["1", "False", "False"]


def test_a_ledger_reads_like_what_it_is(tmp_path: Path) -> None:
    with Ledger(tmp_path / "x.sqlite3", budgets=[Budget(1.0)]) as ledger:
        assert repr(ledger) == f"Ledger(path={str(tmp_path / 'x.sqlite3')!r}, budgets=1)"
