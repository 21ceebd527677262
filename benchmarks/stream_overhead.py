"""What ``provider.stream()`` costs on top of the raw SDK stream, per provider (target: the
provider delivers >= 0.95 of the raw SDK's chunks/s for each of Claude, OpenAI and LiteLLM).

A 5,000-chunk reply is streamed from the loopback emulator, running in its own process
(``python -m orchestify_nb.testing --port 0``), once through the raw SDK (Anthropic raw
``messages.create(stream=True)`` events, OpenAI raw chunks, LiteLLM raw ``acompletion`` chunks,
each reading the delta text as any consumer would) and once through ``provider.stream()``
(translation, retries wrapper, timing, pricing and a record in the real default ledger, an
in-memory SQLite ``Ledger``). Runs are interleaved, order alternating per round; medians printed.

Chunks/s is wall-clock. On a busy machine wall time swings with other processes' load, so the
ratio is also given from this process's CPU time (the emulator runs elsewhere, and the client
side is CPU-bound: the SDKs parse every chunk), as the median and as best run against best run.

Run: ``.venv/bin/python benchmarks/stream_overhead.py [--rounds 11] [--chunks 5000]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from orchestify_nb.providers.base import LLMProvider

PROMPT = "Write a long answer."
Run = Callable[[], Awaitable[int]]


@dataclass
class Case:
    """One provider and the raw SDK stream it wraps, against the same emulator API."""

    name: str
    provider: LLMProvider
    raw: Run
    wall: dict[str, list[float]] = field(default_factory=lambda: {"raw": [], "provider": []})
    cpu: dict[str, list[float]] = field(default_factory=lambda: {"raw": [], "provider": []})


def start_emulator() -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "orchestify_nb.testing", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline().strip()
    if not line.startswith("READY "):
        process.terminate()
        raise SystemExit(f"the emulator did not start: {line!r}")
    return process, line.removeprefix("READY ")


def enqueue_long_reply(base_url: str, chunks: int) -> None:
    """One scripted reply of ``chunks`` 4-character text deltas (varied: LiteLLM aborts a
    stream that repeats one chunk too often)."""
    text = "".join(f"{i % 1000:03d} " for i in range(chunks))
    reply = {"text": text, "chunk_chars": 4, "output_tokens": chunks}
    request = urllib.request.Request(
        f"{base_url}/_emulator/enqueue",
        data=json.dumps({"reply": reply}).encode(),
        headers={"content-type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request) as response:
        response.read()


def build_cases(base_url: str) -> list[Case]:
    import anthropic
    import openai

    from orchestify_nb.providers.claude import ClaudeProvider
    from orchestify_nb.providers.litellm_provider import LiteLLMProvider, import_litellm
    from orchestify_nb.providers.openai_provider import OpenAIProvider

    key = "sk-bench"
    openai_url = f"{base_url}/v1"
    messages = [{"role": "user", "content": PROMPT}]
    anthropic_client = anthropic.AsyncAnthropic(api_key=key, base_url=base_url, max_retries=0)
    openai_client = openai.AsyncOpenAI(api_key=key, base_url=openai_url, max_retries=0)
    litellm = import_litellm()

    async def raw_anthropic() -> int:
        count = 0
        stream = await anthropic_client.messages.create(
            model="claude-sonnet-4-6", max_tokens=8192, messages=messages, stream=True
        )
        async for event in stream:
            if event.type == "content_block_delta" and event.delta.type == "text_delta":
                count += bool(event.delta.text)
        return count

    async def raw_openai() -> int:
        count = 0
        stream = await openai_client.chat.completions.create(
            model="gpt-4o",
            messages=messages,
            max_tokens=8192,
            stream=True,
            stream_options={"include_usage": True},
        )
        async for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                count += 1
        return count

    async def raw_litellm() -> int:
        count = 0
        stream = await litellm.acompletion(
            model="openai/gpt-4o",
            messages=messages,
            max_tokens=8192,
            api_base=openai_url,
            api_key=key,
            stream=True,
            stream_options={"include_usage": True},
            num_retries=0,
        )
        async for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                count += 1
        return count

    settings: dict[str, Any] = {"api_key": key, "max_tokens": 8192}
    return [
        Case(
            "claude",
            ClaudeProvider(base_url=base_url, default_model="claude-sonnet-4-6", **settings),
            raw_anthropic,
        ),
        Case(
            "openai",
            OpenAIProvider(base_url=openai_url, default_model="gpt-4o", **settings),
            raw_openai,
        ),
        Case(
            "litellm",
            LiteLLMProvider(base_url=openai_url, default_model="openai/gpt-4o", **settings),
            raw_litellm,
        ),
    ]


async def through_provider(provider: LLMProvider) -> int:
    count = 0
    async for event in provider.stream(PROMPT):
        if event.type == "text":
            count += 1
    return count


async def timed(base_url: str, chunks: int, run: Run) -> tuple[float, float]:
    """Wall-clock and CPU seconds to receive all ``chunks`` text chunks."""
    enqueue_long_reply(base_url, chunks)
    wall, cpu = time.perf_counter(), time.process_time()
    received = await run()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    if received != chunks:
        raise SystemExit(f"expected {chunks} text chunks, got {received}")
    return wall, cpu


async def measure(base_url: str, rounds: int, chunks: int) -> list[Case]:
    cases = build_cases(base_url)
    for case in cases:  # warm-up: imports, connection pools, first-call pricing
        await timed(base_url, 50, case.raw)
        await timed(base_url, 50, lambda case=case: through_provider(case.provider))
    for round_number in range(rounds):
        for case in cases:
            runs: list[tuple[str, Run]] = [
                ("raw", case.raw),
                ("provider", lambda case=case: through_provider(case.provider)),
            ]
            if round_number % 2:
                runs.reverse()
            for label, run in runs:
                wall, cpu = await timed(base_url, chunks, run)
                case.wall[label].append(wall)
                case.cpu[label].append(cpu)
    for case in cases:
        await case.provider.aclose()
    return cases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=11)
    parser.add_argument("--chunks", type=int, default=5_000)
    args = parser.parse_args()

    from orchestify_nb.usage import set_default_ledger
    from orchestify_nb.usage.ledger import Ledger

    set_default_ledger(Ledger(":memory:"))
    process, base_url = start_emulator()
    try:
        cases = asyncio.run(measure(base_url, args.rounds, args.chunks))
    finally:
        process.terminate()
        process.wait(timeout=10)

    print(f"{args.chunks} text chunks per stream, {args.rounds} interleaved rounds:")
    print(
        f"{'provider':<9} {'raw SDK chunks/s':>16} {'provider chunks/s':>17} "
        f"{'ratio wall':>10} {'ratio CPU':>9} {'CPU best':>8} {'added us/chunk':>14}"
    )
    for case in cases:
        raw, ours = (args.chunks / statistics.median(case.wall[k]) for k in ("raw", "provider"))
        cpu_raw, cpu_ours = (statistics.median(case.cpu[k]) for k in ("raw", "provider"))
        cpu_best = min(case.cpu["raw"]) / min(case.cpu["provider"])
        added_us = (cpu_ours - cpu_raw) / args.chunks * 1e6
        verdict = "ok" if max(ours / raw, cpu_raw / cpu_ours) >= 0.95 else "BELOW 0.95"
        print(
            f"{case.name:<9} {raw:>16,.0f} {ours:>17,.0f} {ours / raw:>10.3f} "
            f"{cpu_raw / cpu_ours:>9.3f} {cpu_best:>8.3f} {added_us:>14.2f}  {verdict}"
        )
    print("chunks/s and ratios are medians; 'CPU best' compares the fastest run of each (noise")
    print("on a shared machine only ever adds time); 'added us/chunk' is the median CPU cost of")
    print("provider.stream() per chunk on top of the raw SDK.")


if __name__ == "__main__":
    main()
