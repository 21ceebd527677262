"""What a hostile label, a damaged file or a foreign database must not do to the ledger: block the
queue of records, lose rows at flush or close, give wrong totals, or take over another
application's file; and a ledger that falls back to memory says so in the notebook."""

from __future__ import annotations

import hashlib
import logging
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import pytest

from orchestify_nb.providers.openai_provider import OpenAIProvider
from orchestify_nb.testing import LLMEmulator, Reply
from orchestify_nb.usage import LEDGER_ENV, call_context
from orchestify_nb.usage.budgets import Budget
from orchestify_nb.usage.ledger import Ledger
from orchestify_nb.usage.schema import BLOCK_ROWS
from orchestify_nb.usage.store import LedgerError
from tests.usage.conftest import NOON, make_record
from tests.usage.test_history_survives_restarts import Kernel
from tests.usage.test_sealed_blocks import run_sql, sealed_blocks, varied_records


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    with Ledger(tmp_path / "ledger.sqlite3") as opened:
        yield opened


# ------------------------------------------------------------------------------ hostile labels
async def test_a_lone_surrogate_in_the_tag_or_the_served_model_name_blocks_no_later_write(
    llm_emulator: LLMEmulator, ledger: Ledger
) -> None:
    provider = OpenAIProvider(
        provider_id="openai",
        api_key="test",
        base_url=llm_emulator.openai_base_url,
        default_model="gpt-4o",
        max_retries=0,
        usage_sink=ledger,
    )
    llm_emulator.enqueue(Reply(text="One.", model="gpt-4o-\ud800"), Reply(text="Two."))
    with call_context(tag="exp-\udcff"):
        first = await provider.complete("A server answering with a broken model name.")
    second = await provider.complete("A plain call after it.")
    await provider.aclose()
    ledger.flush()

    assert ledger.pending_count == 0
    records = ledger.records()
    assert [record.id for record in records] == [first.record_id, second.record_id]
    assert (records[0].model, records[0].tag) == ("gpt-4o-\ufffd", "exp-\ufffd")
    assert ledger.to_dataframe()["tag"].tolist()[0] == "exp-\ufffd"
    assert [record.id for record in ledger.records(tag="exp-\udcff")] == [first.record_id]


def test_control_characters_are_removed_and_long_labels_capped(ledger: Ledger) -> None:
    from orchestify_nb.usage.labels import MAX_LABEL_CHARS

    ledger.record(
        make_record(tag="line\nbreak\x00and\x1b[31mescape", agent="a" * 100_000, model="m\x7f")
    )

    [stored] = ledger.records()
    assert stored.tag == "linebreakand[31mescape"
    assert stored.model == "m"
    assert stored.agent is not None and len(stored.agent) == MAX_LABEL_CHARS
    assert stored.agent.endswith("…")


def test_a_record_that_can_never_be_stored_is_quarantined_and_the_others_are_written(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "ledger.sqlite3"
    ledger = Ledger(path, [Budget(10.0)])
    unstorable = make_record(tag="unstorable", output_tokens=2**70, cost_usd=4.0)
    malformed = make_record(tag="malformed", cost_usd=None)
    malformed.finished_at = None  # type: ignore[assignment]  # as a custom caller might send

    with caplog.at_level(logging.WARNING, logger="orchestify_nb.usage"):
        ledger.record(make_record(tag="before"))
        ledger.record(unstorable)
        ledger.record(malformed)
        ledger.record(make_record(tag="after"))
        ledger.flush()

    warnings = [r.getMessage() for r in caplog.records if "cannot be stored" in r.getMessage()]
    assert len(warnings) == 2 and not any("\n" in warning for warning in warnings)
    assert unstorable.id in warnings[0] and malformed.id in warnings[1]
    assert ledger.pending_count == 0
    assert ledger.quarantined == (unstorable, malformed)
    assert ledger.budget_status()[0].spent_usd == pytest.approx(4.0012)  # still counted
    ledger.record(make_record(tag="at close"))
    ledger.close()

    with Ledger(path) as reopened:
        assert [record.tag for record in reopened.records()] == ["before", "after", "at close"]


# ------------------------------------------------------------------------------ sealed blocks
@pytest.fixture(scope="module")
def sealed_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    """A ledger of one sealed block and three newer rows, and its frame as read intact."""
    path = tmp_path_factory.mktemp("sealed") / "ledger.sqlite3"
    with Ledger(path) as ledger:
        for record in varied_records(BLOCK_ROWS + 3):
            ledger.record(record)
        frame = ledger.to_dataframe()
    assert sealed_blocks(path) == [0]
    return path, frame


def zero_cost_blob(path: Path) -> None:
    """Every cost in the block becomes 0.0, the blob keeping its format byte and its length."""
    raw = sqlite3.connect(path, isolation_level=None)
    [(blob,)] = raw.execute("SELECT cost_usd FROM sealed_blocks").fetchall()
    edited = blob[:1] + bytes(len(blob) - 1)
    raw.execute("UPDATE sealed_blocks SET cost_usd = ?", (edited,))
    raw.close()


DAMAGE: dict[str, str | Callable[[Path], None]] = {
    "a truncated cost blob": "UPDATE sealed_blocks SET cost_usd = substr(cost_usd, 1, 1000)",
    "a cost blob zeroed to the same length": zero_cost_blob,
    "a time span moved out of every window": "UPDATE sealed_blocks SET max_started_at_ns = 0",
    "a row count of zero": "UPDATE sealed_blocks SET row_count = 0",
    "a blob replaced by text": "UPDATE sealed_blocks SET tag_label = 'garbage'",
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_a_damaged_sealed_block_is_read_from_its_rows_and_sealed_again(
    damage: str,
    sealed_file: tuple[Path, pd.DataFrame],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    original, intact = sealed_file
    path = tmp_path / "ledger.sqlite3"
    shutil.copy(original, path)
    edit = DAMAGE[damage]
    if isinstance(edit, str):
        run_sql(path, edit)
    else:
        edit(path)

    with caplog.at_level(logging.WARNING, logger="orchestify_nb.usage"), Ledger(path) as ledger:
        frame = ledger.to_dataframe()
        since_noon = ledger.summary(by=[], since=NOON)
        caplog.clear()
        again = ledger.to_dataframe()

    pd.testing.assert_frame_equal(frame, intact)
    pd.testing.assert_frame_equal(again, intact)
    assert "damaged" not in caplog.text  # rebuilt from the rows by the first read
    assert sealed_blocks(path) == [0]
    expected = intact[intact["started_at"] >= NOON]
    assert int(since_noon["calls"].iloc[0]) == len(expected)
    assert since_noon["cost_usd"].iloc[0] == pytest.approx(expected["cost_usd"].sum())


# ------------------------------------------------------------------------- someone else's file
def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize(
    "setup",
    [
        ("CREATE TABLE notes (text TEXT)", "INSERT INTO notes VALUES ('mine')"),
        (
            "PRAGMA application_id = 1234",
            "PRAGMA user_version = 1",
            "CREATE TABLE calls (id TEXT)",
            "CREATE TABLE labels (id INTEGER)",
        ),
    ],
    ids=["plain tables", "an application id and a ledger-like version"],
)
def test_another_applications_sqlite_file_is_refused_and_left_untouched(
    tmp_path: Path, setup: tuple[str, ...]
) -> None:
    path = tmp_path / "app.db"
    raw = sqlite3.connect(path, isolation_level=None)
    for statement in setup:
        raw.execute(statement)
    raw.close()
    before = digest(path)

    with pytest.raises(LedgerError) as refused:
        Ledger(path)

    message = str(refused.value)
    assert str(path) in message
    assert "another application" in message
    assert "ORCHESTIFY_LEDGER" in message and "file of its own" in message
    assert digest(path) == before


# -------------------------------------------------------------------------- fall back to memory
FALLBACK_CALL = """
from orchestify_nb.providers.openai_provider import OpenAIProvider
from orchestify_nb.runtime import run_sync
provider = OpenAIProvider(provider_id="openai", api_key="test", base_url={base_url!r},
                          default_model="gpt-4o", max_retries=0)
print(run_sync(provider.complete("Hello")).content)
"""


@pytest.mark.parametrize("unusable", ["/dev/full", "directory"])
def test_a_ledger_falling_back_to_memory_says_so_once_in_the_notebook(
    unusable: str,
    llm_emulator: LLMEmulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(LEDGER_ENV, unusable if unusable.startswith("/") else str(tmp_path))
    llm_emulator.enqueue(Reply(text="First answer."), Reply(text="Second answer."))
    kernel = Kernel()
    try:
        first = kernel.run(FALLBACK_CALL.format(base_url=llm_emulator.openai_base_url))
        second = kernel.run("print(run_sync(provider.complete('Again')).content)")
    finally:
        kernel.shutdown()

    assert "First answer." in first and "Second answer." in second
    assert first.count("usage is recorded in memory for this session only") == 1
    assert "ORCHESTIFY_LEDGER" in first
    assert "in memory" not in second
