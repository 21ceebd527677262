"""How much the usage ledger costs: recording one call, and analysing a million.

Run: ``.venv/bin/python benchmarks/ledger.py [--rows 1000000] [--calls 5000] [--runs 5]
[--postgres]``; ``--postgres`` adds the PostgreSQL team ledger's figures (``team_ledger.py``:
record ≤ 1 ms, 1,000,000-row cost frame ≤ 2 s).

1. Mean time of ``Ledger.record()`` on a file ledger (WAL, one transaction per call), the work
   the provider base class adds to every LLM call, including sealing a block of 4,096 rows into
   its packed copy whenever a call completes one. Target ≤ 0.2 ms. Also printed: the mean time
   of ``check_budget()``, which runs before every call (no target; it should be microseconds).
2. Time to build the DataFrame a cost analysis needs from 1,000,000 synthetic calls and
   summarise it by provider and model (calls, tokens by kind, cost, unpriced calls, mean
   latency, error rate), each run on a freshly opened ``Ledger`` (nothing cached in memory).
   Target ≤ 1 s. The rows are written with ``executemany`` beforehand, untimed; since that
   bypasses ``record()``, the first read seals their blocks, and is printed on its own (a
   one-off: what the first reader after a bulk insert or an upgrade from schema 1 pays). Also
   printed: ``summary()`` straight from the ledger, and every column plus a groupby.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from orchestify_nb.tokens import TokenCounts
from orchestify_nb.usage.budgets import Budget
from orchestify_nb.usage.columns import COLUMN_ORDER
from orchestify_nb.usage.frames import SUMMARISED_COLUMNS, summarise
from orchestify_nb.usage.ledger import Ledger
from orchestify_nb.usage.record import UsageRecord
from orchestify_nb.usage.store import INSERT_SQL, SQLiteStore, record_row

RECORD_TARGET_MS = 0.2
FRAME_TARGET_S = 1.0
#: What a cost analysis reads: when, who, which model, how it ended, tokens by kind, cost,
#: latency and the experiment tag.
COST_COLUMNS = ("started_at", "provider_id", "model", "tag", *SUMMARISED_COLUMNS)
MODELS = {
    "claude": ("anthropic", ["claude-sonnet-4-5", "claude-haiku-4-5", "claude-opus-4-1"]),
    "openai": ("openai", ["gpt-5", "gpt-5-mini", "gpt-4o-mini"]),
    "gateway": ("litellm", ["gemini/gemini-2.5-flash", "mistral/mistral-small-latest"]),
}


def synthetic_record(rng: random.Random, started: datetime) -> UsageRecord:
    provider_id = rng.choice(list(MODELS))
    provider_type, models = MODELS[provider_id]
    model = rng.choice(models)
    failed = rng.random() < 0.03
    input_tokens, output_tokens = rng.randint(10, 4000), rng.randint(1, 1500)
    latency = rng.uniform(0.2, 12.0)
    return UsageRecord(
        provider_id=provider_id,
        provider_type=provider_type,
        model_requested=model,
        model=model,
        started_at=started,
        finished_at=started + timedelta(seconds=latency),
        status="error" if failed else "ok",
        tokens=TokenCounts(
            input=input_tokens,
            output=output_tokens,
            cache_read=rng.choice([0, 0, 0, input_tokens // 2]),
            reasoning=rng.choice([0, output_tokens // 3]),
        ),
        cost_usd=None if rng.random() < 0.05 else (input_tokens * 3 + output_tokens * 15) / 1e6,
        priced=True,
        price_source="genai-prices 0.2.3",
        latency_s=latency,
        time_to_first_token_s=latency / 4,
        finish_reason="error" if failed else "stop",
        error_type="RateLimitError" if failed else None,
        tag=rng.choice([None, "experiment-a", "experiment-b", "batch"]),
        session_id=f"session-{rng.randint(1, 200)}",
    )


def bench_record(directory: Path, calls: int) -> float:
    """Mean milliseconds per ``record()`` on a file ledger, after a warm-up."""
    rng = random.Random(1)
    now = datetime.now(UTC)
    records = [synthetic_record(rng, now) for _ in range(calls + 200)]
    with Ledger(directory / "record.sqlite3") as ledger:
        for record in records[:200]:
            ledger.record(record)
        started = time.perf_counter()
        for record in records[200:]:
            ledger.record(record)
        elapsed = time.perf_counter() - started
    return elapsed / calls * 1000


def bench_check_budget(directory: Path, checks: int) -> float:
    """Mean microseconds per ``check_budget()`` with a day, a session and a total budget, on a
    ledger that already holds calls (spend is kept in memory, so no scan)."""
    budgets = [Budget(1e9, "day"), Budget(1e9, "session", "claude"), Budget(1e9, "total", "claude")]
    rng = random.Random(3)
    with Ledger(directory / "budget.sqlite3", budgets) as ledger:
        for _ in range(1_000):
            ledger.record(synthetic_record(rng, datetime.now(UTC)))
        ledger.check_budget("claude")
        started = time.perf_counter()
        for _ in range(checks):
            ledger.check_budget("claude")
        return (time.perf_counter() - started) / checks * 1e6


def _rows(store: SQLiteStore, rows: int) -> Iterator[tuple[object, ...]]:
    rng = random.Random(2)
    start = datetime.now(UTC) - timedelta(days=365)
    step = timedelta(days=365) / rows
    for index in range(rows):
        record = synthetic_record(rng, start + index * step)
        record.id = uuid.UUID(int=rng.getrandbits(128)).hex
        row = record_row(record)
        yield (*row.values, *(store.label_id(text) for text in row.labels))


def fill(path: Path, rows: int) -> None:
    """Write ``rows`` synthetic calls in one transaction (setup, not measured)."""
    store = SQLiteStore(path)
    with store.lock:
        store.connection.execute("BEGIN")
        store.connection.executemany(INSERT_SQL, _rows(store, rows))
        store.connection.execute("COMMIT")
    store.close()


def timings(runs: int, task: Callable[[], object]) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        task()
        times.append(time.perf_counter() - started)
    return times


def report(label: str, times: list[float], rows: int) -> None:
    best, median = min(times), statistics.median(times)
    print(
        f"{label} over {rows:,} rows: best {best:.3f} s, median {median:.3f} s of {len(times)} "
        f"| target {FRAME_TARGET_S} s | ratio best {best / FRAME_TARGET_S:.2f}, "
        f"median {median / FRAME_TARGET_S:.2f}"
    )


def parse_arguments(doc: str) -> argparse.Namespace:
    """``--rows``, ``--calls`` and ``--runs``, shared with ``team_ledger.py``."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--calls", type=int, default=5_000)
    parser.add_argument("--runs", type=int, default=5, help="frame timings: runs of each")
    parser.add_argument(
        "--postgres", action="store_true", help="then the team ledger's figures (team_ledger.py)"
    )
    return parser.parse_args()


def main() -> None:
    args = parse_arguments(__doc__)
    with tempfile.TemporaryDirectory() as directory:
        folder = Path(directory)
        record_ms = bench_record(folder, args.calls)
        print(
            f"record one call (file ledger, WAL, mean of {args.calls:,}): {record_ms:.4f} ms "
            f"| target {RECORD_TARGET_MS} ms | ratio {record_ms / RECORD_TARGET_MS:.2f}"
        )
        check_us = bench_check_budget(folder, 10_000)
        print(f"check_budget with 3 budgets (mean of 10,000): {check_us:.1f} µs")
        path = folder / "million.sqlite3"
        setup = time.perf_counter()
        fill(path, args.rows)
        print(
            f"(setup: {args.rows:,} synthetic rows written in {time.perf_counter() - setup:.1f} s)"
        )
        split: dict[str, list[float]] = {"build": [], "summarise": []}
        dtypes: dict[str, str] = {}

        def cost_analysis() -> None:
            started = time.perf_counter()
            with Ledger(path) as ledger:
                frame = ledger.to_dataframe(columns=COST_COLUMNS)
            built = time.perf_counter()
            table = summarise(frame, ["provider_id", "model"])
            split["build"].append(built - started)
            split["summarise"].append(time.perf_counter() - built)
            assert len(frame) == args.rows and int(table["calls"].sum()) == args.rows
            assert frame["cost_usd"].isna().any() and frame["tag"].isna().any()
            dtypes.update({str(name): str(dtype) for name, dtype in frame.dtypes.items()})

        [first] = timings(1, cost_analysis)
        print(
            f"first read after the bulk insert (seals {args.rows // 4096:,} blocks of 4,096 rows "
            f"once, then builds and summarises): {first:.2f} s"
        )
        for times in split.values():
            times.clear()
        print("cost-analysis DataFrame: " + ", ".join(f"{n} {t}" for n, t in dtypes.items()))
        report(
            "build it + summarise by provider, model", timings(args.runs, cost_analysis), args.rows
        )
        build, summarised = (statistics.median(split[part]) for part in ("build", "summarise"))
        print(f"  medians: to_dataframe(columns=...) {build:.3f} s, summarise {summarised:.3f} s")

        def summary_only() -> None:
            with Ledger(path) as ledger:
                table = ledger.summary(by=["provider", "model"])
            assert int(table["calls"].sum()) == args.rows

        def full_frame() -> None:
            with Ledger(path) as ledger:
                frame = ledger.to_dataframe()
            table = frame.groupby(["provider_id", "model"], observed=True).agg(
                calls=("status", "size"), cost_usd=("cost_usd", "sum")
            )
            assert int(table["calls"].sum()) == args.rows

        report("Ledger.summary(by=provider, model)", timings(args.runs, summary_only), args.rows)
        report(
            f"to_dataframe() all {len(COLUMN_ORDER)} columns + groupby",
            timings(args.runs, full_frame),
            args.rows,
        )
    if args.postgres:
        from team_ledger import run  # benchmarks/team_ledger.py

        run(args)


if __name__ == "__main__":
    main()
