"""The team ledger: ``LedgerStorage`` on PostgreSQL, for many kernels spending one budget.

Writing is ``postgres_writer.QueuedWriter``'s (a queue, a writer thread, the outage spool);
this class adds the reads. Other processes' spend is read from the database before each call
(``spend_after``, one indexed query); during an outage the budgets work from the last known
total plus this process's unsent rows (the outage warning says so, and ``outage`` is true).

Reads go through a ``psycopg_pool.ConnectionPool`` in autocommit (a read is one round trip): a
notebook reads from the main thread while budget checks read from the runtime's loop thread.
Whole columns come from sealed blocks (``postgres_blocks``) and binary COPY
(``postgres_reads``); label filters run in SQL.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import unquote, urlsplit, urlunsplit

from orchestify_nb.errors import MissingDependencyError
from orchestify_nb.usage import postgres_blocks, postgres_reads
from orchestify_nb.usage.postgres_schema import SchemaTooNewError, migrate
from orchestify_nb.usage.postgres_writer import QueuedWriter, seal_block
from orchestify_nb.usage.spool import default_spool_path
from orchestify_nb.usage.storage import Filters, LedgerError, ProviderSpend

if TYPE_CHECKING:
    import psycopg
    from psycopg_pool import ConnectionPool

    from orchestify_nb.usage.locations import LedgerLocation
    from orchestify_nb.usage.record import UsageRecord
    from orchestify_nb.usage.storage import Values
    from orchestify_nb.usage.totals import TokenUsage

    Connection = psycopg.Connection[Any]

logger = logging.getLogger("orchestify_nb.usage")

T = TypeVar("T")

#: How long a connection attempt may take.
CONNECT_TIMEOUT_S = 3
#: How long a budget check before a call may wait for a pooled connection: the first check
#: after the database went away waits this long once, then the outage is known and none wait.
BUDGET_READ_TIMEOUT_S = 0.3
#: Parallel connections (and ranges of rows) a big label-filtered read is split into.
READ_PARTS = 2


class LedgerUnreachableError(LedgerError):
    """The database did not answer (as opposed to a pool too busy to lend a connection)."""


def _import_psycopg() -> Any:
    try:
        import psycopg
        import psycopg_pool  # noqa: F401
    except ImportError as error:
        raise MissingDependencyError(
            "a PostgreSQL team ledger needs psycopg 3 and its pool: "
            'pip install "orchestify_nb[postgres]"'
        ) from error
    return psycopg


class _QuietPoolWarnings(logging.Filter):
    """During an outage the pool warns at every reconnection attempt; the store announces the
    outage once itself, so the pool's repeats are demoted to DEBUG."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno == logging.WARNING:
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return True


_QUIET_POOL_WARNINGS = _QuietPoolWarnings()


class _QuietPipelineWarnings(logging.Filter):
    """When the database refuses a batch of rows, psycopg warns that it ignored a second error
    ending ``executemany``'s pipeline (depending on timing); the store handles the refusal
    itself (row by row, one warning per refused row), so that echo is demoted to DEBUG."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno == logging.WARNING and str(record.msg).startswith(
            "error ignored terminating"
        ):
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return True


_QUIET_PIPELINE_WARNINGS = _QuietPipelineWarnings()


def _connection_settings(location: LedgerLocation) -> tuple[str, dict[str, Any]]:
    """The URL without its password, and the password as a separate connection argument (so
    psycopg never puts it into a message)."""
    parts = urlsplit(location.secret_url)
    arguments: dict[str, Any] = {"connect_timeout": CONNECT_TIMEOUT_S}
    if parts.password is not None:
        arguments["password"] = unquote(parts.password)
        host = parts.netloc.rpartition("@")[2]
        user = parts.netloc.rpartition("@")[0].partition(":")[0]
        parts = parts._replace(netloc=f"{user}@{host}")
    return urlunsplit(parts), arguments


class PostgresStore(QueuedWriter):
    """One team ledger in PostgreSQL, shared by every kernel pointed at it."""

    def __init__(self, location: LedgerLocation, *, spool_path: Path | None = None) -> None:
        self._psycopg = _import_psycopg()
        from psycopg_pool import ConnectionPool

        logging.getLogger("psycopg.pool").addFilter(_QUIET_POOL_WARNINGS)  # once: same object
        logging.getLogger("psycopg").addFilter(_QUIET_PIPELINE_WARNINGS)
        self.location = location
        self.path = location.display
        self.lock = threading.RLock()
        self._conninfo, self._arguments = _connection_settings(location)
        self._counter = 0
        self._prepare_writer(spool_path or default_spool_path(self.path))
        try:
            with self._connect() as connection:
                self._version = migrate(connection)
        except SchemaTooNewError as error:
            self.spool.close()
            raise LedgerError(f"cannot use the team ledger {self.path}: {error}") from None
        except self._psycopg.Error as error:
            self._start_outage(error)
        self._pool: ConnectionPool[Any] = ConnectionPool(
            self._conninfo,
            kwargs={**self._arguments, "autocommit": True},  # a read is one round trip
            min_size=1,
            max_size=4,
            open=False,
            name=f"orchestify-ledger-{id(self)}",
        )
        self._pool.open(wait=False)
        self._start_writer()

    # ---------------------------------------------------------------------------------- reading
    def _read(self, task: Callable[[Connection], T], timeout: float = CONNECT_TIMEOUT_S) -> T:
        """``task`` on a pooled connection (during an outage, a fresh one, so the error says
        what is wrong). A pooled connection the server dropped (it restarted) is replaced
        once; an unreachable database is a ``LedgerError`` saying so."""
        try:
            if self._outage:
                with self._connect() as connection:
                    return task(connection)
            for attempt in (1, 2):
                with self._pool.connection(timeout=timeout) as connection:
                    try:
                        return task(connection)
                    except self._psycopg.OperationalError:
                        if attempt == 2 or not connection.broken:
                            raise
            raise AssertionError("unreachable")  # the loop returns or raises
        except (self._psycopg.Error, self._pool_timeout()) as error:
            unreachable = isinstance(error, self._psycopg.OperationalError)
            raise (LedgerUnreachableError if unreachable else LedgerError)(
                f"cannot read the team ledger {self.path}: {self._explain(error)}. Calls still "
                "run and their rows are kept until it is back; check the server and the URL in "
                "`ledger: {url: ...}` or ORCHESTIFY_LEDGER"
            ) from None

    @staticmethod
    def _pool_timeout() -> type[Exception]:
        from psycopg_pool import PoolTimeout

        return PoolTimeout

    def schema_version(self) -> int:
        return self._version

    def row_count(self) -> int:
        return self._read(postgres_reads.row_count)

    def totals(self, filters: Filters) -> TokenUsage:
        return self._read(lambda connection: postgres_reads.totals(connection, filters))

    def cost_by_model(self, filters: Filters) -> list[tuple[str, float, int]]:
        return self._read(lambda connection: postgres_reads.cost_by_model(connection, filters))

    def read_records(self, filters: Filters, limit: int | None) -> list[UsageRecord]:
        labels = self.labels()
        return self._read(
            lambda connection: postgres_reads.read_records(connection, filters, limit, labels)
        )

    def read_columns(self, filters: Filters, columns: Sequence[str]) -> dict[str, Values]:
        """Oldest first (by ``started_at``, then commit order), which is the order a frame
        wants: kernels commit their calls a little out of start order. Big reads are split
        into ``READ_PARTS`` ranges of rows read over parallel connections (the server then
        uses more than one core)."""
        from concurrent.futures import ThreadPoolExecutor

        codes = self._read(lambda connection: postgres_reads.label_codes(connection, filters))
        if not codes:  # no label filter: sealed blocks, then the newest rows
            self._seal_complete_blocks()
            return self._read(lambda connection: _from_blocks(connection, filters, columns))
        ranges = self._read(lambda connection: postgres_reads.seq_ranges(connection, READ_PARTS))

        def part(bounds: tuple[int, int]) -> dict[str, Values]:
            return self._read(
                lambda connection: postgres_reads.read_columns(
                    connection, filters, codes, columns, bounds
                )
            )

        if len(ranges) > 1:
            with ThreadPoolExecutor(len(ranges)) as pool:
                parts = list(pool.map(part, ranges))
        else:
            parts = [part(bounds) for bounds in ranges]
        return postgres_reads.oldest_first(parts, columns)

    def _seal_complete_blocks(self) -> None:
        """Seal the blocks whose rows are all committed; if this role may not write, or the
        database says no, their rows are simply read by COPY."""
        try:
            blocks = self._read(postgres_blocks.complete_unsealed)
            for block in blocks:
                self._read(functools.partial(seal_block, block=block))
        except LedgerError as error:
            logger.info("could not seal team ledger blocks (%s); reading rows", error)

    def labels(self) -> dict[int, str]:
        return self._read(postgres_reads.labels)

    def spend_after(
        self, position: int, day_start_ns: int, session_id: str, user: str | None = None
    ) -> list[ProviderSpend]:
        """Spend committed after ``position``; nothing new while the database is unreachable
        (budgets then work from the last known total, as the outage warning says)."""
        if self._outage:
            return []
        try:
            return self._read(
                lambda connection: postgres_reads.spend_after(
                    connection, position, day_start_ns, session_id, user
                ),
                BUDGET_READ_TIMEOUT_S,
            )
        except LedgerUnreachableError as error:
            self._start_outage(error)
            return []
        except LedgerError:  # every pooled connection busy: the last known total, this time
            return []

    def change_counter(self) -> int:
        """Always new: other kernels' spend is read before every call (one indexed query)."""
        self._counter += 1
        return self._counter

    def close(self) -> None:
        """Send what is queued (or spool it), stop the writer, close the connections."""
        if self._stop_writer():
            self._pool.close()
            self.spool.close()

    def __repr__(self) -> str:
        return f"PostgresStore({self.path!r})"


def _from_blocks(
    connection: Connection, filters: Filters, columns: Sequence[str]
) -> dict[str, Values]:
    """Sealed blocks in the time window and the rows outside every sealed block, from one
    snapshot, oldest first."""
    import numpy as np

    needed = list(dict.fromkeys([*columns, "started_at_ns"]))
    with connection.transaction():
        connection.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        every, wanted = postgres_blocks.sealed(connection, filters)
        parts = postgres_blocks.read(connection, wanted, needed)
        rest = postgres_reads.read_rows(
            connection, filters, {}, columns, postgres_blocks.unsealed_clause(every)
        )
    if filters.since_ns is not None or filters.until_ns is not None:
        since = filters.since_ns if filters.since_ns is not None else -(2**63)
        until = filters.until_ns if filters.until_ns is not None else 2**63 - 1
        for index, part in enumerate(parts):
            started = part["started_at_ns"]
            keep = np.logical_and(started >= since, started < until)
            parts[index] = {column: values[keep] for column, values in part.items()}
    return postgres_reads.oldest_first([*parts, rest], columns)
