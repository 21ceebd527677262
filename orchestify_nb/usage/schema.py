"""The ledger's SQLite schema and its migrations.

Labels (provider, model, tag, ...) repeat across millions of rows, so ``calls`` stores each one as
an integer code into ``labels``: rows stay small and a DataFrame gets its categorical columns from
the codes without hashing a million strings. People reading the file with SQL use the ``usage``
view, which joins the text back and shows timestamps as ISO text.

The version lives in ``PRAGMA user_version``. ``MIGRATIONS[i]`` takes a database from version
``i`` to ``i + 1``; released migrations are never edited, only appended to.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

#: UsageRecord fields stored as codes into ``labels`` (column ``<field>_label`` in ``calls``).
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
)

#: Token counts, stored as plain integer columns under these names.
TOKEN_FIELDS: tuple[str, ...] = (
    "input_tokens",
    "output_tokens",
    "cache_write_tokens",
    "cache_read_tokens",
    "reasoning_tokens",
)

_CREATE_LABELS = "CREATE TABLE labels (id INTEGER PRIMARY KEY, text TEXT NOT NULL UNIQUE)"

_CREATE_CALLS = """
CREATE TABLE calls (
    id TEXT NOT NULL UNIQUE,
    started_at_ns INTEGER NOT NULL,
    finished_at_ns INTEGER NOT NULL,
    input_tokens INTEGER NOT NULL DEFAULT 0,
    output_tokens INTEGER NOT NULL DEFAULT 0,
    cache_write_tokens INTEGER NOT NULL DEFAULT 0,
    cache_read_tokens INTEGER NOT NULL DEFAULT 0,
    reasoning_tokens INTEGER NOT NULL DEFAULT 0,
    cost_usd REAL,
    priced INTEGER NOT NULL DEFAULT 0,
    latency_us INTEGER,
    time_to_first_token_us INTEGER,
    cell_execution_count INTEGER,
    session_id_label INTEGER NOT NULL REFERENCES labels (id),
    provider_id_label INTEGER NOT NULL REFERENCES labels (id),
    provider_type_label INTEGER NOT NULL REFERENCES labels (id),
    model_requested_label INTEGER NOT NULL REFERENCES labels (id),
    model_label INTEGER NOT NULL REFERENCES labels (id),
    status_label INTEGER NOT NULL REFERENCES labels (id),
    price_source_label INTEGER REFERENCES labels (id),
    finish_reason_label INTEGER REFERENCES labels (id),
    error_type_label INTEGER REFERENCES labels (id),
    agent_label INTEGER REFERENCES labels (id),
    tag_label INTEGER REFERENCES labels (id),
    notebook_path_label INTEGER REFERENCES labels (id)
)
"""

_CREATE_USAGE_VIEW = """
CREATE VIEW usage AS
SELECT
    c.id AS id,
    session_id.text AS session_id,
    strftime('%Y-%m-%dT%H:%M:%fZ', c.started_at_ns / 1e9, 'unixepoch') AS started_at,
    strftime('%Y-%m-%dT%H:%M:%fZ', c.finished_at_ns / 1e9, 'unixepoch') AS finished_at,
    c.started_at_ns AS started_at_ns,
    c.finished_at_ns AS finished_at_ns,
    provider_id.text AS provider_id,
    provider_type.text AS provider_type,
    model_requested.text AS model_requested,
    model.text AS model,
    status.text AS status,
    c.input_tokens AS input_tokens,
    c.output_tokens AS output_tokens,
    c.cache_write_tokens AS cache_write_tokens,
    c.cache_read_tokens AS cache_read_tokens,
    c.reasoning_tokens AS reasoning_tokens,
    c.cost_usd AS cost_usd,
    c.priced AS priced,
    price_source.text AS price_source,
    c.latency_us / 1e6 AS latency_s,
    c.time_to_first_token_us / 1e6 AS time_to_first_token_s,
    finish_reason.text AS finish_reason,
    error_type.text AS error_type,
    agent.text AS agent,
    tag.text AS tag,
    notebook_path.text AS notebook_path,
    c.cell_execution_count AS cell_execution_count
FROM calls AS c
JOIN labels AS session_id ON session_id.id = c.session_id_label
JOIN labels AS provider_id ON provider_id.id = c.provider_id_label
JOIN labels AS provider_type ON provider_type.id = c.provider_type_label
JOIN labels AS model_requested ON model_requested.id = c.model_requested_label
JOIN labels AS model ON model.id = c.model_label
JOIN labels AS status ON status.id = c.status_label
LEFT JOIN labels AS price_source ON price_source.id = c.price_source_label
LEFT JOIN labels AS finish_reason ON finish_reason.id = c.finish_reason_label
LEFT JOIN labels AS error_type ON error_type.id = c.error_type_label
LEFT JOIN labels AS agent ON agent.id = c.agent_label
LEFT JOIN labels AS tag ON tag.id = c.tag_label
LEFT JOIN labels AS notebook_path ON notebook_path.id = c.notebook_path_label
"""

#: ``MIGRATIONS[i]`` upgrades version ``i`` to ``i + 1``: a tuple of SQL statements.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        _CREATE_LABELS,
        _CREATE_CALLS,
        "CREATE INDEX calls_by_time ON calls (started_at_ns)",
        _CREATE_USAGE_VIEW,
    ),
)

SCHEMA_VERSION = len(MIGRATIONS)


class SchemaTooNewError(RuntimeError):
    """The file was written by a newer orchestify_nb whose schema this version cannot read."""


def schema_version(connection: sqlite3.Connection) -> int:
    return int(connection.execute("PRAGMA user_version").fetchone()[0])


def migrate(
    connection: sqlite3.Connection,
    target: int | None = None,
    migrations: Sequence[Sequence[str]] = MIGRATIONS,
) -> int:
    """Bring the database up to ``target`` (default: the last of ``migrations``); returns the
    version it had before.

    The check and the upgrade run in one ``BEGIN IMMEDIATE`` transaction, so two kernels opening
    a new file at once do not both create the tables. ``connection`` must be in autocommit mode.
    """
    newest = len(migrations)
    target = newest if target is None else target
    found = schema_version(connection)
    if found > newest:
        raise SchemaTooNewError(
            f"the ledger file has schema version {found}, newer than the {newest} this "
            "version of orchestify_nb reads"
        )
    if found >= target:
        return found
    connection.execute("BEGIN IMMEDIATE")
    try:
        found = schema_version(connection)
        for version in range(found, target):
            for statement in migrations[version]:
                connection.execute(statement)
        connection.execute(f"PRAGMA user_version = {max(found, target)}")
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    return found
