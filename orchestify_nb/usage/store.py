"""The SQLite ledger store: opening one file safely, writing one row fast, reading rows back.

Writes are single-statement autocommit transactions in WAL mode with ``synchronous=NORMAL``: a
row is safe once the call returns (it survives the kernel dying; only a power cut can lose the
last rows), no fsync is paid per call, and readers never block the writer. ``busy_timeout`` lets
two kernels writing the same file take turns instead of failing.

``SQLiteStore`` implements ``storage.LedgerStorage``; the sealed blocks (``blocks.py``) that make
big DataFrames fast are its own business, kept up to date by its writes and reads.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from orchestify_nb.usage import sqlite_reads
from orchestify_nb.usage.blocks import seal
from orchestify_nb.usage.labels import clean_label
from orchestify_nb.usage.record import UsageRecord
from orchestify_nb.usage.schema import (
    BLOCK_ROWS,
    CALL_COLUMNS,
    ForeignDatabaseError,
    SchemaTooNewError,
    migrate,
    refuse_foreign,
    schema_version,
)
from orchestify_nb.usage.storage import (
    LABEL_FIELDS,
    Filters,
    LedgerError,
    ProviderSpend,
    RecordRejectedError,
    from_ns,
    to_ns,
)

if TYPE_CHECKING:
    from orchestify_nb.usage.storage import Values
    from orchestify_nb.usage.totals import TokenUsage

__all__ = ["INSERT_SQL", "LedgerError", "SQLiteStore", "from_ns", "record_row", "to_ns"]

MEMORY = ":memory:"
BUSY_TIMEOUT_MS = 10_000

_LABEL_COLUMNS = tuple(f"{field}_label" for field in LABEL_FIELDS)
#: ``record_row``'s order: the plain columns, then the label codes.
_INSERTED = (*(c for c in CALL_COLUMNS if c not in _LABEL_COLUMNS), *_LABEL_COLUMNS)
INSERT_SQL = (
    f"INSERT OR IGNORE INTO calls ({', '.join(_INSERTED)}) "
    f"VALUES ({', '.join('?' for _ in _INSERTED)})"
)

logger = logging.getLogger("orchestify_nb.usage")


class Row(NamedTuple):
    """A record as stored: the plain columns (``INSERT_SQL`` order), then the label texts."""

    values: tuple[object, ...]
    labels: tuple[str | None, ...]


def _to_us(seconds: float | None) -> int | None:
    return None if seconds is None else round(seconds * 1_000_000)


def record_row(record: UsageRecord) -> Row:
    """The one mapping from a record to a row; every text field passes ``clean_label``."""
    return Row(record_values(record), clean_labels(label_texts(record)))


def label_texts(record: UsageRecord) -> tuple[str | None, ...]:
    """The record's label fields as given (``LABEL_FIELDS`` order), before cleaning."""
    return tuple(getattr(record, field) for field in LABEL_FIELDS)


def clean_labels(texts: tuple[str | None, ...]) -> tuple[str | None, ...]:
    return tuple(clean_label(text) for text in texts)


def record_values(record: UsageRecord) -> tuple[object, ...]:
    """The plain columns of a record's row (``INSERT_SQL`` order)."""
    return (
        clean_label(record.id),
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
        int(record.usage_estimated),
        record.step,
        record.saved_usd,
        record.prompt_cache_saved_usd,
    )


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


def _open(path: str) -> sqlite3.Connection:
    connection = sqlite3.connect(
        path, isolation_level=None, check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000
    )
    try:
        connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        refuse_foreign(connection)  # before WAL, which would rewrite the file's header
        if path != MEMORY:
            _use_wal(connection)
            connection.execute("PRAGMA synchronous = NORMAL")
        migrate(connection)
    except BaseException:
        connection.close()
        raise
    return connection


def _is_record_error(error: sqlite3.Error) -> bool:
    """Whether SQLite refused the record's values (a NOT NULL column it leaves empty, a value it
    cannot bind) rather than the write (file full, locked, read-only, refused by a trigger)."""
    if isinstance(error, sqlite3.IntegrityError):
        return error.sqlite_errorcode == sqlite3.SQLITE_CONSTRAINT_NOTNULL
    return isinstance(error, sqlite3.InterfaceError | sqlite3.DataError)


class SQLiteStore:
    """One SQLite connection to one ledger file, shared by the threads of this process.

    The provider base class records from the runtime's loop thread while the notebook reads from
    the main thread, so every use of the connection holds ``lock``.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self.lock = threading.RLock()
        self._label_ids: dict[str, int] = {}
        try:
            if self.path != MEMORY:
                Path(self.path).expanduser().parent.mkdir(parents=True, exist_ok=True)
            self.connection = _open(self.path)
        except ForeignDatabaseError as error:
            raise LedgerError(
                f"cannot use {self.path!r} as the usage ledger: {error}. Point ORCHESTIFY_LEDGER "
                "(or `ledger: {path: ...}` in the config) at a file of its own, e.g. "
                "orchestify-ledger.sqlite3 beside it"
            ) from None
        except (sqlite3.Error, SchemaTooNewError, OSError) as error:
            raise LedgerError(
                f"cannot open the usage ledger {self.path!r}: {error}. Point ORCHESTIFY_LEDGER "
                "(or `ledger: {path: ...}` in the config) at a writable file, or upgrade "
                "orchestify_nb if the file came from a newer version"
            ) from error

    def close(self) -> None:
        with self.lock:
            self.connection.close()

    def schema_version(self) -> int:
        with self.lock:
            return schema_version(self.connection)

    # ---------------------------------------------------------------------------------- writing
    def label_id(self, text: str | None) -> int | None:
        """The code of a label, created on first use (the cache makes repeats a dict lookup)."""
        if text is None:
            return None
        code = self._label_ids.get(text)
        if code is None:
            self.connection.execute("INSERT OR IGNORE INTO labels (text) VALUES (?)", (text,))
            found = self.connection.execute("SELECT id FROM labels WHERE text = ?", (text,))
            code = int(found.fetchone()[0])
            self._label_ids[text] = code
        return code

    def write(self, record: UsageRecord) -> int:
        """Write one row in its own transaction; returns its ``seq`` (0 if it was already there).

        Whoever writes the last row of a block seals it (a few ms once per ``BLOCK_ROWS`` rows).
        """
        with self.lock:
            seq = self._insert(record, {})
            if seq and seq % BLOCK_ROWS == 0:
                self._seal(seq // BLOCK_ROWS - 1)
            return seq

    def write_many(self, records: Sequence[UsageRecord]) -> list[int]:
        """Write ``records`` in one transaction (one commit instead of one per row: 100,000 rows
        of a batch job in about a second); a failure rolls all of them back."""
        with self.lock:
            known_labels = dict(self._label_ids)
            try:
                self.connection.execute("BEGIN IMMEDIATE")
                codes: dict[tuple[str | None, ...], tuple[int | None, ...]] = {}
                positions = [self._insert(record, codes) for record in records]
                self.connection.execute("COMMIT")
            except BaseException as error:
                if self.connection.in_transaction:
                    self.connection.execute("ROLLBACK")
                self._label_ids = known_labels  # labels created in the transaction are gone
                if isinstance(error, sqlite3.Error):  # BEGIN or COMMIT: the file's, not a row's
                    raise LedgerError(f"{self.path!r} refused the write: {error}") from error
                raise
            for seq in positions:
                if seq and seq % BLOCK_ROWS == 0:
                    self._seal(seq // BLOCK_ROWS - 1)
            return positions

    def _insert(
        self, record: UsageRecord, codes: dict[tuple[str | None, ...], tuple[int | None, ...]]
    ) -> int:
        """Insert one row (under ``lock``); its ``seq``, or 0 if it was already there.

        ``codes`` remembers the label codes of label texts seen before: a batch job's rows
        share all their labels, and cleaning 17 labels per row was a third of writing it.
        """
        try:
            texts = label_texts(record)
            known = codes.get(texts)
            if known is None:
                known = codes[texts] = tuple(map(self.label_id, clean_labels(texts)))
            cursor = self.connection.execute(INSERT_SQL, record_values(record) + known)
        except Exception as error:  # anything but the file's own errors is the record's
            if isinstance(error, sqlite3.Error) and not _is_record_error(error):
                raise LedgerError(f"{self.path!r} refused the write: {error}") from error
            raise RecordRejectedError(
                f"usage record {getattr(record, 'id', '?')!r} cannot be stored in "
                f"{self.path!r}: {type(error).__name__}: {error}"
            ) from error
        return int(cursor.lastrowid or 0) if cursor.rowcount else 0

    def _seal(self, block: int) -> None:
        """The row is already safe: a failure to seal only means the next reader seals it."""
        try:
            seal(self.connection, [block])
        except sqlite3.Error as error:
            logger.info("could not seal ledger block %d in %r: %s", block, self.path, error)

    def change_counter(self) -> int:
        """Changes whenever *another* connection commits (``PRAGMA data_version``)."""
        with self.lock:
            return int(self.connection.execute("PRAGMA data_version").fetchone()[0])

    def unsent(self) -> list[UsageRecord]:
        """Nothing: ``write`` stores the row before it returns."""
        return []

    def sync(self, timeout: float) -> bool:
        return True

    @property
    def outage(self) -> bool:
        """Never: a file that cannot be written raises at once (see ``Ledger.record``)."""
        return False

    # ---------------------------------------------------------------------------------- reading
    def row_count(self) -> int:
        with self.lock:
            return int(self.connection.execute("SELECT count(*) FROM calls").fetchone()[0])

    def totals(self, filters: Filters) -> TokenUsage:
        return sqlite_reads.totals(self, filters)

    def cost_by_model(self, filters: Filters) -> list[tuple[str, float, int]]:
        return sqlite_reads.cost_by_model(self, filters)

    def read_records(self, filters: Filters, limit: int | None) -> list[UsageRecord]:
        return sqlite_reads.read_records(self, filters, limit)

    def read_columns(self, filters: Filters, columns: Sequence[str]) -> dict[str, Values]:
        return sqlite_reads.read_columns(self, filters, columns)

    def spend_after(
        self, position: int, day_start_ns: int, session_id: str, user: str | None = None
    ) -> list[ProviderSpend]:
        return sqlite_reads.spend_after(self, position, day_start_ns, session_id, user)

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
        """The codes of labels already stored (cleaned as stored, so a filter finds them)."""
        with self.lock:
            marks = ", ".join("?" for _ in texts)
            rows = self.connection.execute(
                f"SELECT id FROM labels WHERE text IN ({marks})", [clean_label(t) for t in texts]
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
