"""The local spool of a team ledger: rows waiting for an unreachable database, in SQLite.

When PostgreSQL cannot be reached, the writer thread appends each row here (one small
transaction, on disk) instead of losing it, and keeps appending until the spool has been
flushed, so every process's rows reach the database in the order of its calls. A spool left
by a kernel that died during an outage is flushed by the next process that opens the same
team ledger (the file is named after the database, not the process, and rows carry their id,
which the database stores once).
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
from pathlib import Path

from orchestify_nb.usage.store import Row


def default_spool_path(display_url: str) -> Path:
    """One spool per database and OS user, in the user cache directory."""
    import platformdirs

    digest = hashlib.sha256(display_url.encode()).hexdigest()[:16]
    folder = Path(
        os.environ.get("ORCHESTIFY_SPOOL_DIR") or platformdirs.user_cache_path("orchestify_nb")
    )
    return folder / f"team-ledger-spool-{digest}.sqlite3"


class Spool:
    """Rows (``store.Row``) in arrival order; ``take`` reads the oldest, ``drop`` removes them
    once the database has them."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._connection = sqlite3.connect(
            str(path), isolation_level=None, check_same_thread=False, timeout=10
        )
        self._connection.execute("PRAGMA journal_mode = WAL")
        self._connection.execute(
            "CREATE TABLE IF NOT EXISTS spool (n INTEGER PRIMARY KEY, row TEXT NOT NULL)"
        )

    def append(self, rows: list[Row]) -> None:
        with self._lock:
            self._connection.executemany(
                "INSERT INTO spool (row) VALUES (?)",
                [(json.dumps([list(row.values), list(row.labels)]),) for row in rows],
            )

    def take(self, limit: int) -> list[tuple[int, Row]]:
        with self._lock:
            found = self._connection.execute(
                "SELECT n, row FROM spool ORDER BY n LIMIT ?", (limit,)
            ).fetchall()
        taken = []
        for number, text in found:
            values, labels = json.loads(text)
            taken.append((int(number), Row(tuple(values), tuple(labels))))
        return taken

    def drop(self, through: int) -> None:
        with self._lock:
            self._connection.execute("DELETE FROM spool WHERE n <= ?", (through,))

    def __len__(self) -> int:
        with self._lock:
            return int(self._connection.execute("SELECT count(*) FROM spool").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._connection.close()
