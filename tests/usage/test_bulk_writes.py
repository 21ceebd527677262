"""``Ledger.record_many``: a batch job's thousands of rows in one transaction, all or nothing,
with the same promises as ``record``: a refused write keeps every row, a bad row is set aside."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestify_nb.usage.ledger import Ledger
from orchestify_nb.usage.store import LedgerError, SQLiteStore
from tests.usage.conftest import make_record
from tests.usage.test_write_failures import BrokenFile


def test_record_many_stores_every_row_in_order_in_one_transaction(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "ledger.sqlite3")
    statements: list[str] = []
    store.connection.set_trace_callback(statements.append)
    ledger = Ledger(storage=store)
    records = [make_record(tag=f"row-{index}") for index in range(500)]

    ledger.record_many(records)

    assert [record.tag for record in ledger.records()] == [f"row-{index}" for index in range(500)]
    transactions = [s for s in statements if s in ("BEGIN IMMEDIATE", "COMMIT")]
    assert transactions == ["BEGIN IMMEDIATE", "COMMIT"]
    inserts = [i for i, s in enumerate(statements) if s.startswith("INSERT OR IGNORE INTO calls")]
    begin, commit = statements.index("BEGIN IMMEDIATE"), statements.index("COMMIT")
    assert inserts and begin < min(inserts) and max(inserts) < commit
    ledger.close()


def test_a_refused_bulk_write_stores_nothing_and_keeps_every_row_for_later(
    tmp_path: Path,
) -> None:
    ledger = Ledger(tmp_path / "ledger.sqlite3")
    ledger.record(make_record(tag="before"))
    broken = BrokenFile(Path(ledger.path))

    with pytest.raises(LedgerError, match=r"disk is full.*3 record\(s\) are kept in memory"):
        ledger.record_many([make_record(tag=f"row-{index}") for index in range(3)])
    assert (len(ledger), ledger.pending_count) == (1, 3)

    broken.repair()
    ledger.flush()
    assert [record.tag for record in ledger.records()] == ["before", "row-0", "row-1", "row-2"]
    ledger.close()


def test_a_row_that_can_never_be_stored_is_set_aside_and_the_others_are_written(
    tmp_path: Path,
) -> None:
    ledger = Ledger(tmp_path / "ledger.sqlite3")
    bad = make_record(tag="bad", cell_execution_count=2**70)  # no SQLite integer holds it
    good = [make_record(tag="first"), bad, make_record(tag="last")]

    ledger.record_many(good)

    assert [record.tag for record in ledger.records()] == ["first", "last"]
    assert ledger.quarantined == (bad,)
    ledger.close()
