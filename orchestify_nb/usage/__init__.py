"""Usage recording: the process-wide default ledger every provider writes to.

Importing this package is cheap (sqlite3, no pandas): the provider base class reaches the default
ledger on every call, and pandas is loaded only when a DataFrame is asked for.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from orchestify_nb.usage.context import CallContext, call_context, current_call_context
from orchestify_nb.usage.record import UsageRecord

if TYPE_CHECKING:
    from orchestify_nb.usage.budgets import Budget
    from orchestify_nb.usage.ledger import Ledger
    from orchestify_nb.usage.settings import UsageSettings

__all__ = [
    "CallContext",
    "UsageRecord",
    "call_context",
    "configure_default_ledger",
    "current_call_context",
    "default_ledger_path",
    "get_default_ledger",
    "set_default_ledger",
]

#: Environment variable naming the ledger file (``:memory:`` allowed); it wins over the config.
LEDGER_ENV = "ORCHESTIFY_LEDGER"

logger = logging.getLogger("orchestify_nb.usage")

_default: Ledger | None = None
_default_lock = threading.Lock()
#: Ledger paths whose fall-back to memory was already announced in this process.
_announced_fallbacks: set[str] = set()


def default_ledger_path(configured: str | os.PathLike[str] | None = None) -> str:
    """``ORCHESTIFY_LEDGER`` if set, else ``configured`` (config ``ledger: {path}``), else
    ``ledger.sqlite3`` in the user data directory (kept across sessions and projects)."""
    from_env = os.environ.get(LEDGER_ENV)
    if from_env:
        return from_env
    if configured:
        from orchestify_nb.usage.locations import SQLITE_SCHEME, is_database_url

        if is_database_url(os.fspath(configured)) or os.fspath(configured).startswith(
            SQLITE_SCHEME
        ):
            return os.fspath(configured)
        return os.fspath(Path(configured).expanduser())
    import platformdirs

    return os.fspath(platformdirs.user_data_path("orchestify_nb") / "ledger.sqlite3")


def get_default_ledger() -> Ledger:
    """The ledger calls are recorded to when a provider has no ``usage_sink`` of its own.

    Created on first use at ``default_ledger_path()``. If that file cannot be opened, usage is
    kept in memory for this session (said once, see ``open_or_fall_back``) rather than failing
    every call.
    """
    global _default
    with _default_lock:
        if _default is None:
            _default = open_or_fall_back(default_ledger_path(), [])
        return _default


def open_or_fall_back(path: str, budgets: list[Budget]) -> Ledger:
    """The ledger at ``path``, or an in-memory one if the file cannot be opened.

    Falling back loses the session's usage when the kernel ends, so it is said once per file and
    process on stderr, which a notebook shows under the cell (as a config problem is), besides
    the log.
    """
    from orchestify_nb.errors import MissingDependencyError
    from orchestify_nb.usage.ledger import Ledger
    from orchestify_nb.usage.storage import LedgerError

    try:
        return Ledger(path, budgets)
    except (LedgerError, MissingDependencyError) as error:  # psycopg missing for a team URL
        logger.warning("%s; recording usage in memory for this session instead", error)
        if path not in _announced_fallbacks:
            _announced_fallbacks.add(path)
            print(
                f"orchestify_nb: usage is recorded in memory for this session only, and is lost "
                f"when the kernel stops. {error}",
                file=sys.stderr,
            )
        return Ledger(":memory:", budgets)


def set_default_ledger(ledger: Ledger | None) -> None:
    """Make ``ledger`` the default (``None``: the next use opens ``default_ledger_path()``)."""
    global _default
    with _default_lock:
        _default = ledger


def ledger_settings(config: UsageSettings | None) -> tuple[str, list[Budget]]:
    """The ledger file and budgets a config asks for (``ORCHESTIFY_LEDGER`` wins for the file)."""
    from orchestify_nb.usage.budgets import budgets_from_config

    section = config.ledger if config is not None else None
    url = section.url.get_secret_value() if section is not None and section.url else None
    configured = url or (section.path if section is not None else None)
    budgets = budgets_from_config(config.budgets if config is not None else None)
    return default_ledger_path(configured), budgets


def configure_default_ledger(config: UsageSettings | None) -> Ledger:
    """Make the default ledger the one ``config`` asks for (``ledger:`` file, ``budgets:``).

    The session calls this when it loads a config. If the default ledger already writes that
    file it is kept and only its budgets change, so the spend already counted stays counted.
    """
    from orchestify_nb.usage.locations import display_location

    global _default
    path, budgets = ledger_settings(config)
    project = config.project if config is not None else None
    with _default_lock:
        if _default is not None and _default.path == display_location(path):
            _default.set_budgets(budgets)
            _default.project = project
            return _default
        _default = open_or_fall_back(path, budgets)
        _default.project = project
        return _default
