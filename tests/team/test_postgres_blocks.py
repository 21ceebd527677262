"""Sealed blocks of the team ledger: the packed copy gives the rows' own values, and a changed
row drops its block's copy (so a frame never shows stale numbers)."""

from __future__ import annotations

import pandas as pd
import psycopg

from orchestify_nb.testing.postgres import PostgresServer
from orchestify_nb.usage.ledger import Ledger
from orchestify_nb.usage.postgres_schema import BLOCK_SEQS
from tests.usage.conftest import NOON, make_record

ROWS = BLOCK_SEQS + 1000  # a complete block and some newer rows

_COPY_ROWS = f"""
INSERT INTO orchestify.calls (id, started_at_ns, finished_at_ns, input_tokens, output_tokens,
    cache_write_tokens, cache_read_tokens, reasoning_tokens, cost_usd, priced, latency_us,
    usage_estimated, session_id_label, provider_id_label, provider_type_label,
    model_requested_label, model_label, status_label, tag_label, user_label)
SELECT md5(n::text), c.started_at_ns + (n % 977) * 1000000000, c.finished_at_ns, n % 4000,
    n % 1500, 0, n % 7, 0, CASE WHEN n % 20 = 0 THEN NULL ELSE n / 1e6 END, 1,
    CASE WHEN n % 9 = 0 THEN NULL ELSE n END, 0, c.session_id_label, c.provider_id_label,
    c.provider_type_label, c.model_requested_label, c.model_label, c.status_label,
    CASE WHEN n % 3 = 0 THEN NULL ELSE c.tag_label END, c.user_label
FROM generate_series(1::bigint, {ROWS}) AS n, (SELECT * FROM orchestify.calls LIMIT 1) AS c
"""


def test_sealed_blocks_frame_equals_the_rows_and_an_update_drops_the_stale_copy(
    postgres: PostgresServer,
) -> None:
    with Ledger(postgres.url) as ledger:
        ledger.record(make_record(started_at=NOON, tag="seed"))
        ledger.flush()
        with psycopg.connect(postgres.admin_url, autocommit=True) as connection:
            connection.execute(_COPY_ROWS)
        by_rows = ledger.to_dataframe(provider="claude")  # a label filter: read in SQL

        from_blocks = ledger.to_dataframe()  # seals the complete blocks, then reads them
        with psycopg.connect(postgres.admin_url, autocommit=True) as connection:
            [[sealed]] = connection.execute("SELECT count(*) FROM orchestify.blocks").fetchall()
            connection.execute("UPDATE orchestify.calls SET cost_usd = 123.0 WHERE seq = 10")
            [[left]] = connection.execute("SELECT count(*) FROM orchestify.blocks").fetchall()
        after_update = ledger.to_dataframe(columns=["id", "cost_usd"])
        window = {"since": NOON + pd.Timedelta(minutes=3), "until": NOON + pd.Timedelta(minutes=9)}
        windowed = ledger.to_dataframe(**window)  # blocks pruned and filtered in numpy
        windowed_rows = ledger.to_dataframe(provider="claude", **window)

    assert len(from_blocks) == ROWS + 1 and sealed == 1
    assert from_blocks.equals(by_rows)  # same values, dtypes and order (and fast)
    assert left == 0  # the edited row's block lost its copy
    assert (after_update["cost_usd"] == 123.0).sum() == 1
    assert 0 < len(windowed) < ROWS
    assert windowed.equals(windowed_rows)
