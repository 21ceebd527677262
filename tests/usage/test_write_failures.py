"""A ledger write that fails never costs the user the answer, and never loses the row silently:
the record waits in memory, the failure is logged, and the next write (or flush) stores it."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestify_nb.errors import BudgetExceededError
from orchestify_nb.providers.claude import ClaudeProvider
from orchestify_nb.testing import LLMEmulator, Reply
from orchestify_nb.usage.budgets import Budget
from orchestify_nb.usage.ledger import Ledger
from orchestify_nb.usage.store import LedgerError
from tests.usage.conftest import make_record


class BrokenFile:
    """Makes every insert into a ledger file fail, as a full disk would, until ``repair()``."""

    def __init__(self, path: Path) -> None:
        self.connection = sqlite3.connect(path, isolation_level=None)
        self.connection.execute(
            "CREATE TRIGGER refuse_rows BEFORE INSERT ON calls "
            "BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END"
        )

    def repair(self) -> None:
        self.connection.execute("DROP TRIGGER refuse_rows")
        self.connection.close()


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    with Ledger(tmp_path / "ledger.sqlite3") as opened:
        yield opened


def test_failed_writes_wait_in_memory_and_are_written_in_order_later(ledger: Ledger) -> None:
    broken = BrokenFile(Path(ledger.path))
    first, second = make_record(tag="first"), make_record(tag="second")

    with pytest.raises(LedgerError, match=r"disk is full.*1 record\(s\) are kept in memory"):
        ledger.record(first)
    with pytest.raises(LedgerError, match="2 record\\(s\\) are kept in memory"):
        ledger.record(second)
    assert (len(ledger), ledger.pending_count) == (0, 2)

    broken.repair()
    ledger.flush()

    assert ledger.pending_count == 0
    assert [record.tag for record in ledger.records()] == ["first", "second"]


def test_budgets_count_records_still_waiting_to_be_written(ledger: Ledger) -> None:
    ledger.set_budgets([Budget(limit_usd=1.0)])
    broken = BrokenFile(Path(ledger.path))
    with pytest.raises(LedgerError):
        ledger.record(make_record(cost_usd=1.5))

    with pytest.raises(BudgetExceededError, match=r"\$1\.50 of \$1\.00"):
        ledger.check_budget("claude")
    broken.repair()


async def test_the_answer_arrives_even_when_the_ledger_cannot_write(
    llm_emulator: LLMEmulator, ledger: Ledger, caplog: pytest.LogCaptureFixture
) -> None:
    provider = ClaudeProvider(
        provider_id="claude",
        api_key="test",
        base_url=llm_emulator.base_url,
        default_model="claude-sonnet-4-6",
        usage_sink=ledger,
    )
    broken = BrokenFile(Path(ledger.path))
    llm_emulator.enqueue(Reply(text="Still here."), Reply(text="And again."))

    with caplog.at_level(logging.ERROR, logger="orchestify_nb.providers"):
        response = await provider.complete("Hello?")
    assert response.content == "Still here."
    assert "could not write the usage record" in caplog.text
    assert ledger.pending_count == 1

    broken.repair()
    second = await provider.complete("Hello again?")

    assert [record.id for record in ledger.records()] == [response.record_id, second.record_id]
    assert provider.get_usage().call_count == 2
    await provider.aclose()


def test_closing_writes_what_is_still_pending(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    ledger = Ledger(path)
    broken = BrokenFile(path)
    with pytest.raises(LedgerError):
        ledger.record(make_record(tag="late"))
    broken.repair()

    ledger.close()

    with Ledger(path) as reopened:
        assert [record.tag for record in reopened.records()] == ["late"]


def test_records_that_cannot_be_written_by_close_are_reported_lost(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ledger.sqlite3")
    BrokenFile(tmp_path / "ledger.sqlite3")
    with pytest.raises(LedgerError):
        ledger.record(make_record())

    with pytest.warns(RuntimeWarning, match="1 usage record\\(s\\) could not be written .* lost"):
        ledger.close()
