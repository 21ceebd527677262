"""What typed answers cost (targets: validation and parsing add <= 0.2 ms per answer for a
10-field model; batch extraction through the emulator keeps >= 0.95 of plain ``run_batch``'s
throughput on the same rows).

1. Parsing: ``OutputSchema.parse`` of a 10-field answer (JSON text -> the pydantic model), as
   every answer is checked, timed over many answers (median of rounds, per answer).
2. Throughput: the same rows through ``run_batch`` twice against the loopback emulator (in its
   own process), once plain and once with ``output_schema=`` (schema in the request, every answer
   validated into the model), rounds interleaved, order alternating; rows/s medians.

Run: ``.venv/bin/python benchmarks/structured.py [--rows 400] [--rounds 9]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
import urllib.request
from datetime import datetime

from pydantic import BaseModel
from stream_overhead import start_emulator

from orchestify_nb.batch import run_batch
from orchestify_nb.providers.openai_provider import OpenAIProvider
from orchestify_nb.providers.structured import output_schema_of
from orchestify_nb.testing import Reply
from orchestify_nb.testing.script import scripted_to_json
from orchestify_nb.usage import set_default_ledger
from orchestify_nb.usage.ledger import Ledger

PARSE_TARGET_MS = 0.2
THROUGHPUT_TARGET = 0.95


class Order(BaseModel):
    order_id: str
    customer: str
    email: str
    items: int
    total: float
    paid: bool
    shipped: bool
    created: datetime
    country: str
    note: str


ANSWER = json.dumps(
    {
        "order_id": "A-1029",
        "customer": "Ada Lovelace",
        "email": "ada@example.com",
        "items": 3,
        "total": 149.5,
        "paid": True,
        "shipped": False,
        "created": "2026-11-30T10:15:00Z",
        "country": "GB",
        "note": "Leave at the door.",
    }
)


def parse_ms(rounds: int, answers: int) -> float:
    schema = output_schema_of(Order)
    schema.parse(ANSWER)  # the validator is built once per schema
    per_answer = []
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(answers):
            schema.parse(ANSWER)
        per_answer.append((time.perf_counter() - started) / answers * 1000)
    return statistics.median(per_answer)


def enqueue(base_url: str, rows: int) -> None:
    body = json.dumps([scripted_to_json(Reply(text=ANSWER)) for _ in range(rows)]).encode()
    request = urllib.request.Request(
        f"{base_url}/_emulator/enqueue", body, {"content-type": "application/json"}
    )
    urllib.request.urlopen(request).read()


async def rows_per_second(provider: OpenAIProvider, base_url: str, rows: int, typed: bool) -> float:
    prompts = [f"Extract order {n}: ..." for n in range(rows)]
    enqueue(base_url, rows)
    extra = {"output_schema": Order} if typed else {}
    started = time.perf_counter()
    result = await run_batch(prompts, provider=provider, progress=False, concurrency=16, **extra)
    elapsed = time.perf_counter() - started
    assert result.count("ok") == rows, result.summary()
    if typed:
        assert all(isinstance(row.response.parsed, Order) for row in result.rows if row.response)
    return rows / elapsed


async def throughput(base_url: str, rows: int, rounds: int) -> tuple[float, float]:
    provider = OpenAIProvider(api_key="sk-bench", base_url=f"{base_url}/v1", default_model="gpt-4o")
    plain: list[float] = []
    typed: list[float] = []
    try:
        await rows_per_second(provider, base_url, 32, typed=True)  # warm the SDK and client
        for index in range(rounds):
            order = (False, True) if index % 2 == 0 else (True, False)
            for is_typed in order:
                rate = await rows_per_second(provider, base_url, rows, typed=is_typed)
                (typed if is_typed else plain).append(rate)
    finally:
        await provider.aclose()
    return statistics.median(plain), statistics.median(typed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    set_default_ledger(Ledger(":memory:"))
    parsing = parse_ms(rounds=7, answers=2000)
    verdict = "PASS" if parsing <= PARSE_TARGET_MS else "FAIL"
    print(
        f"parse + validate a 10-field answer: {parsing:.4f} ms median "
        f"(target <= {PARSE_TARGET_MS} ms) {verdict}"
    )
    process, base_url = start_emulator()
    try:
        plain, typed = asyncio.run(throughput(base_url, args.rows, args.rounds))
    finally:
        process.terminate()
        process.wait()
    ratio = typed / plain
    verdict = "PASS" if ratio >= THROUGHPUT_TARGET else "FAIL"
    print(
        f"run_batch over {args.rows} rows: plain {plain:.0f} rows/s, with output_schema "
        f"{typed:.0f} rows/s; ratio {ratio:.3f} (target >= {THROUGHPUT_TARGET}) {verdict}"
    )


if __name__ == "__main__":
    main()
