"""Rows as provider batch jobs through the real SDKs against the emulator's batch endpoints."""

from __future__ import annotations

from pathlib import Path

import pytest

import orchestify_nb.batch as batch
from orchestify_nb.batch.jobs import BatchJobError, submit
from orchestify_nb.batch.jobs.plan import BatchApi
from orchestify_nb.testing import LLMEmulator


def _base_url(emulator: LLMEmulator, api: BatchApi) -> str:
    return emulator.base_url if api == "anthropic" else emulator.openai_base_url


@pytest.mark.parametrize("api", ["anthropic", "openai"])
def test_ten_thousand_rows_come_back_in_input_order_with_duplicates_sent_once(
    api: BatchApi, llm_emulator: LLMEmulator, tmp_path: Path
) -> None:
    prompts = [f"question {index % 7000}" for index in range(10_000)]
    model = "claude-haiku-4-5" if api == "anthropic" else "gpt-4o-mini"
    ledger = str(tmp_path / "ledger.sqlite3")
    job = submit(
        prompts, api=api, model=model, base_url=_base_url(llm_emulator, api), ledger=ledger
    )
    (part,) = job.parts
    sent = llm_emulator.batches.requests(part)
    assert len(sent) == 7000
    assert sent[1234][1]["messages"][-1] == {"role": "user", "content": "question 1234"}
    assert sent[1234][1]["model"] == model

    llm_emulator.batches.finish()
    outcomes = job.wait(poll_s=0.01).outcomes()
    assert [outcome.text for outcome in outcomes] == prompts  # the emulator echoes the prompt
    assert {outcome.status for outcome in outcomes} == {"succeeded"}


def test_a_job_is_collected_from_the_ledger_by_id_without_submitting_again(
    llm_emulator: LLMEmulator, tmp_path: Path
) -> None:
    ledger = str(tmp_path / "ledger.sqlite3")
    first = submit(
        ["a", "b"],
        api="anthropic",
        model="claude-haiku-4-5",
        base_url=llm_emulator.base_url,
        ledger=ledger,
    )
    llm_emulator.batches.finish()
    again = batch.job(first.id, ledger=ledger)
    assert [outcome.text for outcome in again.outcomes()] == ["a", "b"]
    assert llm_emulator.batches.jobs() == [first.id]
    assert [row[0] for row in batch.jobs(ledger=ledger)] == [first.id]
    assert batch.jobs(ledger=ledger)[0][3] == "ended"


@pytest.mark.parametrize("api", ["anthropic", "openai"])
def test_expired_and_errored_rows_keep_their_status_and_resubmit_sends_only_them(
    api: BatchApi, llm_emulator: LLMEmulator, tmp_path: Path
) -> None:
    llm_emulator.batches.script("r1", "expired")
    llm_emulator.batches.script("r2", "errored")
    job = submit(
        ["ok", "late", "bad", "ok"],
        api=api,
        model="m",
        base_url=_base_url(llm_emulator, api),
        ledger=str(tmp_path / "l.sqlite3"),
    )
    llm_emulator.batches.finish()
    outcomes = job.outcomes()
    assert [outcome.status for outcome in outcomes] == [
        "succeeded",
        "expired",
        "errored",
        "succeeded",
    ]
    assert outcomes[2].error and "rejected" in outcomes[2].error

    retry = job.resubmit()
    assert retry is not None
    (part,) = retry.parts
    assert [body["messages"][-1]["content"] for _, body in llm_emulator.batches.requests(part)] == [
        "late",
        "bad",
    ]


def test_rows_beyond_the_request_limit_are_split_into_jobs_tracked_together(
    llm_emulator: LLMEmulator, tmp_path: Path
) -> None:
    job = submit(
        [f"p{index}" for index in range(25)],
        api="openai",
        model="gpt-4o-mini",
        base_url=llm_emulator.openai_base_url,
        ledger=str(tmp_path / "l.sqlite3"),
        limits=(10, 10**9),
    )
    assert [len(llm_emulator.batches.requests(part)) for part in job.parts] == [10, 10, 5]
    llm_emulator.batches.finish()
    assert [outcome.text for outcome in job.outcomes()] == [f"p{index}" for index in range(25)]


def test_cancel_leaves_unprocessed_rows_canceled(llm_emulator: LLMEmulator, tmp_path: Path) -> None:
    job = submit(
        ["x", "y"],
        api="anthropic",
        model="claude-haiku-4-5",
        base_url=llm_emulator.base_url,
        ledger=str(tmp_path / "l.sqlite3"),
    )
    job.cancel()
    assert [outcome.status for outcome in job.outcomes()] == ["canceled", "canceled"]


def test_a_backend_without_batch_mode_says_so(tmp_path: Path) -> None:
    with pytest.raises(BatchJobError, match="no batch mode"):
        submit(["x"], api="local", model="gemma", ledger=str(tmp_path / "l.sqlite3"))  # type: ignore[arg-type]


def test_ledger_books_each_request_once_at_exactly_half_the_realtime_price(
    llm_emulator: LLMEmulator, tmp_path: Path
) -> None:
    from orchestify_nb.pricing import ModelPrice
    from orchestify_nb.usage.ledger import Ledger

    ledger = str(tmp_path / "l.sqlite3")
    pricing = {"claude-haiku-4-5": ModelPrice(input_per_mtok=1.0, output_per_mtok=5.0)}
    job = submit(
        ["same", "same", "other"],
        api="anthropic",
        model="claude-haiku-4-5",
        base_url=llm_emulator.base_url,
        ledger=ledger,
    )
    llm_emulator.batches.finish()
    job.outcomes(pricing=pricing)
    job.outcomes(pricing=pricing)  # collecting again books nothing twice
    with Ledger(ledger) as book:
        rows = book.records()
    assert len(rows) == 2
    for row in rows:
        realtime = (row.tokens.input * 1.0 + row.tokens.output * 5.0) / 1_000_000
        assert row.mode == "batch" and row.batch_job_id == job.parts[0]
        assert row.cost_usd == pytest.approx(realtime / 2, rel=1e-12)
        assert row.saved_usd == pytest.approx(realtime / 2, rel=1e-12)


def test_dataframe_rows_submitted_in_batch_mode_are_collected_into_their_columns(
    llm_emulator: LLMEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pandas as pd

    from tests.batch.conftest import make_claude

    monkeypatch.setenv("ORCHESTIFY_LEDGER", str(tmp_path / "l.sqlite3"))
    llm_emulator.batches.script("r1", "expired")
    frame = pd.DataFrame({"text": ["alpha", "beta", "alpha"]})
    frame.llm.complete("Say {text}", out="said", mode="batch", provider=make_claude(llm_emulator))
    assert list(frame["said_status"]) == ["submitted"] * 3
    job_id = frame["said_batch_job"].iloc[0]

    llm_emulator.batches.finish()
    fresh = pd.DataFrame({"text": ["alpha", "beta", "alpha"]})  # as after a kernel restart
    fresh.llm.collect(job_id, out="said")
    assert list(fresh["said"]) == ["Say alpha", None, "Say alpha"]
    assert list(fresh["said_status"]) == ["succeeded", "expired", "succeeded"]
    assert fresh["said_error"].iloc[1] == "request expired"


def test_auto_mode_stays_realtime_for_a_small_frame_and_says_why() -> None:
    from orchestify_nb import ClaudeProvider, LiteLLMProvider, LocalProvider, OpenAIProvider
    from orchestify_nb.batch.jobs.frame import AUTO_BATCH_ROWS, choose_mode

    assert choose_mode("auto", ClaudeProvider(api_key="k"), None, 10)[0] == "realtime"
    assert choose_mode("auto", OpenAIProvider(api_key="k"), None, AUTO_BATCH_ROWS)[0] == "batch"
    assert choose_mode("auto", LocalProvider(), None, 10**6) == (
        "realtime",
        "the 'local' provider has no batch API",
    )
    litellm = LiteLLMProvider(default_model="anthropic/claude-haiku-4-5")
    assert choose_mode("auto", litellm, None, AUTO_BATCH_ROWS)[0] == "batch"
    assert choose_mode("auto", litellm, "gpt-4o", AUTO_BATCH_ROWS)[0] == "batch"  # by its map
    with pytest.raises(BatchJobError, match="'ollama/llama3' has no batch API here"):
        choose_mode("batch", litellm, "ollama/llama3", 10)


def test_collected_frame_and_usage_report_show_the_batch_cost_and_the_saving(
    llm_emulator: LLMEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pandas as pd

    from orchestify_nb.pricing import ModelPrice
    from orchestify_nb.usage.ledger import Ledger
    from orchestify_nb.usage.reports import usage_table
    from tests.batch.conftest import CLAUDE_MODEL, make_claude

    ledger = str(tmp_path / "l.sqlite3")
    monkeypatch.setenv("ORCHESTIFY_LEDGER", ledger)
    # $2 / $10 per million input / output tokens (config pricing:), kept with the job.
    pricing = {CLAUDE_MODEL: ModelPrice(input_per_mtok=2.0, output_per_mtok=10.0)}
    frame = pd.DataFrame({"text": ["alpha", "beta", "alpha"]})
    provider = make_claude(llm_emulator, pricing=pricing)
    frame.llm.complete("Say {text}", out="said", mode="batch", provider=provider)
    llm_emulator.batches.finish()

    fresh = pd.DataFrame({"text": ["alpha", "beta", "alpha"]}).llm.collect(
        frame["said_batch_job"].iloc[0], out="said"
    )
    # The emulator counts 13 prompt tokens for both (their JSON's characters / 4) and answers
    # "Say alpha" in 3 tokens, "Say beta" in 2. Realtime: 13 x $2 + 3 x $10 = $56 per million
    # for alpha, 13 x $2 + 2 x $10 = $46 for beta; the batch rate is half, the other half saved.
    assert list(fresh["said_tokens_input"]) == [13, 13, 13]
    assert list(fresh["said_tokens_output"]) == [3, 2, 3]
    expected = [28e-6, 23e-6, 0.0]  # the repeated prompt was sent, and paid, once
    assert list(fresh["said_cost_usd"]) == pytest.approx(expected, rel=1e-12)
    assert list(fresh["said_saved_usd"]) == pytest.approx(expected, rel=1e-12)

    with Ledger(ledger) as book:
        table = usage_table(book, by="mode")
    assert table.loc["batch", "cost_usd"] == pytest.approx(51e-6, rel=1e-12)
    assert table.loc["batch", "saved_usd"] == pytest.approx(51e-6, rel=1e-12)
    assert table.loc["batch", "calls"] == 2


def test_a_resubmitted_job_fills_only_the_rows_that_failed_in_the_first_jobs_frame(
    llm_emulator: LLMEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pandas as pd

    from tests.batch.conftest import make_claude

    monkeypatch.setenv("ORCHESTIFY_LEDGER", str(tmp_path / "l.sqlite3"))
    ok = "succeeded"
    llm_emulator.batches.script("r1", "expired")  # by custom_id: in every job
    llm_emulator.batches.script("r2", "errored")
    frame = pd.DataFrame({"text": ["a", "b", "c", "d", "e"]})
    frame.llm.complete("Say {text}", out="said", mode="batch", provider=make_claude(llm_emulator))
    first = frame["said_batch_job"].iloc[0]
    llm_emulator.batches.finish()
    frame.llm.collect(out="said")
    assert list(frame["said_status"]) == [ok, "expired", "errored", ok, ok]

    retry = batch.job(first).resubmit()  # rows 1 and 2: b is r0 now, c r1 (expires again)
    assert retry is not None
    llm_emulator.batches.finish()
    frame.llm.collect(retry, out="said")
    assert list(frame["said"]) == ["Say a", "Say b", None, "Say d", "Say e"]
    assert list(frame["said_status"]) == [ok, ok, "expired", ok, ok]
    assert list(frame["said_batch_job"]) == [first, retry.id, retry.id, first, first]

    again = retry.resubmit()  # row 2 of the frame, the retry's row 1
    assert again is not None
    llm_emulator.batches.finish()
    frame.llm.collect(again, out="said")
    assert list(frame["said"]) == ["Say a", "Say b", "Say c", "Say d", "Say e"]
    assert list(frame["said_tokens_output"])[2] == 2


@pytest.mark.parametrize("api", ["anthropic", "openai"])
def test_a_litellm_provider_sends_its_anthropic_and_openai_routes_as_batch_jobs(
    api: BatchApi, llm_emulator: LLMEmulator, tmp_path: Path
) -> None:
    import pandas as pd

    from orchestify_nb import LiteLLMProvider

    model = "claude-haiku-4-5" if api == "anthropic" else "gpt-4o-mini"
    provider = LiteLLMProvider(
        api_key="sk-litellm-test",
        base_url=_base_url(llm_emulator, api),
        default_model=f"{api}/{model}",
    )
    frame = pd.DataFrame({"q": ["red", "green"]})
    ledger = str(tmp_path / "l.db")

    frame.llm.complete("Say {q}", provider=provider, mode="batch", ledger=ledger)

    (part,) = llm_emulator.batches.jobs()
    sent = llm_emulator.batches.requests(part)
    assert [body["model"] for _, body in sent] == [model, model]  # as that API names it
    llm_emulator.batches.finish()
    frame.llm.collect(ledger=ledger)  # the job id from the frame, the job from that ledger
    assert list(frame["answer"]) == ["Say red", "Say green"]
    assert list(frame["answer_status"]) == ["succeeded", "succeeded"]
