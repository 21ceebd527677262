"""The ledger's SQLite schema and its migrations.

Labels (provider, model, tag, ...) repeat across millions of rows, so ``calls`` stores each one as
an integer code into ``labels``: rows stay small and a DataFrame gets its categorical columns from
the codes without hashing a million strings. People reading the file with SQL use the ``usage``
view, which joins the text back and shows timestamps as ISO text.

Reading a million rows back through SQL costs a second or more, because every value passes
through text or a Python object. So every complete block of ``BLOCK_ROWS`` consecutive rows is
also kept *sealed*: one row of ``sealed_blocks`` holding each column of those calls as a packed
array (see ``blocks.py``), which numpy reads at memory speed. Triggers on ``calls`` drop the
sealed copy of any block whose rows are inserted, updated or deleted, so the copy can never
disagree with the rows; readers use the rows themselves for blocks that are not sealed. Rows are
numbered by ``seq INTEGER PRIMARY KEY`` (not a bare rowid, which ``VACUUM`` may renumber).

The version lives in ``PRAGMA user_version``. ``MIGRATIONS[i]`` takes a database from version
``i`` to ``i + 1``; released migrations are never edited, only appended to. A migration that adds
a column to ``calls`` appends it to ``CALL_COLUMNS``, adds a BLOB column of the same name to
``sealed_blocks`` and empties ``sealed_blocks`` (the next reader seals every block again).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from orchestify_nb.usage.storage import (
    LABEL_FIELDS,
    STORED_COLUMNS,
    TOKEN_FIELDS,
    V1_LABEL_FIELDS,
)

#: The columns of ``calls`` as version 1 created them (``seq`` aside), in table order.
_V1_CALL_COLUMNS: tuple[str, ...] = (
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
)

#: Label fields version 5 added (who spent it, how the answer was obtained, which run).
_V5_LABEL_FIELDS = LABEL_FIELDS[len(V1_LABEL_FIELDS) :]

#: Every column of ``calls`` today but ``seq``, in table order: what a row stores and a sealed
#: block copies.
CALL_COLUMNS: tuple[str, ...] = (
    *_V1_CALL_COLUMNS,
    "usage_estimated",  # version 4
    "step",  # version 5, and the following
    "saved_usd",
    "prompt_cache_saved_usd",
    *(f"{field}_label" for field in _V5_LABEL_FIELDS),
)
assert CALL_COLUMNS == STORED_COLUMNS, "the storage interface names every stored column"

#: ``PRAGMA application_id`` of a ledger file ("OrLd"), so that no other application's database
#: is taken for one (files written before version 3 are recognised by their tables).
APPLICATION_ID = 0x4F724C64

#: Rows per sealed block: block ``b`` holds the rows with ``seq`` in ``(b * BLOCK_ROWS,
#: (b + 1) * BLOCK_ROWS]``. Part of the file format (migration 2's triggers use it): never change.
BLOCK_ROWS = 4096

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

_V4_USAGE_VIEW = _CREATE_USAGE_VIEW.replace(
    "    c.priced AS priced,\n",
    "    c.priced AS priced,\n    c.usage_estimated AS usage_estimated,\n",
)
_V5_USAGE_VIEW = _V4_USAGE_VIEW.replace(
    "    c.cell_execution_count AS cell_execution_count\n",
    "    c.cell_execution_count AS cell_execution_count,\n"
    "    c.step AS step,\n"
    "    c.saved_usd AS saved_usd,\n"
    "    c.prompt_cache_saved_usd AS prompt_cache_saved_usd,\n"
    + ",\n".join(f"    {field}.text AS {field}" for field in _V5_LABEL_FIELDS)
    + "\n",
).replace(
    "LEFT JOIN labels AS notebook_path ON notebook_path.id = c.notebook_path_label\n",
    "LEFT JOIN labels AS notebook_path ON notebook_path.id = c.notebook_path_label\n"
    + "".join(
        f"LEFT JOIN labels AS {field} ON {field}.id = c.{field}_label\n"
        for field in _V5_LABEL_FIELDS
    ),
)

# Version 2 numbers the rows (``seq``, kept from the rowid) and adds the sealed blocks. SQLite
# cannot add a primary key to a table, so ``calls`` is rebuilt; the view is dropped first because
# renaming a table checks every view.
_CREATE_NUMBERED_CALLS = _CREATE_CALLS.replace(
    "CREATE TABLE calls (", "CREATE TABLE numbered_calls (\n    seq INTEGER PRIMARY KEY,", 1
)

_V2_BLOCK_BLOBS = ",\n    ".join(f"{column} BLOB" for column in _V1_CALL_COLUMNS)
_CREATE_SEALED_BLOCKS = f"""
CREATE TABLE sealed_blocks (
    block INTEGER PRIMARY KEY,
    row_count INTEGER NOT NULL,
    min_started_at_ns INTEGER,
    max_started_at_ns INTEGER,
    {_V2_BLOCK_BLOBS}
)
"""


def _unseal_trigger(event: str, rows: str) -> str:
    """A trigger dropping the sealed copy of the block(s) of the rows an ``event`` touches."""
    deletes = " ".join(
        f"DELETE FROM sealed_blocks WHERE block = ({row}.seq - 1) / {BLOCK_ROWS};"
        for row in rows.split()
    )
    return (
        f"CREATE TRIGGER calls_{event.lower()}_unseals AFTER {event} ON calls BEGIN {deletes} END"
    )


#: ``MIGRATIONS[i]`` upgrades version ``i`` to ``i + 1``: a tuple of SQL statements.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        _CREATE_LABELS,
        _CREATE_CALLS,
        "CREATE INDEX calls_by_time ON calls (started_at_ns)",
        _CREATE_USAGE_VIEW,
    ),
    (
        _CREATE_NUMBERED_CALLS,
        "INSERT INTO numbered_calls SELECT rowid, * FROM calls",
        "DROP VIEW usage",
        "DROP TABLE calls",
        "ALTER TABLE numbered_calls RENAME TO calls",
        "CREATE INDEX calls_by_time ON calls (started_at_ns)",
        _CREATE_USAGE_VIEW,
        _CREATE_SEALED_BLOCKS,
        _unseal_trigger("INSERT", "new"),
        _unseal_trigger("UPDATE", "old new"),
        _unseal_trigger("DELETE", "old"),
    ),
    (
        # Blobs carry a CRC from version 3 on (``blocks.py``): older seals are made again.
        "DELETE FROM sealed_blocks",
        f"PRAGMA application_id = {APPLICATION_ID}",
    ),
    (
        # Version 4: whether a call's tokens were estimated because the server reported none.
        "ALTER TABLE calls ADD COLUMN usage_estimated INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE sealed_blocks ADD COLUMN usage_estimated BLOB",
        "DELETE FROM sealed_blocks",
        "DROP VIEW usage",
        _V4_USAGE_VIEW,
    ),
    (
        # Version 5: runs and their steps, answers from a batch job or the cache, what the
        # caches saved, and who spent it for which project. Older rows were realtime calls.
        "ALTER TABLE calls ADD COLUMN step INTEGER",
        "ALTER TABLE calls ADD COLUMN saved_usd REAL",
        "ALTER TABLE calls ADD COLUMN prompt_cache_saved_usd REAL",
        *(
            f"ALTER TABLE calls ADD COLUMN {field}_label INTEGER REFERENCES labels (id)"
            for field in _V5_LABEL_FIELDS
        ),
        "INSERT OR IGNORE INTO labels (text) VALUES ('realtime')",
        "UPDATE calls SET mode_label = (SELECT id FROM labels WHERE text = 'realtime')",
        *(
            f"ALTER TABLE sealed_blocks ADD COLUMN {column} BLOB"
            for column in ("step", "saved_usd", "prompt_cache_saved_usd")
        ),
        *(f"ALTER TABLE sealed_blocks ADD COLUMN {field}_label BLOB" for field in _V5_LABEL_FIELDS),
        "DELETE FROM sealed_blocks",
        "DROP VIEW usage",
        _V5_USAGE_VIEW,
    ),
)

SCHEMA_VERSION = len(MIGRATIONS)


class SchemaTooNewError(RuntimeError):
    """The file was written by a newer orchestify_nb whose schema this version cannot read."""


class ForeignDatabaseError(RuntimeError):
    """The file is another application's SQLite database: it is left as it is."""


def refuse_foreign(connection: sqlite3.Connection) -> None:
    """Raise ``ForeignDatabaseError`` unless the file is a ledger or holds no table at all.

    Migrating would add our tables to someone else's database (and a ledger with
    ``user_version`` 1 or 2 of another application's making would be "upgraded").
    """
    application_id = int(connection.execute("PRAGMA application_id").fetchone()[0])
    if application_id == APPLICATION_ID:
        return
    tables = {
        str(row[0])
        for row in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    }
    if application_id == 0 and (not tables or {"calls", "labels"} <= tables):
        return
    what = f"application id {application_id:#x}" if application_id else "no application id"
    shown = ", ".join(sorted(tables)[:5]) + (", ..." if len(tables) > 5 else "")
    raise ForeignDatabaseError(
        f"it is an SQLite database of another application ({what}; tables: {shown or 'none'}), "
        "not an orchestify_nb ledger, so it was left untouched"
    )


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
    refuse_foreign(connection)
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
