"""``mode=`` beyond ``df.llm.complete``: typed extraction as a batch job (the schema asked for
as in realtime, answers validated into typed columns), and ``run_batch``/``compare`` as
provider batch jobs they wait for (what a job cannot carry refused before anything is sent)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from pydantic import BaseModel

import orchestify_nb.batch as batch
from orchestify_nb.batch import BatchJobError, BatchModeUnsupportedError
from orchestify_nb.batch.jobs.plan import BatchApi
from orchestify_nb.providers.base import LLMProvider
from orchestify_nb.providers.openai_provider import OpenAIProvider
from orchestify_nb.testing import LLMEmulator, Reply
from tests.batch.conftest import make_claude

ADA = '{"name": "Ada", "age": 36}'


class Person(BaseModel):
    name: str
    age: int


def _provider(emulator: LLMEmulator, api: BatchApi) -> LLMProvider:
    if api == "anthropic":
        return make_claude(emulator)
    return OpenAIProvider(
        provider_id="openai_test",
        api_key="sk-openai-test-key",
        base_url=emulator.openai_base_url,
        default_model="gpt-4o",
    )


@pytest.fixture(autouse=True)
def _ledger(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORCHESTIFY_LEDGER", str(tmp_path / "ledger.sqlite3"))


@pytest.mark.parametrize("api", ["anthropic", "openai"])
def test_typed_extraction_as_a_batch_job_asks_for_the_schema_and_fills_typed_columns(
    api: BatchApi, llm_emulator: LLMEmulator
) -> None:
    provider = _provider(llm_emulator, api)
    llm_emulator.enqueue(Reply(text=ADA))
    one = pd.DataFrame({"payload": [ADA]})
    one.llm.extract("{payload}", schema=Person, out="p", provider=provider, progress=False)
    realtime = llm_emulator.requests[-1].body

    # The emulator answers each request with its prompt: rows 0 and 2 fit Person, row 1 not.
    rows = [ADA, '{"name": "Alan", "age": "old"}', ADA]
    frame = pd.DataFrame({"payload": rows})
    frame.llm.extract("{payload}", schema=Person, out="p", mode="batch", provider=provider)
    (part,) = llm_emulator.batches.jobs()
    asked = "output_config" if api == "anthropic" else "response_format"
    bodies = [body for _, body in llm_emulator.batches.requests(part)]
    assert len(bodies) == 2 and all(body[asked] == realtime[asked] for body in bodies)

    llm_emulator.batches.finish()
    frame.llm.collect(out="p")
    assert list(frame["p_status"]) == ["succeeded", "invalid", "succeeded"]
    assert "does not fit Person" in frame["p_error"].iloc[1] and "age" in frame["p_error"].iloc[1]
    assert str(frame["age"].dtype) == "Int64" and str(frame["name"].dtype) == "string"
    assert frame["age"].tolist()[::2] == [36, 36] and frame["age"].isna().tolist()[1]
    assert frame["name"].tolist()[::2] == ["Ada", "Ada"]

    fresh = pd.DataFrame({"payload": rows})  # as in a later kernel: the schema passed again
    fresh.llm.collect(batch.job(part), out="p", schema=Person)
    assert fresh["age"].tolist()[::2] == [36, 36]


def test_run_batch_in_batch_mode_sends_one_job_and_fills_the_rows_at_the_batch_rate(
    llm_emulator: LLMEmulator,
) -> None:
    llm_emulator.batches.duration_s = 0  # the job has ended by the first look
    llm_emulator.batches.script("r1", "expired")

    result = batch.run_batch_sync(
        ["alpha", "beta", "alpha"], provider=make_claude(llm_emulator), mode="batch"
    )

    (job_id,) = llm_emulator.batches.jobs()
    assert result.job_id == job_id and llm_emulator.requests == []  # no realtime call
    assert [row.status for row in result.rows] == ["ok", "error", "ok"]
    assert [row.content for row in result.rows] == ["alpha", None, "alpha"]
    assert result.rows[1].error_type == "batch job: expired"
    first = result.rows[0].response
    assert first is not None and first.cost_usd is not None and first.saved_usd is not None
    assert first.saved_usd == pytest.approx(first.cost_usd)  # half price: it saved as much
    assert batch.job(job_id).state == "ended"


def test_compare_in_batch_mode_sends_one_job_per_model_and_gives_the_tidy_table(
    llm_emulator: LLMEmulator,
) -> None:
    llm_emulator.batches.duration_s = 0
    models = [make_claude(llm_emulator), _provider(llm_emulator, "openai")]

    table = batch.compare(models=models, prompts=["one", "two"], mode="batch", progress=False)

    assert len(llm_emulator.batches.jobs()) == 2 and llm_emulator.requests == []
    assert len(table) == 4 and (table["answer"] == table["prompt"]).all()  # the emulator echoes
    assert sorted(table["provider"]) == ["claude_test"] * 2 + ["openai_test"] * 2
    assert (table["cost_usd"] > 0).all()


def test_what_a_batch_job_cannot_carry_is_refused_before_anything_is_sent(
    llm_emulator: LLMEmulator,
) -> None:
    provider = make_claude(llm_emulator)
    conversation = [[{"role": "user", "content": "hi"}]]
    with pytest.raises(BatchModeUnsupportedError, match="conversations"):
        batch.run_batch_sync(conversation, provider=provider, mode="batch", progress=False)
    with pytest.raises(BatchModeUnsupportedError, match="temperature: not carried"):
        batch.run_batch_sync(["a"], provider=provider, mode="batch", temperature=0.1)
    with pytest.raises(BatchJobError, match="not one of"):
        batch.run_batch_sync(["a"], provider=provider, mode="cheap", progress=False)
    assert llm_emulator.requests == [] and llm_emulator.batches.jobs() == []


async def test_cancelling_the_wait_leaves_the_job_running_and_names_it(
    llm_emulator: LLMEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    import asyncio

    task = asyncio.create_task(
        batch.run_batch(["slow"], provider=make_claude(llm_emulator), mode="batch")
    )
    for _ in range(100):  # until the job is submitted (the submit runs in a thread)
        if llm_emulator.batches.jobs():
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.3)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    (job_id,) = llm_emulator.batches.jobs()
    result = batch.last_result()
    assert result is not None and result.job_id == job_id and result.interrupted
    assert [row.status for row in result.rows] == ["cancelled"]
    assert f"batch job {job_id} keeps running at the provider" in capsys.readouterr().out
    assert batch.job(job_id).state == "submitted"


def test_auto_mode_runs_run_batch_realtime_for_a_few_prompts(llm_emulator: LLMEmulator) -> None:
    result = batch.run_batch_sync(
        ["a", "b"], provider=make_claude(llm_emulator), mode="auto", progress=False
    )
    assert [row.content for row in result.rows] == ["a", "b"]
    assert llm_emulator.batches.jobs() == []


def test_arguments_a_batch_job_cannot_carry_are_refused_before_submitting(
    llm_emulator: LLMEmulator,
) -> None:
    frame = pd.DataFrame({"text": ["x"]})
    with pytest.raises(BatchJobError, match="temperature: not supported in batch mode"):
        frame.llm.complete(
            "{text}", mode="batch", provider=make_claude(llm_emulator), temperature=0.2
        )
    with pytest.raises(BatchJobError, match=r"resume: not supported.*resubmit\(\)"):
        frame.llm.complete("{text}", mode="batch", provider=make_claude(llm_emulator), resume=True)
    assert llm_emulator.batches.jobs() == []


def test_an_older_claude_batch_is_forced_to_the_answer_tool_and_its_input_fills_the_columns(
    llm_emulator: LLMEmulator,
) -> None:
    provider = make_claude(llm_emulator, default_model="claude-3-5-haiku-20241022")
    frame = pd.DataFrame({"payload": [ADA]})
    frame.llm.extract("{payload}", schema=Person, out="p", mode="batch", provider=provider)
    (part,) = llm_emulator.batches.jobs()
    ((_, body),) = llm_emulator.batches.requests(part)
    assert "output_config" not in body
    assert body["tool_choice"] == {"type": "tool", "name": "answer"}
    assert set(body["tools"][0]["input_schema"]["properties"]) == {"name", "age"}

    llm_emulator.batches.finish()
    frame.llm.collect(out="p")
    assert list(frame["p_status"]) == ["succeeded"]
    assert (frame["name"].iloc[0], frame["age"].iloc[0]) == ("Ada", 36)


def test_a_jobs_ledger_rows_carry_the_provider_id_and_the_tag_as_realtime_rows_do(
    llm_emulator: LLMEmulator, tmp_path: Path
) -> None:
    from orchestify_nb.usage.ledger import Ledger

    llm_emulator.batches.duration_s = 0
    frame = pd.DataFrame({"q": ["a", "b"]})
    frame.llm.complete("{q}", provider=make_claude(llm_emulator), mode="batch", tag="nightly")
    frame.llm.collect()
    result = batch.run_batch_sync(["c"], provider=make_claude(llm_emulator), mode="batch")

    rows = Ledger(str(tmp_path / "ledger.sqlite3")).to_dataframe()
    assert set(rows["provider_id"]) == {"claude_test"}
    assert sorted(rows["tag"]) == sorted(["nightly", "nightly", result.batch_id])
    assert set(rows["mode"]) == {"batch"}
