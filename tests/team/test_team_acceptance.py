"""The team ledger's acceptance: many processes, one PostgreSQL, one budget, an outage."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from orchestify_nb.testing import LLMEmulator, Reply
from orchestify_nb.testing.postgres import PostgresServer
from orchestify_nb.usage.budgets import Budget
from orchestify_nb.usage.ledger import Ledger
from orchestify_nb.usage.postgres_store import CONNECT_TIMEOUT_S
from orchestify_nb.usage.reports import budget_table
from tests.team.worker import RECORDS, TEAM_BUDGET_USD, claude_recording_to

ROOT = Path(__file__).resolve().parents[2]
PROCESSES = 8


def _run_workers(mode: str, url: str) -> list[str]:
    """``PROCESSES`` worker processes at once; their standard output, each."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.team.worker", mode, url, f"kernel-{index}"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for index in range(PROCESSES)
    ]
    outputs = []
    for worker in workers:
        out, err = worker.communicate(timeout=300)
        assert worker.returncode == 0, err
        outputs.append(out)
    return outputs


def test_eight_processes_writing_a_thousand_records_each_store_8000_rows_none_lost_or_twice(
    postgres: PostgresServer,
) -> None:
    _run_workers("records", postgres.url)

    with psycopg.connect(postgres.admin_url) as connection:
        rows = connection.execute(
            "SELECT c.id, t.text, c.cell_execution_count FROM orchestify.calls c "
            "JOIN orchestify.labels t ON t.id = c.tag_label ORDER BY c.seq"
        ).fetchall()
    assert len(rows) == PROCESSES * RECORDS
    assert len({row[0] for row in rows}) == PROCESSES * RECORDS
    for index in range(PROCESSES):
        order = [count for _, tag, count in rows if tag == f"kernel-{index}"]
        assert order == list(range(RECORDS))  # each process's rows, in its order


def test_team_budget_of_one_dollar_with_eight_processes_overshoots_by_at_most_the_calls_in_flight(
    postgres: PostgresServer,
) -> None:
    reports = [json.loads(out) for out in _run_workers("budget", postgres.url)]

    with psycopg.connect(postgres.admin_url) as connection:
        costs = [
            float(row[0])
            for row in connection.execute("SELECT cost_usd FROM orchestify.calls ORDER BY seq")
        ]
    running, crossing = 0.0, None
    for position, cost in enumerate(costs):
        running += cost
        if running >= TEAM_BUDGET_USD and crossing is None:
            crossing = position
    assert crossing is not None, "the processes stopped before spending the budget"
    in_flight = costs[crossing + 1 :]  # admitted before the spent total was committed
    total = sum(costs)
    overshoot = total - TEAM_BUDGET_USD
    print(
        f"\nteam budget ${TEAM_BUDGET_USD:.2f}, {PROCESSES} processes, {len(costs)} calls: "
        f"spent ${total:.4f}, overshoot ${overshoot:.4f} = the call that crossed the limit "
        f"(${costs[crossing]:.4f}) and {len(in_flight)} call(s) in flight when it ran out "
        f"(${sum(in_flight):.4f}); one call costs ${max(costs):.4f}"
    )
    assert all(report["refused"] for report in reports)  # every process was refused, in time
    # Per process: the call in flight when the limit was reached, and at most one row its
    # writer thread had not committed yet (a few ms against a call's 20+ ms).
    assert len(in_flight) <= 2 * PROCESSES
    assert overshoot <= (2 * PROCESSES + 1) * max(costs)


async def test_database_stopped_mid_run_loses_no_row_keeps_order_and_warns_once(
    postgres: PostgresServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="orchestify_nb")
    ledger = Ledger(postgres.url, [Budget(100.0)])  # checked before every call, outage or not
    slowest_call = 0.0
    with LLMEmulator() as emulator:
        provider = claude_recording_to(ledger, emulator)
        ids = []
        for index in range(30):
            if index == 10:
                ledger.flush()
                postgres.stop()
            if index == 20:
                during_outage = (ledger.offline, budget_table(ledger)["budget"][0])
                postgres.start()
            emulator.enqueue(Reply(text=f"answer {index}"))
            started = time.perf_counter()
            response = await provider.complete(f"question {index}", max_tokens=50)
            if 10 <= index < 20:  # while the database is down
                slowest_call = max(slowest_call, time.perf_counter() - started)
            assert response.content == f"answer {index}"  # the answer never waits for the ledger
            ids.append(response.record_id)
        await provider.aclose()
    ledger.flush(timeout=30)
    stored = [record.id for record in ledger.records()]
    ledger.close()

    assert stored == ids  # every row, in the order of the calls
    assert during_outage[0] and "last known total" in during_outage[1]  # what %llm budget shows
    assert not ledger.offline
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]
    assert "unreachable" in warnings[0].getMessage()
    assert "last known total" in warnings[0].getMessage()
    print(f"\nslowest call during the outage: {slowest_call * 1000:.1f} ms")
    assert slowest_call < CONNECT_TIMEOUT_S / 2  # no call waited for a connection attempt
