"""Provider batch jobs at 100,000 rows: submit and collect times, peak memory of the client.

The emulator runs in its own process (``python -m orchestify_nb.testing``), so the figures are
the client's: rendering 100,000 prompts (30% duplicates, sent once), one Anthropic batch create
and the job's record (target <= 10 s and <= 500 MB peak; memory is the process's peak RSS, an
upper bound incl. pandas), then collecting the 100,000 results into DataFrame columns incl.
booking the ledger rows at the batch rate in one transaction (target <= 10 s). The emulator
writes a job's results when it ends, as a provider does, so that time (printed as "results
written") is not part of collect. The same for OpenAI (file upload + batch create).
Last, side by side: booking 70,000 ledger rows one transaction each (``Ledger.record``, how
collect booked them before) and in one (``Ledger.record_many``), with the ratio.
Usage: ``python benchmarks/batch_jobs.py``.
"""

from __future__ import annotations

import os
import resource
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

import orchestify_nb.batch  # noqa: F401 (registers df.llm)
from orchestify_nb.batch.jobs import submit
from orchestify_nb.batch.jobs.frame import collect_frame
from orchestify_nb.usage.ledger import Ledger
from orchestify_nb.usage.record import UsageRecord

sys.path.insert(0, str(Path(__file__).parent))
from first_token import start_emulator

ROWS = 100_000


def _finish(base_url: str) -> None:
    request = urllib.request.Request(f"{base_url}/_emulator/batches/finish", data=b"{}")
    urllib.request.urlopen(request).read()


def bench(api: str, base_url: str, ledger: str) -> None:
    frame = pd.DataFrame({"text": [f"item {index % 70_000}" for index in range(ROWS)]})
    started = time.perf_counter()
    prompts = [f"Summarise: {text}" for text in frame["text"]]
    model = "claude-haiku-4-5" if api == "anthropic" else "gpt-4o-mini"
    url = base_url if api == "anthropic" else f"{base_url}/v1"
    job = submit(prompts, api=api, model=model, base_url=url, ledger=ledger)  # type: ignore[arg-type]
    submit_s = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB
    started = time.perf_counter()
    _finish(base_url)
    written_s = time.perf_counter() - started
    started = time.perf_counter()
    frame["answer_batch_job"] = job.id
    collect_frame(frame, job, out="answer")
    collect_s = time.perf_counter() - started
    ok = int((frame["answer_status"] == "succeeded").sum())
    print(
        f"{api:9s} submit {ROWS:,} rows ({len(set(prompts)):,} distinct): {submit_s:5.2f} s "
        f"(target <= 10), peak RSS {peak / 2**20:6.1f} MB (target <= 500); "
        f"(emulator: results written in {written_s:4.2f} s) "
        f"collect: {collect_s:5.2f} s (target <= 10), {ok:,} rows succeeded"
    )


def bench_booking(folder: str, rows: int = 70_000) -> None:
    """The same ledger rows booked one transaction each, then all in one."""
    now = datetime.now(UTC)

    def records() -> list[UsageRecord]:
        return [
            UsageRecord("anthropic", "anthropic", "m", "m", now, now, mode="batch", cost_usd=1e-6)
            for _ in range(rows)
        ]

    with Ledger(Path(folder) / "each.sqlite3") as ledger:
        each_rows = records()
        started = time.perf_counter()
        for record in each_rows:
            ledger.record(record)
        each = time.perf_counter() - started
    with Ledger(Path(folder) / "many.sqlite3") as ledger:
        many_rows = records()
        started = time.perf_counter()
        ledger.record_many(many_rows)
        many = time.perf_counter() - started
    print(
        f"booking {rows:,} ledger rows: one transaction each {each:5.2f} s, "
        f"record_many {many:5.2f} s (ratio {each / many:.1f})"
    )


def main() -> None:
    process, base_url = start_emulator()
    try:
        with tempfile.TemporaryDirectory() as folder:
            os.environ["ORCHESTIFY_LEDGER"] = str(Path(folder) / "ledger.sqlite3")
            for api in ("anthropic", "openai"):
                bench(api, base_url, os.environ["ORCHESTIFY_LEDGER"])
            bench_booking(folder)
    finally:
        process.terminate()
        process.wait()


if __name__ == "__main__":
    main()
