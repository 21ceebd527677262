"""SQLite storage for the ledger: opening the file safely, writing one row fast, reading rows back.

Writes are single-statement autocommit transactions in WAL mode with ``synchronous=NORMAL``: a
row is safe once the call returns (it survives the kernel dying; only a power cut can lose the
last rows), no fsync is paid per call, and readers never block the writer. ``busy_timeout`` lets
two kernels writing the same file take turns instead of failing.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from orchestify_nb.errors import OrchestifyError
from orchestify_nb.usage.record import UsageRecord
from orchestify_nb.usage.schema import CALL_COLUMNS, LABEL_FIELDS, SchemaTooNewError, migrate

MEMORY = ":memory:"
BUSY_TIMEOUT_MS = 10_000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

INSERT_SQL = (
    f"INSERT OR IGNORE INTO calls ({', '.join(CALL_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in CALL_COLUMNS)})"
)


class LedgerError(OrchestifyError):
    """The ledger file cannot be opened, read or written; the message names the file and the fix."""


def to_ns(moment: datetime) -> int:
    """Nanoseconds since the epoch (UTC); a naive datetime is taken to be UTC already."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - EPOCH) // timedelta(microseconds=1) * 1000


def from_ns(value: int) -> datetime:
    return EPOCH + timedelta(microseconds=value // 1000)


def _to_us(seconds: float | None) -> int | None:
    return None if seconds is None else round(seconds * 1_000_000)


def _use_wal(connection: sqlite3.Connection) -> None:
    """Switch the file to WAL. When kernels open a new file at the same moment, SQLite may refuse
    the switch without waiting (to avoid a deadlock), so it is retried up to the busy timeout."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            connection.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as error:
            if error.sqlite_errorcode != sqlite3.SQLITE_BUSY or time.monotonic() > deadline:
                raise
            time.sleep(0.005)


@dataclass(frozen=True, slots=True)
class Filters:
    """Row filters shared by every reader: time window and exact label matches."""

    since_ns: int | None = None
    until_ns: int | None = None
    provider: Sequence[str] = ()
    model: Sequence[str] = ()
    tag: Sequence[str] = ()
    status: Sequence[str] = ()


class LedgerStore:
    """One SQLite connection to one ledger file, shared by the threads of this process.

    The provider base class records from the runtime's loop thread while the notebook reads from
    the main thread, so every use of the connection holds ``lock``.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self.lock = threading.RLock()
        self._label_ids: dict[str, int] = {}
        if self.path != MEMORY:
            Path(self.path).expanduser().parent.mkdir(parents=True, exist_ok=True)
        try:
            self.connection = sqlite3.connect(
                self.path,
                isolation_level=None,
                check_same_thread=False,
                timeout=BUSY_TIMEOUT_MS / 1000,
            )
            self.connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            if self.path != MEMORY:
                _use_wal(self.connection)
                self.connection.execute("PRAGMA synchronous = NORMAL")
            migrate(self.connection)
        except (sqlite3.Error, SchemaTooNewError, OSError) as error:
            raise LedgerError(
                f"cannot open the usage ledger {self.path!r}: {error}. Point ORCHESTIFY_LEDGER "
                "(or `ledger: {path: ...}` in the config) at a writable file, or upgrade "
                "orchestify_nb if the file came from a newer version"
            ) from error

    def close(self) -> None:
        with self.lock:
            self.connection.close()

    # ---------------------------------------------------------------------------------- writing
    def label_id(self, text: str | None) -> int | None:
        """The code of a label, created on first use (the cache makes repeats a dict lookup)."""
        if text is None:
            return None
        code = self._label_ids.get(text)
        if code is None:
            self.connection.execute("INSERT OR IGNORE INTO labels (text) VALUES (?)", (text,))
            code = int(
                self.connection.execute("SELECT id FROM labels WHERE text = ?", (text,)).fetchone()[
                    0
                ]
            )
            self._label_ids[text] = code
        return code

    def insert(self, record: UsageRecord) -> int:
        """Write one row in its own transaction; returns its rowid (0 if it was already there)."""
        with self.lock:
            label_codes = tuple(self.label_id(getattr(record, field)) for field in LABEL_FIELDS)
            cursor = self.connection.execute(INSERT_SQL, self.row_values(record) + label_codes)
            return int(cursor.lastrowid or 0) if cursor.rowcount else 0

    #: The INSERT statement (``CALL_COLUMNS``): ``row_values(record)``, then the label codes.
    insert_sql = INSERT_SQL

    @staticmethod
    def row_values(record: UsageRecord) -> tuple[object, ...]:
        """The non-label columns of a row, in ``insert_sql`` order."""
        return (
            record.id,
            to_ns(record.started_at),
            to_ns(record.finished_at),
            record.tokens.input,
            record.tokens.output,
            record.tokens.cache_write,
            record.tokens.cache_read,
            record.tokens.reasoning,
            record.cost_usd,
            int(record.priced),
            _to_us(record.latency_s),
            _to_us(record.time_to_first_token_s),
            record.cell_execution_count,
        )

    def data_version(self) -> int:
        """Changes whenever *another* connection commits (``PRAGMA data_version``)."""
        with self.lock:
            return int(self.connection.execute("PRAGMA data_version").fetchone()[0])

    # ---------------------------------------------------------------------------------- reading
    def where(self, filters: Filters) -> tuple[str, list[Any]]:
        """A WHERE clause over ``calls`` for these filters (labels matched by code)."""
        clauses: list[str] = []
        params: list[Any] = []
        if filters.since_ns is not None:
            clauses.append("started_at_ns >= ?")
            params.append(filters.since_ns)
        if filters.until_ns is not None:
            clauses.append("started_at_ns < ?")
            params.append(filters.until_ns)
        for field, wanted in (
            ("provider_id", filters.provider),
            ("model", filters.model),
            ("tag", filters.tag),
            ("status", filters.status),
        ):
            if wanted:
                codes = self.existing_label_ids(wanted)
                marks = ", ".join("?" for _ in codes) or "NULL"
                clauses.append(f"{field}_label IN ({marks})")
                params.extend(codes)
        return (" WHERE " + " AND ".join(clauses) if clauses else ""), params

    def existing_label_ids(self, texts: Sequence[str]) -> list[int]:
        with self.lock:
            marks = ", ".join("?" for _ in texts)
            rows = self.connection.execute(
                f"SELECT id FROM labels WHERE text IN ({marks})", list(texts)
            ).fetchall()
        return [int(row[0]) for row in rows]

    def labels(self) -> dict[int, str]:
        with self.lock:
            return dict(self.connection.execute("SELECT id, text FROM labels").fetchall())

    @contextmanager
    def snapshot(self) -> Iterator[sqlite3.Connection]:
        """A read transaction: several queries see the same rows even while others write."""
        with self.lock:
            self.connection.execute("BEGIN")
            try:
                yield self.connection
            finally:
                self.connection.execute("COMMIT")
