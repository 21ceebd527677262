"""The team ledger's PostgreSQL schema (``orchestify``) and its migrations.

The same columns as the SQLite ledger's ``calls`` (``storage.STORED_COLUMNS``), labels as
integer codes into ``labels`` (so frames get categoricals from codes, as with SQLite), plus
``stored_at``, when the database committed the row. ``seq`` numbers rows in commit order:
every writer takes one advisory lock for its insert transaction, so a reader that has seen
``seq <= n`` never later finds a committed row below ``n`` (budgets rely on that).

``meta.version`` is the schema version; ``MIGRATIONS[i]`` takes version ``i`` to ``i + 1`` and
is never edited once released, only appended to. Migrations run under an advisory lock, so
kernels opening a new database at the same moment do not race.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from orchestify_nb.usage.storage import FLOAT_COLUMNS, STORED_COLUMNS

if TYPE_CHECKING:
    import psycopg

SCHEMA = "orchestify"
#: Advisory lock keys: one for migrations, one that orders inserts (see the module docstring).
MIGRATION_LOCK = 0x4F724C01
INSERT_LOCK = 0x4F724C02

_NOT_NULL = {
    "started_at_ns",
    "finished_at_ns",
    "input_tokens",
    "output_tokens",
    "cache_write_tokens",
    "cache_read_tokens",
    "reasoning_tokens",
    "priced",
    "usage_estimated",
    "session_id_label",
    "provider_id_label",
    "provider_type_label",
    "model_requested_label",
    "model_label",
    "status_label",
}


def _column(name: str) -> str:
    kind = "text" if name == "id" else "double precision" if name in FLOAT_COLUMNS else "bigint"
    null = " NOT NULL" if name in _NOT_NULL or name == "id" else ""
    unique = " UNIQUE" if name == "id" else ""
    return f"{name} {kind}{null}{unique}"


_V1 = [
    f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}",
    f"CREATE TABLE {SCHEMA}.meta (version integer NOT NULL)",
    f"INSERT INTO {SCHEMA}.meta VALUES (0)",
    f"CREATE TABLE {SCHEMA}.labels (id serial PRIMARY KEY, text text NOT NULL UNIQUE)",
    f"CREATE TABLE {SCHEMA}.calls (seq bigserial PRIMARY KEY, "
    + ", ".join(_column(name) for name in STORED_COLUMNS)
    + ", stored_at timestamptz NOT NULL DEFAULT clock_timestamp())",
    f"CREATE INDEX calls_started ON {SCHEMA}.calls (started_at_ns)",
    f"""CREATE VIEW {SCHEMA}.usage AS SELECT c.seq, c.id,
        to_timestamp(c.started_at_ns / 1e9) AS started_at,
        to_timestamp(c.finished_at_ns / 1e9) AS finished_at,
        u.text AS "user", p.text AS project, pr.text AS provider_id, m.text AS model,
        s.text AS status, t.text AS tag, c.input_tokens, c.output_tokens, c.cost_usd,
        c.stored_at
    FROM {SCHEMA}.calls c
    LEFT JOIN {SCHEMA}.labels u ON u.id = c.user_label
    LEFT JOIN {SCHEMA}.labels p ON p.id = c.project_label
    JOIN {SCHEMA}.labels pr ON pr.id = c.provider_id_label
    JOIN {SCHEMA}.labels m ON m.id = c.model_label
    JOIN {SCHEMA}.labels s ON s.id = c.status_label
    LEFT JOIN {SCHEMA}.labels t ON t.id = c.tag_label""",
]

#: ``seq`` numbers per block: block ``b`` holds the rows with ``seq`` in ``(b * BLOCK_SEQS,
#: (b + 1) * BLOCK_SEQS]``. Part of the schema (its triggers use it): never change.
BLOCK_SEQS = 65536

#: Version 2: sealed blocks (``postgres_blocks``).
_V2 = [
    f"""CREATE TABLE {SCHEMA}.blocks (block bigint PRIMARY KEY, rows integer NOT NULL,
        min_started_ns bigint, max_started_ns bigint)""",
    f"""CREATE TABLE {SCHEMA}.block_columns (
        block bigint NOT NULL REFERENCES {SCHEMA}.blocks ON DELETE CASCADE,
        name text NOT NULL, data bytea NOT NULL, PRIMARY KEY (block, name))""",
    f"""CREATE FUNCTION {SCHEMA}.drop_block() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP <> 'INSERT' THEN
            DELETE FROM {SCHEMA}.blocks WHERE block = (OLD.seq - 1) / {BLOCK_SEQS};
        END IF;
        IF TG_OP <> 'DELETE' THEN
            DELETE FROM {SCHEMA}.blocks WHERE block = (NEW.seq - 1) / {BLOCK_SEQS};
        END IF;
        RETURN NULL;
    END $$""",
    f"""CREATE TRIGGER calls_change_drops_block AFTER INSERT OR UPDATE OR DELETE
        ON {SCHEMA}.calls FOR EACH ROW EXECUTE FUNCTION {SCHEMA}.drop_block()""",
]

#: ``MIGRATIONS[i]`` takes the schema from version ``i`` to ``i + 1``.
MIGRATIONS: list[list[str]] = [_V1, _V2]
SCHEMA_VERSION = len(MIGRATIONS)


class SchemaTooNewError(Exception):
    """The database was written by a newer orchestify_nb."""


def current_version(connection: psycopg.Connection[tuple[Any, ...]]) -> int:
    found = connection.execute(f"SELECT to_regclass('{SCHEMA}.meta')").fetchone()
    if found is None or found[0] is None:
        return 0
    row = connection.execute(f"SELECT version FROM {SCHEMA}.meta").fetchone()
    return int(row[0]) if row else 0


def migrate(connection: psycopg.Connection[tuple[Any, ...]]) -> int:
    """Bring the schema to ``SCHEMA_VERSION`` (one transaction); returns the version."""
    with connection.transaction():
        connection.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
        version = current_version(connection)
        if version > SCHEMA_VERSION:
            raise SchemaTooNewError(
                f"the team ledger has schema version {version}, newer than this orchestify_nb "
                f"understands ({SCHEMA_VERSION}); upgrade orchestify_nb"
            )
        for step in MIGRATIONS[version:]:
            for statement in step:
                connection.execute(statement)
        connection.execute(f"UPDATE {SCHEMA}.meta SET version = %s", (SCHEMA_VERSION,))
    return SCHEMA_VERSION
