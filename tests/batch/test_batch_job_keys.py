"""A batch job's key: taken from the provider it was submitted through (a key in the config
works, also in a later kernel), never saved with the job, and a missing or wrong key is one
clear error that never shows the key."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

import orchestify_nb.batch as batch
from orchestify_nb.batch.jobs import submit
from orchestify_nb.errors import AuthenticationError
from orchestify_nb.session import build_session, set_session
from orchestify_nb.testing import LLMEmulator

KEY = "sk-ant-batch-SECRET-4242"


@pytest.fixture
def keyed_emulator() -> Iterator[LLMEmulator]:
    """An emulator that answers only requests presenting ``KEY`` (batch routes too)."""
    with LLMEmulator(api_key=KEY) as emulator:
        yield emulator


@pytest.fixture
def session_with_key_in_config(
    keyed_emulator: LLMEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """A session whose provider ``claude`` has its key in the config file only."""
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    config = tmp_path / "orchestify.yaml"
    config.write_text(
        "providers:\n  claude:\n    type: anthropic\n"
        f"    api_key: {KEY}\n    base_url: {keyed_emulator.base_url}\n"
        "    default_model: claude-haiku-4-5\ndefault_provider: claude\n",
        encoding="utf-8",
    )
    set_session(build_session(config))
    yield tmp_path / "ledger.sqlite3"
    set_session(None)


def test_a_key_from_the_config_submits_and_collects_in_a_later_session(
    keyed_emulator: LLMEmulator, session_with_key_in_config: Path, tmp_path: Path
) -> None:
    ledger = str(session_with_key_in_config)
    frame = pd.DataFrame({"q": ["one", "two", "one"]})

    submitted = frame.llm.complete("{q}", mode="batch", ledger=ledger)
    job_id = str(submitted["answer_batch_job"].iloc[0])
    keyed_emulator.batches.finish()
    set_session(build_session(tmp_path / "orchestify.yaml"))  # as after a kernel restart
    collected = submitted.llm.collect(batch.job(job_id, ledger=ledger))

    assert list(collected["answer_status"]) == ["succeeded"] * 3
    assert list(collected["answer"]) == ["one", "two", "one"]
    stored = b"".join(
        str(row).encode() for row in sqlite3.connect(ledger).execute("SELECT * FROM batch_jobs")
    )
    assert KEY.encode() not in stored and b"claude" in stored


def test_a_wrong_key_is_an_authentication_error_that_never_shows_it(
    keyed_emulator: LLMEmulator, tmp_path: Path
) -> None:
    wrong = "sk-ant-WRONG-key-0000"

    with pytest.raises(AuthenticationError) as raised:
        submit(
            ["hi"],
            api="anthropic",
            model="claude-haiku-4-5",
            base_url=keyed_emulator.base_url,
            ledger=str(tmp_path / "l.sqlite3"),
            api_key=wrong,
        )

    message = str(raised.value)
    assert "ANTHROPIC_API_KEY" in message and wrong not in message
    assert wrong not in repr(raised.value.__cause__) + repr(raised.value.__context__)


def test_no_key_for_the_providers_own_api_is_refused_before_sending(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)

    with pytest.raises(AuthenticationError) as raised:
        submit(["hi"], api="openai", model="gpt-4o-mini", ledger=str(tmp_path / "l.sqlite3"))

    assert "no API key for the openai batch API" in str(raised.value)
    assert "OPENAI_API_KEY" in str(raised.value)
