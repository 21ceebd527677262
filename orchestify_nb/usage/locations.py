"""Where a ledger lives: a file (a path or ``sqlite:///...``) or a team database (a
``postgresql://`` URL), and the one factory that opens the matching store.

A PostgreSQL URL may carry a password. It is a secret like an API key, so a ``LedgerLocation``
holds it out of sight: ``display`` (what reprs, errors, logs and ``%llm config`` show) has the
credentials masked, and only the store's connection sees ``secret_url``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from orchestify_nb.redaction import redact_url, url_secrets

if TYPE_CHECKING:
    from pydantic import SecretStr

    from orchestify_nb.usage.storage import LedgerStorage

POSTGRES_SCHEMES = ("postgresql://", "postgres://")
SQLITE_SCHEME = "sqlite:///"


def is_database_url(location: str) -> bool:
    return location.startswith(POSTGRES_SCHEMES)


@dataclass(frozen=True, slots=True)
class LedgerLocation:
    """A ledger's address; ``repr`` and ``display`` never show a password."""

    secret_url: str = field(repr=False)

    @property
    def display(self) -> str:
        return redact_url(self.secret_url)

    @property
    def secrets(self) -> list[str]:
        """The credentials in the URL, to scrub from any text that might quote them."""
        return [secret for secret in url_secrets(self.secret_url) if len(secret) >= 3]

    def scrub(self, text: str) -> str:
        """``text`` with every credential of the URL masked (error messages quote conninfo)."""
        for secret in sorted(self.secrets, key=len, reverse=True):
            text = text.replace(secret, "***")
        return text

    def __repr__(self) -> str:
        return f"LedgerLocation({self.display!r})"


def sqlite_path(location: str) -> str:
    """The file of a path or a ``sqlite:///`` URL (``sqlite:///:memory:`` is memory)."""
    if location.startswith(SQLITE_SCHEME):
        location = location[len(SQLITE_SCHEME) :]
    return location if location == ":memory:" else os.fspath(Path(location).expanduser())


def display_location(location: str) -> str:
    """What a store's ``path`` shows for a location: a URL without its credentials, the file
    of a path or ``sqlite:///`` URL."""
    return redact_url(location) if is_database_url(location) else sqlite_path(location)


def open_store(location: str) -> LedgerStorage:
    """SQLite for a path or ``sqlite:///``, ``PostgresStore`` for a ``postgresql://`` URL."""
    if is_database_url(location):
        from orchestify_nb.usage.postgres_store import PostgresStore

        return PostgresStore(LedgerLocation(location))
    from orchestify_nb.usage.store import SQLiteStore

    return SQLiteStore(sqlite_path(location))


def check_ledger_url(value: SecretStr | None) -> SecretStr | None:
    """The config's ``ledger: {url}``: a ``postgresql://`` or ``sqlite:///`` URL (the error
    shows the URL without its credentials)."""
    if value is None:
        return None
    url = value.get_secret_value().strip()
    if not (is_database_url(url) or url.startswith(SQLITE_SCHEME)):
        raise ValueError(
            f"ledger url {redact_url(url)!r} is neither postgresql://user@host:5432/database "
            "(a team ledger) nor sqlite:///path/to/file; use `path:` for a plain file"
        )
    return value
