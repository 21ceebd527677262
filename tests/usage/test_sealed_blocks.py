"""Sealed blocks (the packed copy of every 4,096 rows that makes big DataFrames fast) never change
what a DataFrame says: the same rows, values and dtypes as reading the rows themselves, whoever
sealed the block, whatever changed the rows afterwards, and even when sealing fails."""

from __future__ import annotations

import logging
import sqlite3
from datetime import timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from orchestify_nb.usage.ledger import Ledger
from orchestify_nb.usage.record import CallStatus, UsageRecord
from orchestify_nb.usage.schema import BLOCK_ROWS, CALL_COLUMNS
from tests.usage.conftest import NOON, make_record

STATUSES: tuple[CallStatus, ...] = ("ok", "ok", "error", "cancelled")
FILTERS: dict[str, dict[str, Any]] = {
    "everything": {},
    "one provider": {"provider": "openai"},
    "two models": {"model": ["gpt-4o", "claude-haiku-4-5"]},
    "a tag and a status": {"tag": "exp-1", "status": "ok"},
    "a time window": {
        "since": NOON + timedelta(seconds=1_000),
        "until": NOON + timedelta(seconds=2_000),
    },
    "only the earliest call": {"until": NOON - timedelta(seconds=499)},
    "from the newest calls on": {"since": NOON + timedelta(seconds=BLOCK_ROWS - 2)},
    "a window after every call": {"since": NOON + timedelta(days=1)},
    "an unknown provider": {"provider": "nobody"},
}


def varied_records(count: int) -> list[UsageRecord]:
    """Calls unlike each other in every column: unpriced, failed and cancelled calls, token
    counts past 2**31, costs that need all 17 digits, missing latencies, some started out of
    order; labels repeat with short periods, so every label appears in the first few calls."""
    records = []
    for index in range(count):
        status = STATUSES[index % 4]
        cost = None if index % 13 == 0 else (index * 0.1 + 0.2) / 7
        records.append(
            make_record(
                provider_id=("claude", "openai", "gateway")[index % 3],
                model=("claude-sonnet-4-6", "gpt-4o", "gemini-2.5-flash", "claude-haiku-4-5")[
                    index % 4
                ],
                started_at=NOON + timedelta(seconds=index if index % 7 else index - 500),
                status=status,
                input_tokens=index * 1_000_003 if index % 11 == 0 else index,
                output_tokens=index % 300,
                cache_read_tokens=index // 2 if index % 5 == 0 else 0,
                reasoning_tokens=index % 3,
                cost_usd=cost,
                priced=cost is not None,
                latency_s=None if index % 17 == 0 else index / 1_000 + 0.0005,
                time_to_first_token_s=None if index % 3 else 0.25,
                error_type="RateLimitError" if status == "error" else None,
                tag=None if index % 2 else f"exp-{index % 5}",
                agent="critic" if index % 9 == 0 else None,
                notebook_path=f"nb-{index % 3}.ipynb" if index % 4 == 0 else None,
                cell_execution_count=index if index % 4 == 0 else None,
                session_id=f"kernel-{index % 2}",
            )
        )
    return records


def sealed_blocks(path: Path) -> list[int]:
    with sqlite3.connect(path) as raw:
        return [row[0] for row in raw.execute("SELECT block FROM sealed_blocks ORDER BY block")]


def run_sql(path: Path, *statements: str) -> None:
    raw = sqlite3.connect(path, isolation_level=None)
    for statement in statements:
        raw.execute(statement)
    raw.close()


def test_a_sealed_block_gives_the_same_frames_as_the_rows_it_copies(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    records = varied_records(BLOCK_ROWS)
    with Ledger(path) as ledger:
        for record in records[:-1]:
            ledger.record(record)
        from_rows = {name: ledger.to_dataframe(**filters) for name, filters in FILTERS.items()}
        assert sealed_blocks(path) == []

        ledger.record(records[-1])  # completes the first block: record() seals it
        assert sealed_blocks(path) == [0]

        for name, filters in FILTERS.items():
            from_block = ledger.to_dataframe(**filters)
            from_block = from_block[from_block["id"] != records[-1].id].reset_index(drop=True)
            pd.testing.assert_frame_equal(from_block, from_rows[name], obj=name)
    assert len(from_rows["everything"]) == BLOCK_ROWS - 1
    for name in ("a time window", "only the earliest call", "from the newest calls on"):
        since, until = (
            FILTERS[name].get("since", NOON - timedelta(days=1)),
            FILTERS[name].get("until", NOON + timedelta(days=1)),
        )
        expected = [r.id for r in records[:-1] if since <= r.started_at < until]
        assert sorted(from_rows[name]["id"]) == sorted(expected), name
    assert len(from_rows["only the earliest call"]) == 1
    assert from_rows["a window after every call"].empty


def test_a_frame_puts_sealed_blocks_and_newer_rows_in_order_with_exact_costs(
    tmp_path: Path,
) -> None:
    path = tmp_path / "ledger.sqlite3"
    with Ledger(path) as ledger:
        for record in varied_records(2 * BLOCK_ROWS + 10):
            ledger.record(record)
        frame = ledger.to_dataframe()
        summary = ledger.summary(by=["provider"])
        rows = ledger.records()

    assert sealed_blocks(path) == [0, 1]
    assert list(frame["id"]) == [record.id for record in rows]
    costs = [float("nan") if record.cost_usd is None else record.cost_usd for record in rows]
    pd.testing.assert_series_equal(
        frame["cost_usd"], pd.Series(costs, name="cost_usd"), check_exact=True
    )
    assert list(frame["input_tokens"]) == [record.input_tokens for record in rows]
    assert summary["calls"].sum() == 2 * BLOCK_ROWS + 10
    assert summary.loc["openai", "input_tokens"] == sum(
        record.input_tokens for record in rows if record.provider_id == "openai"
    )


def test_complete_blocks_nobody_sealed_are_sealed_by_the_next_reader(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    with Ledger(path) as ledger:
        for record in varied_records(2 * BLOCK_ROWS + 5):
            ledger.record(record)
        before = ledger.to_dataframe()
    # As after an upgrade from schema 1, or rows inserted with plain SQL.
    run_sql(path, "DELETE FROM sealed_blocks")

    with Ledger(path) as reopened:
        after = reopened.to_dataframe()

    pd.testing.assert_frame_equal(after, before)
    assert sealed_blocks(path) == [0, 1]


def test_changing_rows_of_a_sealed_block_with_sql_shows_in_the_next_frame(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    records = varied_records(BLOCK_ROWS + 3)
    with Ledger(path) as ledger:
        for record in records:
            ledger.record(record)
        assert sealed_blocks(path) == [0]

        run_sql(path, "UPDATE calls SET cost_usd = 99.5 WHERE seq = 10")
        assert sealed_blocks(path) == []
        assert ledger.to_dataframe().set_index("id").at[records[9].id, "cost_usd"] == 99.5
        assert sealed_blocks(path) == [0]  # sealed again by that reader

        run_sql(path, "DELETE FROM calls WHERE seq = 20", "VACUUM")
        after_delete = ledger.to_dataframe()
        assert records[19].id not in set(after_delete["id"])
        assert len(after_delete) == BLOCK_ROWS + 2

        others = ", ".join(column for column in CALL_COLUMNS if column != "id")
        run_sql(
            path,
            f"INSERT INTO calls (seq, id, {others}) SELECT 20, 'restored', {others} "
            "FROM calls WHERE seq = 21",
        )
        assert sealed_blocks(path) == []
        assert "restored" in set(ledger.to_dataframe()["id"])


def test_a_block_that_cannot_be_sealed_costs_neither_the_call_nor_its_rows(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "ledger.sqlite3"
    records = varied_records(BLOCK_ROWS + 1)
    with Ledger(path) as ledger:
        run_sql(
            path,
            "CREATE TRIGGER refuse_seals BEFORE INSERT ON sealed_blocks "
            "BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END",
        )
        with caplog.at_level(logging.INFO, logger="orchestify_nb.usage"):
            for record in records:
                ledger.record(record)
            unsealed = ledger.to_dataframe()

        assert "could not seal ledger block 0" in caplog.text
        assert sealed_blocks(path) == []
        assert len(ledger) == len(unsealed) == BLOCK_ROWS + 1
        run_sql(path, "DROP TRIGGER refuse_seals")
        pd.testing.assert_frame_equal(ledger.to_dataframe(), unsealed)
    assert sealed_blocks(path) == [0]


def test_every_column_of_calls_has_a_sealed_copy(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    Ledger(path).close()

    with sqlite3.connect(path) as raw:
        calls = [row[1] for row in raw.execute("PRAGMA table_info(calls)")]
        copies = {row[1] for row in raw.execute("PRAGMA table_info(sealed_blocks)")}

    assert calls == ["seq", *CALL_COLUMNS]
    assert set(CALL_COLUMNS) <= copies
