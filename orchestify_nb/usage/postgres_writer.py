"""The team ledger's writing half: a queue, one writer thread, and the outage spool.

Writing never waits for the database. ``write`` turns the record into its row and queues it
(microseconds); the writer thread sends queued rows in batches, each batch one transaction,
under the insert lock (``postgres_schema``). When the database cannot be reached, the writer
appends rows to a local SQLite spool (``spool.py``) instead, says so once (one warning line),
and tries again, backing off to ``MAX_RETRY_INTERVAL_S``; when the database answers, the spool
is flushed in order, then new rows go straight through again. No row is lost: a row leaves the
spool only once the database has committed it, and ids are unique in the table, so a row sent
twice is stored once. A row the database refuses for its content is set aside (``rejected``)
rather than holding up the others.

Until a row is committed, ``unsent()`` gives it to the budgets, so this process's own spend is
never missed. ``QueuedWriter`` is ``PostgresStore``'s base class; the store adds the reads.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from orchestify_nb.usage import postgres_blocks, postgres_reads
from orchestify_nb.usage.postgres_schema import (
    BLOCK_SEQS,
    INSERT_LOCK,
    SCHEMA,
    current_version,
    migrate,
)
from orchestify_nb.usage.spool import Spool
from orchestify_nb.usage.storage import (
    LABEL_FIELDS,
    STORED_COLUMNS,
    Filters,
    LedgerError,
    RecordRejectedError,
)
from orchestify_nb.usage.store import Row, record_row

if TYPE_CHECKING:
    import psycopg

    from orchestify_nb.usage.locations import LedgerLocation
    from orchestify_nb.usage.record import UsageRecord

logger = logging.getLogger("orchestify_nb.usage")

#: Rows per insert transaction.
BATCH_ROWS = 500
#: How often the writer tries the database again during an outage, at first.
RETRY_INTERVAL_S = 0.5
#: The longest wait between attempts while the database stays unreachable.
MAX_RETRY_INTERVAL_S = 5.0
#: How long ``close`` waits for queued rows to reach the database (or the spool).
CLOSE_WAIT_S = 30.0

_LABEL_COLUMNS = tuple(f"{field}_label" for field in LABEL_FIELDS)
_PLAIN_COLUMNS = tuple(column for column in STORED_COLUMNS if column not in _LABEL_COLUMNS)
_INSERT_SQL = (
    f"INSERT INTO {SCHEMA}.calls ({', '.join((*_PLAIN_COLUMNS, *_LABEL_COLUMNS))}) "
    f"VALUES ({', '.join('%s' for _ in STORED_COLUMNS)}) ON CONFLICT (id) DO NOTHING"
)


class QueuedWriter:
    """Queue rows, commit them from one thread, spool them while the database is away."""

    path: str
    location: LedgerLocation
    _psycopg: Any
    _conninfo: str
    _arguments: dict[str, Any]
    _version: int

    def _prepare_writer(self, spool_path: Path) -> None:
        self._labels: dict[str, int] = {}
        self._version = 0
        self._queue: deque[tuple[UsageRecord, Row]] = deque()
        self._unsent: dict[str, UsageRecord] = {}
        self._state = threading.Condition()
        self._closing = False
        self._closed = threading.Event()
        self._outage = False
        self._writer_connection: psycopg.Connection[Any] | None = None
        self._blocks_checked = 0
        #: Rows the database refused for their content (each reported once).
        self.rejected: list[Row] = []
        self.spool = Spool(spool_path)
        self._spooling = len(self.spool) > 0  # a spool left by a kernel that died

    def _start_writer(self) -> None:
        self._writer = threading.Thread(
            target=self._write_loop, name="orchestify-team-ledger-writer", daemon=True
        )
        self._writer.start()

    def _stop_writer(self) -> bool:
        """Send what is queued (or spool it) and stop the thread; ``False`` if already done."""
        with self._state:
            if self._closing:
                return False
            self._closing = True
            self._state.notify_all()
        self._closed.set()
        self._writer.join(CLOSE_WAIT_S)
        return True

    def _connect(self) -> psycopg.Connection[Any]:
        connection: psycopg.Connection[Any] = self._psycopg.connect(
            self._conninfo, autocommit=True, **self._arguments
        )
        return connection

    def _explain(self, error: BaseException) -> str:
        """The error's text without any credential (psycopg may quote the conninfo)."""
        return self.location.scrub(
            str(error).strip().splitlines()[0] if str(error) else repr(error)
        )

    # ---------------------------------------------------------------------------------- outage
    def _start_outage(self, error: BaseException) -> None:
        with self._state:
            if self._outage:
                return
            self._outage = self._spooling = True
        logger.warning(
            "the team ledger %s is unreachable (%s): calls go on, their rows wait in %s and are "
            "sent when it is back; budgets work from the last known total",
            self.path,
            self._explain(error),
            self.spool.path,
        )

    def _end_outage(self, flushed: int) -> None:
        with self._state:
            was_out, self._outage, self._spooling = self._outage, False, False
        if was_out or flushed:
            logger.info("the team ledger %s is back: %d spooled row(s) sent", self.path, flushed)

    @property
    def outage(self) -> bool:
        """Whether the database was unreachable at the last attempt."""
        return self._outage

    # ---------------------------------------------------------------------------------- writing
    def write(self, record: UsageRecord) -> int:
        """Queue the record for the writer thread; returns 0 (its position is known only once
        committed, and the budgets count it through ``unsent`` until then)."""
        return self.write_many([record])[0]

    def write_many(self, records: Sequence[UsageRecord]) -> list[int]:
        """Queue ``records`` together (the writer thread already inserts its queue in batches);
        every record is checked before any is queued, so a bad one leaves none queued."""
        queued = [(record, _checked_row(record)) for record in records]
        with self._state:
            if self._closing:
                raise LedgerError(f"the team ledger {self.path} is closed")
            for record, _ in queued:
                self._unsent[record.id] = record
            self._queue.extend(queued)
            self._state.notify()
        return [0] * len(queued)

    def unsent(self) -> list[UsageRecord]:
        """Records this process wrote that the database has not committed yet (a copy)."""
        with self._state:
            return list(self._unsent.values())

    def sync(self, timeout: float) -> bool:
        """Wait until every queued row is committed; ``False`` if that took too long."""
        deadline = time.monotonic() + timeout
        with self._state:
            self._state.notify_all()
            while self._unsent:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._state.wait(min(left, 0.05))
        return True

    def _write_loop(self) -> None:
        retry = RETRY_INTERVAL_S
        while True:
            with self._state:
                while not self._queue and not self._closing and not self._spooling:
                    self._state.wait()
                batch = [self._queue.popleft() for _ in range(min(len(self._queue), BATCH_ROWS))]
                closing, spooling = self._closing, self._spooling
            try:
                if batch:
                    self._send_or_spool(batch, spooling)
                flushed = not self._spooling or self._flush_spool()
            except Exception:  # the spool itself failed (disk full...): keep the rows, retry
                with self._state:
                    self._queue.extendleft(reversed(batch))
                    kept = len(self._queue)
                if closing:
                    logger.exception("%d usage row(s) could not be stored nor spooled", kept)
                    break
                logger.exception("the team ledger's writer failed; %d row(s) kept in memory", kept)
                flushed = False
            if flushed:
                retry = RETRY_INTERVAL_S
            elif not closing:
                self._closed.wait(retry)  # close() cuts the wait short
                retry = min(retry * 2, MAX_RETRY_INTERVAL_S)
            if closing and (not batch or not flushed):
                with self._state:
                    if not self._queue:
                        break
        if self._writer_connection is not None:
            self._writer_connection.close()

    def _send_or_spool(self, batch: list[tuple[UsageRecord, Row]], spooling: bool) -> None:
        rows = [row for _, row in batch]
        if not spooling:
            try:
                self._insert_or_reject(rows)
            except self._psycopg.Error as error:
                self._start_outage(error)
            else:
                self._committed(record.id for record, _ in batch)
                self._seal_if_due()
                return
        self.spool.append(rows)

    def _seal_if_due(self) -> None:
        """Seal the blocks this process's rows completed, so readers find them packed (a
        block's seal takes its rows' COPY: about a second per 65,536 rows, on this thread)."""
        connection = self._writer_connection
        if connection is None:
            return
        try:
            row = connection.execute(f"SELECT coalesce(max(seq), 0) FROM {SCHEMA}.calls")
            complete = int(row.fetchone()[0]) // BLOCK_SEQS  # type: ignore[index]
            if complete <= self._blocks_checked:
                return
            self._blocks_checked = complete
            for block in postgres_blocks.complete_unsealed(connection):
                seal_block(connection, block)
        except self._psycopg.Error as error:  # a reader seals it instead
            logger.info("could not seal team ledger blocks: %s", self._explain(error))

    def _insert_or_reject(self, rows: list[Row]) -> None:
        """Insert ``rows``; if the database refuses the batch for its content (not for being
        unreachable), insert them one by one and set aside the rows it refuses, each with a
        warning (``rejected``), so one bad row cannot hold up the others."""
        try:
            self._insert(rows)
        except self._psycopg.OperationalError:
            raise
        except self._psycopg.Error:
            for row in rows:
                try:
                    self._insert([row])
                except self._psycopg.OperationalError:
                    raise
                except self._psycopg.Error as error:
                    self.rejected.append(row)
                    logger.warning(
                        "the team ledger refused usage record %s (%s); it is kept in "
                        "PostgresStore.rejected",
                        row.values[0],
                        self._explain(error),
                    )

    def _flush_spool(self) -> bool:
        """Send the spool's rows, oldest first; ``True`` once it is empty."""
        flushed = 0
        try:
            self._writer_connection_ready().execute("SELECT 1")  # is the database back?
            while taken := self.spool.take(BATCH_ROWS):
                rows = [row for _, row in taken]
                self._insert_or_reject(rows)
                self.spool.drop(taken[-1][0])
                flushed += len(rows)
                self._committed(str(row.values[0]) for row in rows)
        except self._psycopg.Error as error:
            self._drop_writer_connection()
            if flushed:
                logger.info("sent %d spooled row(s) before %s", flushed, self._explain(error))
            return False
        with self._state:
            if self._queue:  # rows queued meanwhile go after the spooled ones
                batch = list(self._queue)
                self._queue.clear()
            else:
                batch = []
        if batch:
            self.spool.append([row for _, row in batch])
            return self._flush_spool()
        with self._state:  # every row accepted before now is stored (whoever flushed it)
            queued = {record.id for record, _ in self._queue}
            for record_id in [key for key in self._unsent if key not in queued]:
                del self._unsent[record_id]
            self._state.notify_all()
        self._end_outage(flushed)
        return True

    def _committed(self, ids: Iterator[str] | Any) -> None:
        with self._state:
            for record_id in ids:
                self._unsent.pop(record_id, None)
            self._state.notify_all()

    def _drop_writer_connection(self) -> None:
        if self._writer_connection is not None:
            try:
                self._writer_connection.close()
            finally:
                self._writer_connection = None

    def _writer_connection_ready(self) -> psycopg.Connection[Any]:
        """The writer's own connection, opened (and the schema migrated) when needed."""
        if self._writer_connection is None or self._writer_connection.closed:
            self._writer_connection = self._connect()
            if self._version == 0 or current_version(self._writer_connection) == 0:
                self._version = migrate(self._writer_connection)
        return self._writer_connection

    def _insert(self, rows: list[Row]) -> None:
        """One transaction; under the insert lock so ``seq`` follows commit order."""
        connection = self._writer_connection_ready()
        try:
            codes = self._label_codes(connection, {t for row in rows for t in row.labels if t})
            params = [
                (*row.values, *(codes[text] if text else None for text in row.labels))
                for row in rows
            ]
            with connection.transaction():
                connection.execute("SELECT pg_advisory_xact_lock(%s)", (INSERT_LOCK,))
                with connection.cursor() as cursor:
                    cursor.executemany(_INSERT_SQL, params)
        except self._psycopg.OperationalError:
            self._drop_writer_connection()
            raise

    def _label_codes(self, connection: psycopg.Connection[Any], texts: set[str]) -> dict[str, int]:
        missing = [text for text in texts if text not in self._labels]
        if missing:
            connection.execute(
                f"INSERT INTO {SCHEMA}.labels (text) SELECT unnest(%s::text[]) "
                "ON CONFLICT (text) DO NOTHING",
                (missing,),
            )
            for code, text in connection.execute(
                f"SELECT id, text FROM {SCHEMA}.labels WHERE text = ANY(%s)", (missing,)
            ).fetchall():
                self._labels[text] = int(code)
        return self._labels


def seal_block(connection: psycopg.Connection[Any], block: int) -> None:
    """Pack the rows of one complete block (see ``postgres_blocks``)."""
    span = f"seq > {block * BLOCK_SEQS} AND seq <= {(block + 1) * BLOCK_SEQS}"
    values = postgres_reads.read_rows(connection, Filters(), {}, STORED_COLUMNS, span)
    postgres_blocks.seal(connection, block, values)


def _checked_row(record: UsageRecord) -> Row:
    """The record as a row, or ``RecordRejectedError`` when its values cannot be stored."""
    try:
        return record_row(record)
    except Exception as error:  # the record's values, not the database
        raise RecordRejectedError(
            f"usage record {getattr(record, 'id', '?')!r} cannot be stored: "
            f"{type(error).__name__}: {error}"
        ) from error
