"""The usage ledger: every call's tokens and cost, kept in SQLite across sessions.

``Ledger.record`` is what the provider base class calls after every call; ``check_budget`` is what
it calls before one. Everything else reads: totals as ``TokenUsage``, rows as ``UsageRecord``,
and (pandas loaded on first use) DataFrames, summaries, pivots, plots and exports.
"""

from __future__ import annotations

import logging
import os
import uuid
import warnings
import weakref
from collections.abc import Iterable, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Self, TypedDict, Unpack

from orchestify_nb.errors import MissingDependencyError
from orchestify_nb.usage.budgets import (
    Budget,
    BudgetStatus,
    BudgetWarning,
    SpendTracker,
    warning_message,
)
from orchestify_nb.usage.identity import current_user, project_for
from orchestify_nb.usage.periods import Moment, parse_moment
from orchestify_nb.usage.record import UsageRecord
from orchestify_nb.usage.reservations import BudgetReservation, refuse_unless_admitted
from orchestify_nb.usage.storage import Filters, LedgerError, LedgerStorage, RecordRejectedError
from orchestify_nb.usage.totals import TokenUsage

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

    from orchestify_nb.usage.settings import UsageSettings

LabelFilter = str | Sequence[str] | None

logger = logging.getLogger("orchestify_nb.usage")


class FilterArgs(TypedDict, total=False):
    """Row filters every reader accepts: a time window and label values to keep."""

    since: Moment | None
    until: Moment | None
    provider: LabelFilter
    model: LabelFilter
    tag: LabelFilter
    status: LabelFilter


_session: tuple[int, str] | None = None


def current_session_id() -> str:
    """One id per process (kernel): a forked child gets its own."""
    global _session
    if _session is None or _session[0] != os.getpid():
        _session = (os.getpid(), uuid.uuid4().hex)
    return _session[1]


def make_filters(**args: Unpack[FilterArgs]) -> Filters:
    """Filters from user arguments: a label filter is one value or a list of accepted values."""

    def many(value: LabelFilter) -> tuple[str, ...]:
        if value is None:
            return ()
        return (value,) if isinstance(value, str) else tuple(value)

    return Filters(
        since_ns=parse_moment(args.get("since")),
        until_ns=parse_moment(args.get("until")),
        provider=many(args.get("provider")),
        model=many(args.get("model")),
        tag=many(args.get("tag")),
        status=many(args.get("status")),
    )


def _write_pending(
    store: LedgerStorage, pending: list[UsageRecord], quarantined: list[UsageRecord]
) -> list[tuple[int, UsageRecord]]:
    """Write waiting records oldest first, several in one step (``write_many``). A record that
    can never be stored is quarantined (kept in memory, with a one-line warning) and the rest
    go on; when the storage refuses writes, stops (raising) at the first failure, losing none."""
    if len(pending) > 1:
        try:
            positions = store.write_many(pending)
        except RecordRejectedError:
            pass  # one of them can never be stored: one by one below finds and quarantines it
        except LedgerError as error:
            raise _kept_in_memory(store, pending, error) from error
        else:
            written = list(zip(positions, pending, strict=True))
            pending.clear()
            return written
    written = []
    while pending:
        record = pending[0]
        try:
            position = store.write(record)
        except RecordRejectedError as error:
            quarantined.append(pending.pop(0))
            logger.warning("%s; it is kept in Ledger.quarantined and counts against budgets", error)
            continue
        except LedgerError as error:
            raise _kept_in_memory(store, pending, error) from error
        pending.pop(0)
        written.append((position, record))
    return written


def _kept_in_memory(
    store: LedgerStorage, pending: list[UsageRecord], error: LedgerError
) -> LedgerError:
    """The error for a refused write: the records wait in memory for the next write."""
    return LedgerError(
        f"could not write usage record {pending[0].id} to the ledger {store.path!r} "
        f"({error.__cause__ or error}); {len(pending)} record(s) are kept in memory and "
        "are written with the next call or Ledger.flush()"
    )


def _close_store(
    store: LedgerStorage, pending: list[UsageRecord], quarantined: list[UsageRecord]
) -> None:
    """Last chance for records that could not be written, then release the file."""
    with store.lock:
        try:
            _write_pending(store, pending, quarantined)
        except LedgerError as error:
            warnings.warn(
                f"{len(pending)} usage record(s) could not be written to the ledger "
                f"{store.path!r} before it was closed and are lost ({error.__cause__})",
                RuntimeWarning,
                stacklevel=1,
            )
        store.close()


class Ledger:
    """Usage of every LLM call, in one SQLite file (or ``":memory:"``).

    ``path=None`` picks the default file (``ORCHESTIFY_LEDGER``, else the user data directory).
    Several kernels may share a file: each row carries the ``session_id`` of the process that
    wrote it. ``budgets`` refuse calls once spent (see ``Budget``). ``storage`` puts the rows
    somewhere else than an SQLite file (any ``storage.LedgerStorage``; ``path`` is then unused).
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        budgets: Iterable[Budget] | None = None,
        *,
        session_id: str | None = None,
        storage: LedgerStorage | None = None,
        project: str | None = None,
    ) -> None:
        if storage is None:
            from orchestify_nb.usage import default_ledger_path
            from orchestify_nb.usage.locations import open_store

            storage = open_store(os.fspath(default_ledger_path() if path is None else path))
        self._store = storage
        #: The ``project`` of rows that carry none (config ``project:``; else the notebook's
        #: folder).
        self.project = project
        self._user = current_user()
        self.session_id = session_id or current_session_id()
        self._budgets: tuple[Budget, ...] = tuple(budgets or ())
        self._tracker = SpendTracker(self._store, self.session_id, self._user)
        self._warned: set[Budget] = set()
        self._pending: list[UsageRecord] = []
        self._quarantined: list[UsageRecord] = []
        self._reservations: set[BudgetReservation] = set()
        self._finalizer = weakref.finalize(
            self, _close_store, self._store, self._pending, self._quarantined
        )

    @classmethod
    def from_config(cls, config: UsageSettings | None) -> Ledger:
        """The ledger a config asks for: its file (``ledger: {path}``, unless ``ORCHESTIFY_LEDGER``
        is set) and its limits (``budgets:``)."""
        from orchestify_nb.usage import ledger_settings

        path, budgets = ledger_settings(config)
        return cls(path, budgets, project=config.project if config is not None else None)

    @property
    def path(self) -> str:
        return self._store.path

    # ---------------------------------------------------------------------------------- writing
    def record(self, record: UsageRecord) -> None:
        """Write one finished call. Raises ``LedgerError`` if the file refuses the write; the
        record is then kept and written with the next call or ``flush()``."""
        self.record_many((record,))

    def record_many(self, records: Iterable[UsageRecord]) -> None:
        """Write many finished calls at once (a batch job's results): one transaction instead
        of one per row. Raises like ``record``; the records are then kept and written later."""
        batch = list(records)
        projects: dict[str | None, str | None] = {}  # resolving a folder takes ~20 µs
        for record in batch:
            if record.session_id is None:
                record.session_id = self.session_id
            if record.user is None:
                record.user = self._user
            if record.project is None:
                path = record.notebook_path
                if path not in projects:
                    projects[path] = project_for(self.project, path)
                record.project = projects[path]
        with self._store.lock:
            self._pending.extend(batch)
            self._fold(_write_pending(self._store, self._pending, self._quarantined))

    def flush(self, timeout: float = 10.0) -> None:
        """Write records whose earlier write failed, and wait (up to ``timeout`` seconds) for a
        store that writes in the background (a team ledger); raises ``LedgerError`` if a write
        fails again or rows are still waiting (they are kept, not lost)."""
        with self._store.lock:
            self._fold(_write_pending(self._store, self._pending, self._quarantined))
        if not self._store.sync(timeout):
            raise LedgerError(
                f"{len(self._store.unsent())} usage record(s) are still waiting for the ledger "
                f"{self._store.path!r}; they are kept (spooled) and sent when it answers"
            )

    @property
    def pending_count(self) -> int:
        """Records kept in memory because writing them failed."""
        return len(self._pending)

    @property
    def quarantined(self) -> tuple[UsageRecord, ...]:
        """Records the storage can never store (each was reported once); they still count
        against budgets."""
        return tuple(self._quarantined)

    def _fold(self, written: list[tuple[int, UsageRecord]]) -> None:
        for position, record in written:
            self._tracker.on_insert(position, record)

    def _unwritten(self) -> list[UsageRecord]:
        return [*self._pending, *self._quarantined, *self._store.unsent()]

    def close(self) -> None:
        """Write what is pending and release the file (the ledger is unusable afterwards)."""
        self._finalizer()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # ---------------------------------------------------------------------------------- budgets
    @property
    def budgets(self) -> tuple[Budget, ...]:
        return self._budgets

    def set_budgets(self, budgets: Iterable[Budget]) -> None:
        """Replace the budgets (warnings already shown are shown again if still due)."""
        self._budgets = tuple(budgets)
        self._warned.clear()

    @property
    def offline(self) -> bool:
        """Whether a team ledger's database is unreachable: calls go on, rows wait in the
        spool, and budgets work from the last known total."""
        return self._store.outage

    def budget_status(self) -> list[BudgetStatus]:
        """Every budget with what has been spent against it."""
        with self._store.lock:
            return [self._status(budget) for budget in self._budgets]

    def _status(self, budget: Budget) -> BudgetStatus:
        """Under the store's lock: spent (unwritten records included) and reserved."""
        reserved = sum(
            reservation.amount_usd
            for reservation in self._reservations
            if budget.applies_to(reservation.provider_id)
        )
        return BudgetStatus(budget, self._tracker.spent(budget, self._unwritten()), reserved)

    def check_budget(self, provider_id: str) -> None:
        """Refuse a call before it is sent if a budget covering ``provider_id`` is spent.

        Raises ``BudgetExceededError``; warns (``BudgetWarning``, once per budget and session)
        when a budget is 80 % used. Cheap: spend totals are kept in memory.
        """
        self.reserve(provider_id, None).release()

    def reserve(self, provider_id: str, worst_case_usd: float | None) -> BudgetReservation:
        """Hold ``worst_case_usd`` against every budget covering ``provider_id`` until the
        reservation is released (after the call is recorded); see ``usage.reservations``.

        Refused with ``BudgetExceededError`` when a budget is spent, and with its subclass
        ``BudgetInFlightError`` when calls in flight hold reservations and spent + reserved +
        ``worst_case_usd`` would pass the limit (``reserve_budget`` then waits for them).
        ``None`` (an unpriced model) reserves nothing.
        """
        if not self._budgets:
            return BudgetReservation(None, provider_id, 0.0)
        amount = worst_case_usd or 0.0
        with self._store.lock:
            statuses = [self._status(b) for b in self._budgets if b.applies_to(provider_id)]
            refuse_unless_admitted(statuses, provider_id, amount)
            reservation = BudgetReservation(self if amount else None, provider_id, amount)
            if amount:
                self._reservations.add(reservation)
        for status in statuses:
            if status.state == "warning" and status.budget not in self._warned:
                self._warned.add(status.budget)
                warnings.warn(warning_message(status), BudgetWarning, stacklevel=4)
        return reservation

    def _release(self, reservation: BudgetReservation) -> None:
        with self._store.lock:
            self._reservations.discard(reservation)

    # ---------------------------------------------------------------------------------- reading
    def totals(self, provider_id: str | None = None, since: Moment | None = None) -> TokenUsage:
        """Totals of the calls in the ledger (all sessions), like a provider's ``get_usage()``."""
        return self._store.totals(make_filters(provider=provider_id, since=since))

    def cost_by_model(self, **filters: Unpack[FilterArgs]) -> list[tuple[str, float, int]]:
        """``(model, cost_usd, calls)`` per model, costliest first (no pandas needed)."""
        return self._store.cost_by_model(make_filters(**filters))

    def records(
        self, *, limit: int | None = None, **filters: Unpack[FilterArgs]
    ) -> list[UsageRecord]:
        """Rows as ``UsageRecord`` objects, oldest first (``limit`` keeps the newest N).

        Latencies come back to the microsecond; everything else exactly as recorded.
        """
        return self._store.read_records(make_filters(**filters), limit)

    # ----------------------------------------------------------------------------------- pandas
    def to_dataframe(
        self,
        *,
        since: Moment | None = None,
        until: Moment | None = None,
        provider: LabelFilter = None,
        model: LabelFilter = None,
        tag: LabelFilter = None,
        status: LabelFilter = None,
        columns: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        """One row per call, oldest first, with typed columns.

        ``since``/``until`` (until excluded) take a datetime, a date, a ``timedelta`` or a span
        like ``"7d"``, ``"24h"``, ``"30m"``; ``provider``/``model``/``tag``/``status`` take one
        value or a list.
        Dtypes: ``datetime64[ns, UTC]`` times, ``category`` labels, ``Int64`` token counts,
        ``float64`` cost (NaN when unpriced) and latencies in seconds. ``columns`` picks a subset
        (faster on big ledgers).
        """
        from orchestify_nb.usage.columns import COLUMN_ORDER, read_frame

        filters = make_filters(
            since=since, until=until, provider=provider, model=model, tag=tag, status=status
        )
        return read_frame(self._store, filters, list(columns or COLUMN_ORDER))

    def summary(
        self, by: Sequence[str] | str = ("provider", "model"), **filters: Unpack[FilterArgs]
    ) -> pd.DataFrame:
        """Per group: calls, tokens by kind, cost, unpriced calls, mean latency and error rate.

        ``by`` names columns (``provider``, ``model``, ``tag``, ``agent``, ``status``...) or time
        buckets (``hour``, ``day``, ``week``, ``month``, UTC); ``[]`` gives one overall row.
        Filters as in ``to_dataframe``.
        """
        from orchestify_nb.usage.frames import summary

        keys = [by] if isinstance(by, str) else list(by)
        return summary(self._store, make_filters(**filters), keys)

    def pivot(
        self,
        index: str = "day",
        columns: str = "model",
        values: str = "cost_usd",
        aggfunc: str = "sum",
        **filters: Unpack[FilterArgs],
    ) -> pd.DataFrame:
        """``values`` aggregated over ``index`` × ``columns``, e.g. cost per day and model.

        ``values="calls"`` counts calls. Keys as in ``summary``; filters as in ``to_dataframe``.
        """
        from orchestify_nb.usage.frames import pivot

        return pivot(
            self._store,
            make_filters(**filters),
            index=index,
            columns=columns,
            values=values,
            aggfunc=aggfunc,
        )

    def plot(self, kind: str = "cost_over_time", **filters: Unpack[FilterArgs]) -> Figure:
        """A matplotlib Figure: ``"cost_over_time"`` (cumulative, per model) or
        ``"cost_by_model"`` (total per model). Filters as in ``to_dataframe``."""
        from orchestify_nb.usage.plots import PLOTS

        if kind not in PLOTS:
            raise ValueError(f"unknown plot kind {kind!r}; choose from: {', '.join(PLOTS)}")
        draw, columns = PLOTS[kind]
        return draw(self.to_dataframe(columns=columns, **filters))

    def to_csv(self, path: str | os.PathLike[str], **filters: Unpack[FilterArgs]) -> Path:
        """Write the calls (filters as in ``to_dataframe``) to a CSV file; returns its path."""
        target = Path(path).expanduser()
        self.to_dataframe(**filters).to_csv(target, index=False)
        return target

    def to_parquet(self, path: str | os.PathLike[str], **filters: Unpack[FilterArgs]) -> Path:
        """Write the calls to a Parquet file, dtypes kept (needs ``pyarrow``); returns its path."""
        try:
            import pyarrow  # noqa: F401
        except ImportError as error:
            raise MissingDependencyError(
                "writing Parquet needs pyarrow: pip install pyarrow (or to_csv() needs nothing)"
            ) from error
        target = Path(path).expanduser()
        self.to_dataframe(**filters).to_parquet(target, index=False)
        return target

    def __len__(self) -> int:
        return self._store.row_count()

    def __repr__(self) -> str:
        budgets = f", budgets={len(self._budgets)}" if self._budgets else ""
        return f"Ledger(path={self.path!r}{budgets})"


__all__ = ["Budget", "BudgetStatus", "BudgetWarning", "Ledger", "LedgerError", "current_session_id"]
