"""Two kernels sharing one ledger file: concurrent writers lose no row, and a budget in a third
process sees what the others spent."""

from __future__ import annotations

import multiprocessing
import sqlite3
from pathlib import Path

import pytest

from orchestify_nb.errors import BudgetExceededError
from orchestify_nb.usage.budgets import Budget
from orchestify_nb.usage.ledger import Ledger
from orchestify_nb.usage.schema import BLOCK_ROWS
from tests.usage.conftest import make_record

RECORDS_PER_PROCESS = 1_000


def write_records(
    path: str, name: str, start: multiprocessing.synchronize.Event, count: int
) -> None:
    """Child process: wait for the starting gun, then record ``count`` calls as fast as possible."""
    ledger = Ledger(path, session_id=name)
    start.wait(timeout=60)
    for index in range(count):
        ledger.record(make_record(provider_id=name, tag=f"{name}-{index}", cost_usd=0.001))
    ledger.close()


def run_writers(path: Path, names: list[str], count: int = RECORDS_PER_PROCESS) -> None:
    context = multiprocessing.get_context("spawn")
    start = context.Event()
    workers = [
        context.Process(target=write_records, args=(str(path), name, start, count))
        for name in names
    ]
    for worker in workers:
        worker.start()
    start.set()
    for worker in workers:
        worker.join(timeout=240)
    assert [worker.exitcode for worker in workers] == [0] * len(workers)


@pytest.mark.parametrize("file_exists", [True, False], ids=["existing-file", "new-file"])
def test_two_processes_writing_a_thousand_records_each_leave_two_thousand_rows(
    tmp_path: Path, file_exists: bool
) -> None:
    path = tmp_path / "shared.sqlite3"
    if file_exists:
        Ledger(path).close()

    run_writers(path, ["kernel-a", "kernel-b"])

    with Ledger(path) as ledger:
        assert len(ledger) == 2 * RECORDS_PER_PROCESS
        summary = ledger.summary(by=["session_id"])
        assert summary["calls"].to_dict() == {"kernel-a": 1_000, "kernel-b": 1_000}
        tags = ledger.to_dataframe(provider="kernel-a", columns=["tag"])["tag"]
        assert tags.nunique() == RECORDS_PER_PROCESS


def test_a_budget_counts_what_other_processes_spent_since_it_last_looked(tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite3"
    with Ledger(path, budgets=[Budget(limit_usd=1.5, period="total")]) as watcher:
        watcher.check_budget("kernel-a")  # nothing spent yet

        run_writers(path, ["kernel-a", "kernel-b"])  # $2.00 spent elsewhere

        with pytest.raises(BudgetExceededError, match=r"\$2\.00 of \$1\.50"):
            watcher.check_budget("anyone")


def test_blocks_sealed_while_another_process_writes_lose_no_row(tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite3"

    run_writers(path, ["kernel-a", "kernel-b"], count=BLOCK_ROWS + 500)

    with Ledger(path) as ledger:
        frame = ledger.to_dataframe(columns=["id", "session_id", "tag"])
        with sqlite3.connect(path) as raw:
            sealed = raw.execute("SELECT block, row_count FROM sealed_blocks").fetchall()
    assert sealed == [(0, BLOCK_ROWS), (1, BLOCK_ROWS)]
    assert frame["id"].nunique() == len(frame) == 2 * (BLOCK_ROWS + 500)
    assert frame["session_id"].value_counts().to_dict() == {
        "kernel-a": BLOCK_ROWS + 500,
        "kernel-b": BLOCK_ROWS + 500,
    }


def open_at_the_same_moment(path: str, barrier: multiprocessing.synchronize.Barrier) -> None:
    """Child process: open (create, switch to WAL, migrate) the ledger when all are ready."""
    barrier.wait(timeout=60)
    Ledger(path).close()


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="needs fork")
def test_kernels_creating_the_same_new_file_at_the_same_moment_all_open_it(
    tmp_path: Path,
) -> None:
    context = multiprocessing.get_context("fork")  # fast to start: many rounds, real races
    exit_codes = []
    for round_number in range(40):
        path = str(tmp_path / f"new-{round_number}.sqlite3")
        barrier = context.Barrier(3)
        openers = [
            context.Process(target=open_at_the_same_moment, args=(path, barrier)) for _ in range(3)
        ]
        for opener in openers:
            opener.start()
        for opener in openers:
            opener.join(timeout=60)
        exit_codes.extend(opener.exitcode for opener in openers)

    assert exit_codes == [0] * 120
