"""The ledger file's schema is versioned: older files are upgraded in place with their rows, and a
file from a newer version is refused with a clear message instead of being misread."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from orchestify_nb.usage.ledger import Ledger
from orchestify_nb.usage.record import UsageRecord
from orchestify_nb.usage.schema import (
    _V1_CALL_COLUMNS,
    MIGRATIONS,
    SCHEMA_VERSION,
    migrate,
    schema_version,
)
from orchestify_nb.usage.storage import V1_LABEL_FIELDS
from orchestify_nb.usage.store import LedgerError, record_row
from tests.usage.conftest import NOON, make_record


def open_raw(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None)


def test_a_version_zero_file_gets_the_current_schema(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    with open_raw(path) as raw:  # an SQLite file that predates the ledger's tables
        raw.execute("CREATE TABLE scratch (text TEXT)")
        raw.execute("DROP TABLE scratch")  # (a file holding another application's tables is
        # refused: tests/usage/test_ledger_hardening.py)

    with Ledger(path) as ledger:
        ledger.record(make_record(started_at=NOON))
        assert len(ledger) == 1

    raw = open_raw(path)
    assert schema_version(raw) == SCHEMA_VERSION
    assert raw.execute("SELECT model, cost_usd FROM usage").fetchall() == [
        ("claude-sonnet-4-6", 0.0006)
    ]
    raw.close()


def write_version_one_row(raw: sqlite3.Connection, record: UsageRecord) -> None:
    """A row as orchestify_nb with schema version 1 wrote it (today's columns but those that
    versions 4 and 5 added)."""
    codes = []
    for field in V1_LABEL_FIELDS:
        text = getattr(record, field)
        if text is not None:
            raw.execute("INSERT OR IGNORE INTO labels (text) VALUES (?)", (text,))
            text = raw.execute("SELECT id FROM labels WHERE text = ?", (text,)).fetchone()[0]
        codes.append(text)
    plain = [column for column in _V1_CALL_COLUMNS if not column.endswith("_label")]
    columns = [*plain, *(f"{field}_label" for field in V1_LABEL_FIELDS)]
    version_one = (
        f"INSERT INTO calls ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"
    )
    raw.execute(version_one, (*record_row(record).values[: len(plain)], *codes))


def test_a_version_one_file_keeps_its_rows_and_their_numbers_when_upgraded(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    written = [
        make_record(started_at=NOON, cost_usd=0.1 + 0.2, tag=tag, session_id="old-kernel")
        for tag in ("first", "deleted", "third")
    ]
    raw = open_raw(path)
    migrate(raw, target=1)
    for record in written:
        write_version_one_row(raw, record)
    raw.execute("DELETE FROM calls WHERE rowid = 2")
    raw.close()

    with Ledger(path) as ledger:
        assert ledger.records() == [written[0], written[2]]
        assert list(ledger.to_dataframe()["tag"]) == ["first", "third"]
        assert list(ledger.to_dataframe()["mode"]) == ["realtime", "realtime"]  # version 5

    raw = open_raw(path)
    assert schema_version(raw) == SCHEMA_VERSION
    assert raw.execute(
        "SELECT seq, tag FROM calls JOIN usage USING (id) ORDER BY seq"
    ).fetchall() == [
        (1, "first"),
        (3, "third"),
    ]
    raw.close()


def test_a_later_migration_upgrades_a_file_with_rows_and_keeps_them(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    with Ledger(path) as ledger:
        for cost in (0.5, 0.25):
            ledger.record(make_record(started_at=NOON, cost_usd=cost))
    upgrade = (
        "ALTER TABLE calls ADD COLUMN cost_eur REAL",
        "UPDATE calls SET cost_eur = cost_usd * 0.9",
    )
    raw = open_raw(path)

    before = migrate(raw, migrations=[*MIGRATIONS, upgrade])
    again = migrate(raw, migrations=[*MIGRATIONS, upgrade])

    assert (before, again, schema_version(raw)) == (
        SCHEMA_VERSION,
        SCHEMA_VERSION + 1,
        SCHEMA_VERSION + 1,
    )
    costs = raw.execute("SELECT cost_usd, cost_eur FROM calls ORDER BY rowid").fetchall()
    assert costs == [(0.5, 0.45), (0.25, 0.225)]
    raw.close()


def test_a_failing_migration_leaves_the_file_at_its_old_version(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    Ledger(path).close()
    broken = ("ALTER TABLE calls ADD COLUMN extra INTEGER", "ALTER TABLE no_such_table ADD x")
    raw = open_raw(path)

    with pytest.raises(sqlite3.OperationalError, match="no_such_table"):
        migrate(raw, migrations=[*MIGRATIONS, broken])

    assert schema_version(raw) == SCHEMA_VERSION
    columns = [row[1] for row in raw.execute("PRAGMA table_info(calls)")]
    assert "extra" not in columns
    raw.close()


def test_a_file_from_a_newer_version_is_refused_with_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    Ledger(path).close()
    with open_raw(path) as raw:
        raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")

    with pytest.raises(LedgerError) as refused:
        Ledger(path)

    message = str(refused.value)
    assert str(path) in message
    assert f"schema version {SCHEMA_VERSION + 1}, newer than" in message
    assert "upgrade orchestify_nb" in message


def test_the_version_five_fields_round_trip_through_records_and_frames(tmp_path: Path) -> None:
    record = make_record(started_at=NOON, cost_usd=0.0)
    record.run_id, record.step, record.mode = "loop-1", 2, "cache"
    record.batch_job_id, record.user, record.project = "msgbatch_1", "ada", "invoices"
    record.saved_usd, record.prompt_cache_saved_usd = 0.0279, 0.0045

    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        ledger.record(record)
        (stored,) = ledger.records()
        frame = ledger.to_dataframe()

    assert stored == record
    row = frame.iloc[0]
    assert (row["run_id"], row["step"], row["mode"], row["batch_job_id"]) == (
        "loop-1",
        2,
        "cache",
        "msgbatch_1",
    )
    assert (row["user"], row["project"]) == ("ada", "invoices")
    assert (row["saved_usd"], row["prompt_cache_saved_usd"]) == (0.0279, 0.0045)
