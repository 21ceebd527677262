"""``since=`` spans too long for any calendar: a ``ValueError`` with a hint (never an
``OverflowError``), in ``parse_moment``, the ``Ledger`` filters and ``%llm usage``."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

from orchestify_nb.session import set_session
from orchestify_nb.usage.ledger import Ledger
from orchestify_nb.usage.periods import parse_moment

HINT = "reaches back further than any calendar date; use a shorter span like '365d'"


@pytest.mark.parametrize(
    "since", ["99999999999d", "800000d", "3000000w", "9" * 400 + "h", timedelta(days=999_999_999)]
)
def test_a_span_past_the_calendar_is_a_value_error_with_a_hint(since: str | timedelta) -> None:
    with pytest.raises(ValueError, match=HINT) as raised:
        parse_moment(since)
    assert len(str(raised.value)) < 200  # a long value is quoted cut short


def test_ledger_filters_say_the_same() -> None:
    ledger = Ledger(":memory:")
    try:
        with pytest.raises(ValueError, match=HINT):
            ledger.totals(since="99999999999d")
    finally:
        ledger.close()


@pytest.fixture
def shell(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[InteractiveShell]:
    monkeypatch.setenv("ORCHESTIFY_CONFIG", str(tmp_path / "orchestify.yaml"))
    monkeypatch.setenv("ORCHESTIFY_LEDGER", str(tmp_path / "ledger.sqlite3"))
    (tmp_path / "orchestify.yaml").write_text(
        "providers:\n  gpt: {type: openai, api_key: sk-test, default_model: gpt-4.1-mini}\n",
        encoding="utf-8",
    )
    set_session(None)
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "orchestify_nb")
    yield shell
    shell.run_line_magic("unload_ext", "orchestify_nb")
    InteractiveShell.clear_instance()
    set_session(None)


def test_llm_usage_since_too_long_is_a_one_line_usage_error(shell: InteractiveShell) -> None:
    with pytest.raises(UsageError, match=HINT):
        shell.run_line_magic("llm", "usage since=99999999999d")
