"""The ledger file's schema is versioned: older files are upgraded in place with their rows, and a
file from a newer version is refused with a clear message instead of being misread."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from orchestify_nb.usage.ledger import Ledger
from orchestify_nb.usage.record import UsageRecord
from orchestify_nb.usage.schema import (
    LABEL_FIELDS,
    MIGRATIONS,
    SCHEMA_VERSION,
    migrate,
    schema_version,
)
from orchestify_nb.usage.store import INSERT_SQL, LedgerError, record_row
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
    """A row as orchestify_nb with schema version 1 wrote it (today's columns but the last,
    ``usage_estimated``, which version 4 added)."""
    codes = []
    for field in LABEL_FIELDS:
        text = getattr(record, field)
        if text is not None:
            raw.execute("INSERT OR IGNORE INTO labels (text) VALUES (?)", (text,))
            text = raw.execute("SELECT id FROM labels WHERE text = ?", (text,)).fetchone()[0]
        codes.append(text)
    version_one = INSERT_SQL.replace("usage_estimated, ", "").replace("?, ", "", 1)
    raw.execute(version_one, (*record_row(record).values[:-1], *codes))


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
