"""Spending limits, and the in-memory spend totals that make checking them nearly free.

``check_budget`` runs before every call, so it must not scan the ledger. ``SpendTracker`` keeps
what each provider spent today (UTC), in this session and in total, folds in this process's own
rows as they are written, and reads only the rows other processes added since it last looked
(the storage's change counter says whether there are any).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from typing import TYPE_CHECKING, Literal

from orchestify_nb.usage.record import UsageRecord
from orchestify_nb.usage.storage import LedgerStorage, ProviderSpend, to_ns

if TYPE_CHECKING:
    from orchestify_nb.usage.settings import BudgetSettings

BudgetPeriod = Literal["day", "session", "total"]
#: Whose spend counts: everyone's in the ledger (a team ledger: the whole team), or only the
#: spend of the user this kernel runs for.
BudgetScope = Literal["team", "per_user"]
BudgetState = Literal["ok", "warning", "exceeded"]

#: Default share of a budget after which a ``BudgetWarning`` is shown (once per budget, session).
WARNING_FRACTION = 0.8


class BudgetWarning(UserWarning):
    """A budget is nearly spent (80 % by default); calls go through until it is exhausted."""


@dataclass(frozen=True, slots=True)
class Budget:
    """At most ``limit_usd`` per ``period`` for one provider (``provider_id``), or for all.

    ``day`` is the UTC calendar day; ``session`` is this kernel (process) since it started.
    A ``BudgetWarning`` is shown once ``warn_at`` of the limit is spent. ``scope="per_user"``
    counts only the spend of this kernel's user (``JUPYTERHUB_USER``, else the OS user), so
    each student of a class gets the limit; ``"team"`` counts every row of the ledger.
    """

    limit_usd: float
    period: BudgetPeriod = "total"
    provider_id: str | None = None
    warn_at: float = WARNING_FRACTION
    scope: BudgetScope = "team"

    def __post_init__(self) -> None:
        if self.period not in ("day", "session", "total"):
            raise ValueError(
                f"budget period must be 'day', 'session' or 'total', not {self.period!r}"
            )
        if self.scope not in ("team", "per_user"):
            raise ValueError(f"budget scope must be 'team' or 'per_user', not {self.scope!r}")
        if not self.limit_usd >= 0:
            raise ValueError(
                f"budget limit_usd must be a non-negative number, not {self.limit_usd!r}"
            )

    def applies_to(self, provider_id: str) -> bool:
        return self.provider_id is None or self.provider_id == provider_id

    def describe(self) -> str:
        """``"the daily budget for provider 'claude'"``, ``"the overall total budget"``..."""
        adjective = {"day": "daily", "session": "per-session", "total": "total"}[self.period]
        scope = f"for provider {self.provider_id!r}" if self.provider_id else "across all providers"
        whose = " per user" if self.scope == "per_user" and self.period != "session" else ""
        return f"the {adjective} budget{whose} {scope}"

    def window(self) -> str:
        return {"day": "today (UTC)", "session": "in this session", "total": "in total"}[
            self.period
        ]


@dataclass(frozen=True, slots=True)
class BudgetStatus:
    """A budget with what has been spent against it, and what calls in flight reserve."""

    budget: Budget
    spent_usd: float
    reserved_usd: float = 0.0

    @property
    def limit_usd(self) -> float:
        return self.budget.limit_usd

    @property
    def remaining_usd(self) -> float:
        return max(self.budget.limit_usd - self.spent_usd, 0.0)

    @property
    def fraction_used(self) -> float:
        limit = self.budget.limit_usd
        return self.spent_usd / limit if limit > 0 else float("inf")

    @property
    def state(self) -> BudgetState:
        if self.spent_usd >= self.budget.limit_usd:
            return "exceeded"
        return "warning" if self.fraction_used >= self.budget.warn_at else "ok"


def budgets_from_config(config: BudgetSettings | None) -> list[Budget]:
    """The ``budgets:`` section of the config as ``Budget`` objects (overall ones first)."""
    if config is None:
        return []
    scopes = [(None, config.overall), *config.providers.items()]
    budgets: list[Budget] = []
    for provider_id, limits in scopes:
        periods: tuple[tuple[BudgetPeriod, float | None], ...] = (
            ("day", limits.per_day),
            ("session", limits.per_session),
            ("total", limits.total),
        )
        budgets.extend(
            Budget(limit, period, provider_id, warn_at=config.warn_at, scope=config.scope)
            for period, limit in periods
            if limit is not None
        )
    return budgets


def usd(amount: float) -> str:
    """Money for messages: cents for dollars, more digits for the tiny sums of single calls."""
    return f"${amount:,.2f}" if amount >= 1 or amount == 0 else f"${amount:.4f}"


def exceeded_message(status: BudgetStatus) -> tuple[str, str]:
    """The message and the hint of the error raised when a call hits a spent budget."""
    budget = status.budget
    message = (
        f"{budget.describe()} is spent: {usd(status.spent_usd)} of {usd(budget.limit_usd)} "
        f"{budget.window()}, so the call was refused before anything was sent"
    )
    reset = {
        "day": "it resets at midnight UTC",
        "session": "it resets when the kernel restarts",
        "total": "it never resets",
    }[budget.period]
    hint = (
        f"Raise limit_usd for this budget under `budgets:` in your orchestify.yaml (or pass a "
        f"higher Budget to Ledger.set_budgets()); {reset}. `%llm budget` shows every budget."
    )
    return message, hint


def reservation_message(status: BudgetStatus, worst_case_usd: float) -> tuple[str, str]:
    """The message and hint when a call's worst case does not fit what is left of a budget
    once the calls in flight are counted."""
    budget = status.budget
    message = (
        f"{budget.describe()} cannot cover this call while others are in flight: it may cost "
        f"up to {usd(worst_case_usd)} (max_tokens at the output price plus the prompt), with "
        f"{usd(status.spent_usd)} spent and {usd(status.reserved_usd)} reserved by calls in "
        f"flight of {usd(budget.limit_usd)} {budget.window()}; nothing was sent"
    )
    hint = (
        "Wait for the calls in flight to finish, lower max_tokens, or raise limit_usd for this "
        "budget under `budgets:` in your orchestify.yaml. `%llm budget` shows every budget."
    )
    return message, hint


def warning_message(status: BudgetStatus) -> str:
    budget = status.budget
    return (
        f"{budget.describe()} is {status.fraction_used:.0%} used: {usd(status.spent_usd)} of "
        f"{usd(budget.limit_usd)} {budget.window()}. Calls are refused once it is spent."
    )


@dataclass(slots=True)
class _Spend:
    total: dict[str, float] = field(default_factory=dict)
    day: dict[str, float] = field(default_factory=dict)
    session: dict[str, float] = field(default_factory=dict)
    user_total: dict[str, float] = field(default_factory=dict)
    user_day: dict[str, float] = field(default_factory=dict)

    def add(self, row: ProviderSpend) -> None:
        for amounts, cost in (
            (self.total, row.total_usd),
            (self.day, row.today_usd),
            (self.session, row.session_usd),
            (self.user_total, row.user_usd),
            (self.user_day, row.user_today_usd),
        ):
            amounts[row.provider_id] = amounts.get(row.provider_id, 0.0) + cost

    def of(self, period: BudgetPeriod, scope: BudgetScope) -> dict[str, float]:
        if scope == "per_user" and period != "session":  # a session is one user's already
            return self.user_day if period == "day" else self.user_total
        return {"day": self.day, "session": self.session, "total": self.total}[period]


class SpendTracker:
    """USD spent per provider, by period, kept current at the cost of a dict update per call.

    Must be used under the store's lock.
    """

    def __init__(self, store: LedgerStorage, session_id: str, user: str | None = None) -> None:
        self._store = store
        self._session_id = session_id
        self._user = user
        self._spend = _Spend()
        self._day_start_ns = -1
        self._synced_position = 0
        self._synced_version: int | None = None
        self._stale = True

    def spent(self, budget: Budget, pending: Iterable[UsageRecord] = ()) -> float:
        """Spent against ``budget``, including rows still waiting to be written."""
        self._refresh_if_needed()
        amounts = self._spend.of(budget.period, budget.scope)
        if budget.provider_id is None:
            spent = sum(amounts.values())
        else:
            spent = amounts.get(budget.provider_id, 0.0)
        for record in pending:
            if (
                record.cost_usd
                and budget.applies_to(record.provider_id)
                and self._in_period(record, budget.period)
                and (budget.scope == "team" or record.user in (None, self._user))
            ):
                spent += record.cost_usd
        return spent

    def on_insert(self, position: int, record: UsageRecord) -> None:
        """Fold a row this process just wrote, unless other writers make a re-read necessary."""
        if not position:
            return
        if self._stale or position != self._synced_position + 1:
            self._stale = True
            return
        self._synced_position = position
        if record.cost_usd:
            cost, today = record.cost_usd, self._in_period(record, "day")
            mine = record.user in (None, self._user)
            self._spend.add(
                ProviderSpend(
                    record.provider_id,
                    cost,
                    cost if today else 0.0,
                    cost,
                    position,
                    cost if mine else 0.0,
                    cost if mine and today else 0.0,
                )
            )

    def _in_period(self, record: UsageRecord, period: BudgetPeriod) -> bool:
        if period == "day":
            return to_ns(record.started_at) >= self._day_start_ns
        if period == "session":
            return record.session_id in (None, self._session_id)
        return True

    def _refresh_if_needed(self) -> None:
        day_start = to_ns(datetime.combine(datetime.now(UTC).date(), time(), tzinfo=UTC))
        if day_start != self._day_start_ns:
            self._spend, self._synced_position, self._day_start_ns = _Spend(), 0, day_start
            self._stale = True
        version = self._store.change_counter()
        if not self._stale and version == self._synced_version:
            return
        for row in self._store.spend_after(
            self._synced_position, self._day_start_ns, self._session_id, self._user
        ):
            self._spend.add(row)
            self._synced_position = max(self._synced_position, row.last_position)
        self._synced_version, self._stale = version, False
