"""Answers already bought, kept beside the ledger so that a re-run notebook pays once.

The cache is a table of the ledger's own SQLite file (``answer_cache``): one file to back up,
move or delete, and the ledger's migrations make sure the file is a ledger before the table is
added. The table has its own ``format`` column rather than a ledger schema version, so the
ledger's migrations and the cache's payload evolve independently. Payloads are JSON text (the
provider layer decides what an answer holds); this module only stores, finds and moves them.

``export`` writes the answers a session used (not the whole cache) to a small JSON file that
ships with a notebook; ``import_file`` loads one into any ledger, so CI and Binder replay the
recorded answers of the real models with no key.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from orchestify_nb.errors import OrchestifyError
from orchestify_nb.usage.schema import migrate, refuse_foreign

__all__ = ["AnswerCacheError", "AnswerStore", "CacheStats", "StoredAnswer", "answer_store_for"]

#: What an exported file says it is, and the payload format this version writes and reads.
EXPORT_KIND = "orchestify_nb answers"
PAYLOAD_FORMAT = 1
MEMORY = ":memory:"

_CREATE = """
CREATE TABLE IF NOT EXISTS answer_cache (
    key TEXT PRIMARY KEY,
    format INTEGER NOT NULL,
    created_at_ns INTEGER NOT NULL,
    last_used_at_ns INTEGER NOT NULL,
    provider_type TEXT NOT NULL,
    model TEXT NOT NULL,
    cost_usd REAL,
    hits INTEGER NOT NULL DEFAULT 0,
    saved_usd REAL NOT NULL DEFAULT 0,
    payload TEXT NOT NULL
)
"""


class AnswerCacheError(OrchestifyError):
    """The answer cache could not be read or written (a bad export file, a locked ledger)."""


@dataclass(frozen=True, slots=True)
class StoredAnswer:
    """One cached answer: its payload (JSON-decoded), when it was bought and what it cost."""

    key: str
    payload: dict[str, object]
    created_at_ns: int
    cost_usd: float | None


@dataclass(slots=True)
class CacheStats:
    """What ``%llm cache`` shows: this session's hits and misses, and the whole cache's size."""

    entries: int = 0
    size_bytes: int = 0
    hits_session: int = 0
    misses_session: int = 0
    saved_session_usd: float = 0.0
    hits_total: int = 0
    saved_total_usd: float = 0.0


@dataclass(slots=True)
class _SessionCounts:
    hits: int = 0
    misses: int = 0
    saved_usd: float = 0.0
    used_keys: set[str] = field(default_factory=set)


class AnswerStore:
    """The ``answer_cache`` table of one ledger file; safe to share between threads."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._session = _SessionCounts()
        try:
            self._connection = _open(path)
        except (sqlite3.Error, OrchestifyError) as error:
            raise AnswerCacheError(
                f"the answer cache in {path} cannot be opened ({error}); set cache=off for this "
                "call, or point ORCHESTIFY_LEDGER at a writable file"
            ) from None

    def get(self, key: str) -> StoredAnswer | None:
        """The answer stored under ``key``; counts a hit or a miss for this session."""
        with self._lock:
            row = self._connection.execute(
                "SELECT payload, created_at_ns, cost_usd FROM answer_cache "
                "WHERE key = ? AND format = ?",
                (key, PAYLOAD_FORMAT),
            ).fetchone()
            if row is None:
                self._session.misses += 1
                return None
            saved = float(row[2] or 0.0)
            self._connection.execute(
                "UPDATE answer_cache SET hits = hits + 1, saved_usd = saved_usd + ?, "
                "last_used_at_ns = ? WHERE key = ?",
                (saved, time.time_ns(), key),
            )
            self._session.hits += 1
            self._session.saved_usd += saved
            self._session.used_keys.add(key)
        return StoredAnswer(key, json.loads(row[0]), int(row[1]), row[2])

    def put(
        self,
        key: str,
        payload: dict[str, object],
        *,
        provider_type: str,
        model: str,
        cost_usd: float | None,
    ) -> None:
        """Store (or replace) the answer bought for ``key``."""
        now = time.time_ns()
        text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
        with self._lock:
            self._connection.execute(
                "INSERT OR REPLACE INTO answer_cache (key, format, created_at_ns, "
                "last_used_at_ns, provider_type, model, cost_usd, payload) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (key, PAYLOAD_FORMAT, now, now, provider_type, model, cost_usd, text),
            )
            self._session.used_keys.add(key)

    def stats(self) -> CacheStats:
        with self._lock:
            entries, size, hits, saved = self._connection.execute(
                "SELECT count(*), coalesce(sum(length(payload)), 0), coalesce(sum(hits), 0), "
                "coalesce(sum(saved_usd), 0) FROM answer_cache"
            ).fetchone()
            return CacheStats(
                entries=int(entries),
                size_bytes=int(size),
                hits_session=self._session.hits,
                misses_session=self._session.misses,
                saved_session_usd=self._session.saved_usd,
                hits_total=int(hits),
                saved_total_usd=float(saved),
            )

    def clear(self, older_than_s: float | None = None) -> int:
        """Delete every answer, or those not used for ``older_than_s`` seconds; the count."""
        with self._lock:
            if older_than_s is None:
                cursor = self._connection.execute("DELETE FROM answer_cache")
            else:
                cutoff = time.time_ns() - int(older_than_s * 1e9)
                cursor = self._connection.execute(
                    "DELETE FROM answer_cache WHERE last_used_at_ns < ?", (cutoff,)
                )
            self._session.used_keys.clear()
            return int(cursor.rowcount)

    @property
    def used_keys(self) -> frozenset[str]:
        """The answers this session stored or replayed: what ``export`` writes."""
        with self._lock:
            return frozenset(self._session.used_keys)

    def export(self, path: str | os.PathLike[str], keys: Iterable[str] | None = None) -> int:
        """Write the answers under ``keys`` (default: those this session used) to ``path``."""
        wanted = sorted(self.used_keys if keys is None else set(keys))
        with self._lock:
            rows = [
                self._connection.execute(
                    "SELECT key, created_at_ns, provider_type, model, cost_usd, payload "
                    "FROM answer_cache WHERE key = ? AND format = ?",
                    (key, PAYLOAD_FORMAT),
                ).fetchone()
                for key in wanted
            ]
        answers = [
            {
                "key": row[0],
                "created_at_ns": row[1],
                "provider_type": row[2],
                "model": row[3],
                "cost_usd": row[4],
                "payload": json.loads(row[5]),
            }
            for row in rows
            if row is not None
        ]
        document = {"kind": EXPORT_KIND, "format": PAYLOAD_FORMAT, "answers": answers}
        target = Path(path).expanduser()
        target.write_text(json.dumps(document, ensure_ascii=False, indent=1) + "\n", "utf-8")
        return len(answers)

    def import_file(self, path: str | os.PathLike[str]) -> int:
        """Load an exported file's answers (replacing equal keys); the count imported."""
        source = Path(path).expanduser()
        try:
            document = json.loads(source.read_text("utf-8"))
        except (OSError, ValueError) as error:
            raise AnswerCacheError(
                f"cannot read cached answers from {source}: {error}; give the path of a file "
                "written by %llm cache export"
            ) from None
        if not isinstance(document, dict) or document.get("kind") != EXPORT_KIND:
            raise AnswerCacheError(
                f"{source} is not a file of cached answers; give the path of a file written "
                "by %llm cache export"
            )
        if document.get("format") != PAYLOAD_FORMAT:
            raise AnswerCacheError(
                f"{source} holds answers in format {document.get('format')!r}, and this "
                f"version of orchestify_nb reads format {PAYLOAD_FORMAT}; export them again "
                "with this version"
            )
        answers = document.get("answers") or []
        with self._lock:
            for answer in answers:
                self._connection.execute(
                    "INSERT OR REPLACE INTO answer_cache (key, format, created_at_ns, "
                    "last_used_at_ns, provider_type, model, cost_usd, payload) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        str(answer["key"]),
                        PAYLOAD_FORMAT,
                        int(answer["created_at_ns"]),
                        time.time_ns(),
                        str(answer["provider_type"]),
                        str(answer["model"]),
                        answer.get("cost_usd"),
                        json.dumps(answer["payload"], ensure_ascii=False),
                    ),
                )
        return len(answers)

    def close(self) -> None:
        with self._lock:
            self._connection.close()


def _open(path: str) -> sqlite3.Connection:
    """The ledger file, made a ledger first (so the ledger never finds a foreign table in a
    file the cache created), with the cache's table added."""
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=5)
    try:
        connection.execute("PRAGMA busy_timeout = 5000")
        refuse_foreign(connection)
        migrate(connection)
        connection.execute(_CREATE)
    except BaseException:
        connection.close()
        raise
    return connection


_stores: dict[str, AnswerStore] = {}
_memory_stores: weakref.WeakKeyDictionary[object, AnswerStore] = weakref.WeakKeyDictionary()
_stores_lock = threading.Lock()


def answer_store_for(path: str, owner: object) -> AnswerStore:
    """The one store of the ledger file at ``path`` in this process; an in-memory ledger
    (``owner``) gets an in-memory cache that lives as long as it does. A ledger that is not an
    SQLite file (a team ledger's URL) keeps its answers in ``answers.sqlite3`` in the user data
    directory: cached answers are the user's, not the team's."""
    with _stores_lock:
        if path == MEMORY:
            store = _memory_stores.get(owner)
            if store is None:
                store = _memory_stores[owner] = AnswerStore(MEMORY)
            return store
        key = str(Path(_local_file(path)).resolve())
        store = _stores.get(key)
        if store is None:
            store = _stores[key] = AnswerStore(key)
        return store


def _local_file(path: str) -> str:
    if path.startswith("sqlite:///"):
        return path.removeprefix("sqlite:///")
    if "://" not in path:
        return path
    import platformdirs

    folder = platformdirs.user_data_path("orchestify_nb")
    folder.mkdir(parents=True, exist_ok=True)
    return os.fspath(folder / "answers.sqlite3")
