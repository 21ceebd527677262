"""The PostgreSQL store behind the same interface as SQLite: same rows, dtypes, filters, frames."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest

from orchestify_nb.testing.postgres import LEDGER_PASSWORD, PostgresServer
from orchestify_nb.usage.ledger import Ledger
from orchestify_nb.usage.locations import open_store
from orchestify_nb.usage.postgres_store import PostgresStore
from orchestify_nb.usage.storage import LedgerError, LedgerStorage
from tests.usage.conftest import NOON, make_record


def _records() -> list:
    return [
        make_record(
            started_at=NOON + timedelta(minutes=i),
            provider_id="claude" if i % 3 else "openai",
            model="claude-sonnet-4-6" if i % 3 else "gpt-5-mini",
            tag=f"exp-{i % 2}",
            status="error" if i == 4 else "ok",
            cost_usd=None if i == 5 else 0.001 * (i + 1),
            step=i if i % 2 else None,
            notebook_path="/home/ana/churn/analysis.ipynb",
            cell_execution_count=i,
        )
        for i in range(12)
    ]


def _twin_ledgers(postgres: PostgresServer, tmp_path: Path) -> tuple[Ledger, Ledger]:
    team, local = Ledger(postgres.url), Ledger(tmp_path / "ledger.sqlite3")
    for record in _records():
        team.record(record)
        local.record(record)
    team.flush()
    return team, local


def test_postgres_store_implements_every_method_of_the_interface(postgres: PostgresServer) -> None:
    store = open_store(postgres.url)
    wanted = {
        name
        for name in (*vars(LedgerStorage), *LedgerStorage.__annotations__)
        if not name.startswith("_")
    }
    try:
        assert isinstance(store, PostgresStore)
        assert all(hasattr(store, name) for name in wanted), wanted
        assert store.schema_version() == 2
    finally:
        store.close()


def test_team_ledger_frame_has_the_sqlite_ledgers_rows_and_dtypes(
    postgres: PostgresServer, tmp_path: Path
) -> None:
    team, local = _twin_ledgers(postgres, tmp_path)
    try:
        pd.testing.assert_frame_equal(team.to_dataframe(), local.to_dataframe())
        assert team.records() == local.records()
        assert team.totals() == local.totals()
        assert team.cost_by_model() == local.cost_by_model()
        pd.testing.assert_frame_equal(
            team.summary(by=["user", "project"]), local.summary(by=["user", "project"])
        )
        frame = team.to_dataframe()
        assert set(frame["project"]) == {"churn"}  # the notebook's folder
        assert frame["user"].notna().all()
    finally:
        team.close()
        local.close()


def test_record_many_on_the_team_ledger_stores_what_the_file_ledger_stores(
    postgres: PostgresServer, tmp_path: Path
) -> None:
    team, local = Ledger(postgres.url), Ledger(tmp_path / "ledger.sqlite3")
    records = _records()
    try:
        team.record_many(records)
        local.record_many(records)
        team.flush()
        assert len(team) == 12
        assert team.records() == local.records()
    finally:
        team.close()
        local.close()


def test_filters_are_applied_in_sql_and_match_the_sqlite_ledger(
    postgres: PostgresServer, tmp_path: Path
) -> None:
    team, local = _twin_ledgers(postgres, tmp_path)
    try:
        for filters in (
            {"tag": "exp-1"},
            {"provider": ["openai"], "status": "ok"},
            {"since": NOON + timedelta(minutes=3), "until": NOON + timedelta(minutes=9)},
            {"model": "no-such-model"},
        ):
            pd.testing.assert_frame_equal(
                team.to_dataframe(**filters), local.to_dataframe(**filters)
            )
            assert team.totals(since=filters.get("since")) == local.totals(
                since=filters.get("since")
            )
    finally:
        team.close()
        local.close()


def test_password_is_in_no_repr_error_debug_log_or_spool_file(
    postgres: PostgresServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    ledger = Ledger(postgres.url)
    ledger.record(make_record())
    ledger.flush()
    shown = [repr(ledger), ledger.path, repr(ledger._store), str(ledger._store.location)]
    ledger.close()

    wrong = postgres.url.replace(LEDGER_PASSWORD, LEDGER_PASSWORD + "-wrong")
    refused = Ledger(wrong)  # the rows wait in the spool; the warning says why
    refused.record(make_record())
    with pytest.raises(LedgerError) as error:
        refused.to_dataframe()
    shown += [str(error.value), repr(error.value), str(error.value.__cause__)]
    spool = refused._store.spool.path
    refused._store.close()
    shown.append(spool.read_bytes().decode("utf-8", "replace"))
    shown += [record.getMessage() for record in caplog.records]

    assert "password authentication failed" in "\n".join(shown)
    for text in shown:
        assert LEDGER_PASSWORD not in text


def test_a_row_the_database_refuses_is_set_aside_and_the_others_are_stored(
    postgres: PostgresServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="orchestify_nb")
    with Ledger(postgres.url) as ledger:
        good = [make_record(tag="before"), make_record(tag="after")]
        bad = make_record(input_tokens=2**70)  # beyond bigint: PostgreSQL refuses the value
        for record in (good[0], bad, good[1]):
            ledger.record(record)
        ledger.flush()
        stored = [record.id for record in ledger.records()]
        rejected = [row.values[0] for row in ledger._store.rejected]
    assert stored == [record.id for record in good]
    assert rejected == [bad.id]
    warned = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warned) == 1 and bad.id in warned[0].getMessage()
    # psycopg's own echo of the refusal (when it ends executemany's pipeline) is only DEBUG
    logging.getLogger("psycopg").warning("error ignored terminating %r: %s", "pipe", "aborted")
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == warned


def test_a_path_or_sqlite_url_keeps_the_file_ledger(tmp_path: Path) -> None:
    from orchestify_nb.usage.store import SQLiteStore

    for location in (str(tmp_path / "a.sqlite3"), f"sqlite:///{tmp_path / 'b.sqlite3'}"):
        store = open_store(location)
        try:
            assert isinstance(store, SQLiteStore)
            assert Path(store.path).parent == tmp_path
        finally:
            store.close()
