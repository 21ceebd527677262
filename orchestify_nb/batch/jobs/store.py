"""Batch jobs kept in the ledger's SQLite file, so a job outlives the kernel that submitted it.

Like the answer cache, ``batch_jobs`` is a table of the ledger file added after the ledger's own
migrations have checked the file is a ledger; it has its own ``format`` column, so it needs no
ledger schema version. The record holds what a later kernel needs to fetch results (provider
job ids, the rows' prompt mapping, model, base URL), never an API key.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from orchestify_nb.usage.schema import migrate, refuse_foreign

FORMAT = 1
_CREATE = """
CREATE TABLE IF NOT EXISTS batch_jobs (
    id TEXT PRIMARY KEY,
    format INTEGER NOT NULL,
    provider TEXT NOT NULL,
    model TEXT NOT NULL,
    state TEXT NOT NULL,
    rows INTEGER NOT NULL,
    submitted_at_ns INTEGER NOT NULL,
    ended_at_ns INTEGER,
    record TEXT NOT NULL
)
"""


@contextmanager
def _connect(path: str) -> Iterator[sqlite3.Connection]:
    if path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path, timeout=30)
    try:
        refuse_foreign(connection)
        migrate(connection)
        connection.execute(_CREATE)
        with connection:
            yield connection
    finally:
        connection.close()


def save(path: str, record: dict[str, Any]) -> None:
    """Insert or replace one job's record."""
    with _connect(path) as connection:
        connection.execute(
            "INSERT OR REPLACE INTO batch_jobs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                record["id"],
                FORMAT,
                record["api"],
                record["model"],
                record["state"],
                len(record["row_to_unique"]),
                record.get("submitted_at_ns") or time.time_ns(),
                record.get("ended_at_ns"),
                json.dumps(record),
            ),
        )


def load(path: str, job_id: str) -> dict[str, Any] | None:
    with _connect(path) as connection:
        row = connection.execute("SELECT record FROM batch_jobs WHERE id = ?", (job_id,)).fetchone()
    return None if row is None else dict(json.loads(row[0]))


def listing(path: str) -> list[tuple[str, str, str, str, int, int]]:
    """``(id, provider, model, state, rows, submitted_at_ns)`` per job, newest first."""
    with _connect(path) as connection:
        rows = connection.execute(
            "SELECT id, provider, model, state, rows, submitted_at_ns FROM batch_jobs "
            "ORDER BY submitted_at_ns DESC"
        ).fetchall()
    return [tuple(row) for row in rows]
