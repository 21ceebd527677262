"""What the ledger reads from a configuration, as protocols.

The config layer sits above the ledger (it validates files; the ledger records calls), so the
ledger names the few settings it needs instead of importing the config's models:
``OrchestifyConfig`` and its ``ledger:``/``budgets:`` sections fit these shapes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, Protocol


class LimitSettings(Protocol):
    """Spending limits in USD (``None``: no limit)."""

    @property
    def per_day(self) -> float | None: ...

    @property
    def per_session(self) -> float | None: ...

    @property
    def total(self) -> float | None: ...


class BudgetSettings(Protocol):
    """The ``budgets:`` section: overall limits, per-provider limits, the warning fraction."""

    @property
    def overall(self) -> LimitSettings: ...

    @property
    def providers(self) -> Mapping[str, LimitSettings]: ...

    @property
    def warn_at(self) -> float: ...

    @property
    def scope(self) -> Literal["team", "per_user"]: ...


class Secret(Protocol):
    """A value kept out of reprs (pydantic's ``SecretStr``)."""

    def get_secret_value(self) -> str: ...


class LedgerFileSettings(Protocol):
    """The ``ledger:`` section: a file, or a URL (a team ledger)."""

    @property
    def path(self) -> str | None: ...

    @property
    def url(self) -> Secret | None: ...


class UsageSettings(Protocol):
    """A whole configuration, as far as usage recording is concerned."""

    @property
    def ledger(self) -> LedgerFileSettings | None: ...

    @property
    def budgets(self) -> BudgetSettings | None: ...

    @property
    def project(self) -> str | None: ...
