"""What the ledger needs from a place to keep usage rows: the storage interface.

``Ledger``, the budgets, the DataFrame builders and the reports talk to a ``LedgerStorage`` and
nothing else; ``store.SQLiteStore`` implements it for one SQLite file (with its sealed blocks, an
optimisation nobody above it sees), and a PostgreSQL store can implement it for a team.

Columns travel in one columnar form, whatever the backend: ``read_columns`` answers with one numpy
array per stored column (``STORED_COLUMNS``): the id as objects, money (``FLOAT_COLUMNS``) as
float64 with NaN for "none", label columns (``<field>_label``) as int64 codes into ``labels()``
with 0 for "none", times as int64 nanoseconds and durations as int64 microseconds since the
epoch, other missing integers as ``NULL_INTEGER``.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from orchestify_nb.errors import OrchestifyError

if TYPE_CHECKING:
    import numpy.typing as npt

    from orchestify_nb.usage.record import UsageRecord
    from orchestify_nb.usage.totals import TokenUsage

    Values = npt.NDArray[Any]

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

#: Stands for NULL in integer columns (no real count, timestamp or id is this negative).
NULL_INTEGER = -(2**62)

#: UsageRecord fields stored as codes into ``labels()`` (stored column ``<field>_label``).
LABEL_FIELDS: tuple[str, ...] = (
    "session_id",
    "provider_id",
    "provider_type",
    "model_requested",
    "model",
    "status",
    "price_source",
    "finish_reason",
    "error_type",
    "agent",
    "tag",
    "notebook_path",
    # version 5
    "run_id",
    "mode",
    "batch_job_id",
    "user",
    "project",
)

#: The label fields version 1 created; the rest were added by migrations.
V1_LABEL_FIELDS: tuple[str, ...] = LABEL_FIELDS[:12]

#: Money columns: float64 with NaN for "none".
FLOAT_COLUMNS: tuple[str, ...] = ("cost_usd", "saved_usd", "prompt_cache_saved_usd")

#: Token counts, stored as integer columns under these names.
TOKEN_FIELDS: tuple[str, ...] = (
    "input_tokens",
    "output_tokens",
    "cache_write_tokens",
    "cache_read_tokens",
    "reasoning_tokens",
)

#: Every stored column ``read_columns`` knows, in row order.
STORED_COLUMNS: tuple[str, ...] = (
    "id",
    "started_at_ns",
    "finished_at_ns",
    *TOKEN_FIELDS,
    "cost_usd",
    "priced",
    "latency_us",
    "time_to_first_token_us",
    "cell_execution_count",
    *(f"{field}_label" for field in V1_LABEL_FIELDS),
    "usage_estimated",
    # version 5
    "step",
    "saved_usd",
    "prompt_cache_saved_usd",
    *(f"{field}_label" for field in LABEL_FIELDS[len(V1_LABEL_FIELDS) :]),
)


class LedgerError(OrchestifyError):
    """The ledger file cannot be opened, read or written; the message names the file and the fix."""


class RecordRejectedError(LedgerError):
    """This one record cannot be stored (whatever the state of the file): retrying cannot help."""


def to_ns(moment: datetime) -> int:
    """Nanoseconds since the epoch (UTC); a naive datetime is taken to be UTC already."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - EPOCH) // timedelta(microseconds=1) * 1000


def from_ns(value: int) -> datetime:
    return EPOCH + timedelta(microseconds=value // 1000)


@dataclass(frozen=True, slots=True)
class Filters:
    """Row filters shared by every reader: time window and exact label matches."""

    since_ns: int | None = None
    until_ns: int | None = None
    provider: Sequence[str] = ()
    model: Sequence[str] = ()
    tag: Sequence[str] = ()
    status: Sequence[str] = ()


@dataclass(frozen=True, slots=True)
class ProviderSpend:
    """USD one provider spent in rows after a position: in all, since ``day_start_ns``, by
    one session, and by one user (in all and today); ``last_position`` is the newest of those
    rows."""

    provider_id: str
    total_usd: float
    today_usd: float
    session_usd: float
    last_position: int
    user_usd: float = 0.0
    user_today_usd: float = 0.0

    @classmethod
    def of_row(cls, row: Sequence[Any]) -> ProviderSpend:
        """From a row of the stores' spend queries: provider, total, today, session, last
        position, user total, user today."""
        provider, total, today, session, last, user_total, user_today = row
        return cls(
            str(provider),
            float(total),
            float(today),
            float(session),
            int(last),
            float(user_total),
            float(user_today),
        )


class LedgerStorage(Protocol):
    """Where a ``Ledger`` keeps its rows. Every method is safe to call from any thread; hold
    ``lock`` to make several calls one step (the ledger does, to keep its spend totals exact)."""

    path: str
    lock: threading.RLock

    def schema_version(self) -> int:
        """The version of the stored format (a file from a newer version is refused at open)."""
        ...

    def write(self, record: UsageRecord) -> int:
        """Store one finished call; returns its position (rows are numbered from 1 in the order
        they were stored), or 0 if a row with its id is already stored. Raises
        ``RecordRejectedError`` for a record that can never be stored, ``LedgerError`` when the
        storage refuses writes for now."""
        ...

    def write_many(self, records: Sequence[UsageRecord]) -> list[int]:
        """Store several finished calls in one step (a batch job's thousands of rows would
        otherwise pay one transaction each); returns their positions as ``write`` does. All or
        nothing: ``RecordRejectedError`` when one record can never be stored (none is stored
        then), ``LedgerError`` when the storage refuses writes for now."""
        ...

    def row_count(self) -> int: ...

    def totals(self, filters: Filters) -> TokenUsage:
        """Sums over the matching rows (calls, tokens by kind, cost, errors, unpriced calls)."""
        ...

    def cost_by_model(self, filters: Filters) -> list[tuple[str, float, int]]:
        """``(model, cost_usd, calls)`` per model, costliest first."""
        ...

    def read_records(self, filters: Filters, limit: int | None) -> list[UsageRecord]:
        """Matching rows as records, oldest first; ``limit`` keeps the newest N."""
        ...

    def read_columns(self, filters: Filters, columns: Sequence[str]) -> dict[str, Values]:
        """The stored ``columns`` of the matching rows, in the order they were stored, in the
        columnar form described in this module's docstring."""
        ...

    def labels(self) -> dict[int, str]:
        """Label code -> text, for the label columns of ``read_columns``."""
        ...

    def spend_after(
        self, position: int, day_start_ns: int, session_id: str, user: str | None = None
    ) -> list[ProviderSpend]:
        """Spend per provider in the rows stored after ``position`` (for budgets)."""
        ...

    def change_counter(self) -> int:
        """A number that changes whenever another process or connection stores rows."""
        ...

    def unsent(self) -> list[UsageRecord]:
        """Records ``write`` accepted that are not stored yet (a store that writes in the
        background); budgets count them."""
        ...

    def sync(self, timeout: float) -> bool:
        """Wait until every accepted record is stored; ``False`` if it took longer."""
        ...

    @property
    def outage(self) -> bool:
        """Whether the storage was unreachable at the last attempt (budgets then work from the
        last known total)."""
        ...

    def close(self) -> None: ...
