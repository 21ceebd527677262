"""What the tool loop costs the client per step, beyond the model calls themselves (target:
<= 1 ms of client CPU per step).

The loopback emulator runs in its own process (``python -m orchestify_nb.testing``), so this
process's CPU time is the client's alone. Each round runs a ``STEPS``-turn loop through
``provider.run_tools`` (every turn but the last calls one trivial tool, whose result goes back;
each turn a ledger row tagged with the loop and step) and, for the baseline, the same number of
plain ``provider.complete`` calls carrying the very conversations the loop sent (so the SDKs
serialise the same, growing requests), answered by the same replies, with the same tool offered.
The difference, divided by the steps, is the loop's own work: building the turns, running and
timing the calls, approvals, events and the ``ToolRun``. Rounds alternate the order; medians.

Run: ``.venv/bin/python benchmarks/tools.py [--rounds 15] [--steps 10] [--provider claude]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
import urllib.request
from typing import Any

from stream_overhead import start_emulator

from orchestify_nb.providers.base import LLMProvider
from orchestify_nb.providers.claude import ClaudeProvider
from orchestify_nb.providers.openai_provider import OpenAIProvider
from orchestify_nb.providers.types import LLMMessage, ToolCall
from orchestify_nb.testing import Reply
from orchestify_nb.testing.script import scripted_to_json
from orchestify_nb.tools import ToolRun, run_tools
from orchestify_nb.tools.functions import as_tool
from orchestify_nb.usage import set_default_ledger
from orchestify_nb.usage.ledger import Ledger

TARGET_MS = 1.0


def lookup(sku: str) -> str:
    """Stock level of a product."""
    return f"{sku}: 12 in stock"


def enqueue(base_url: str, steps: int) -> None:
    """``steps - 1`` turns that each call ``lookup``, then an answer."""
    replies = [
        Reply(tool_calls=[ToolCall(id=f"call_{n}", name="lookup", arguments={"sku": f"A{n}"})])
        for n in range(steps - 1)
    ] + [Reply(text="All twelve in stock.")]
    body = json.dumps([scripted_to_json(reply) for reply in replies]).encode()
    request = urllib.request.Request(
        f"{base_url}/_emulator/enqueue", body, {"content-type": "application/json"}
    )
    urllib.request.urlopen(request).read()


async def loop_cpu(provider: LLMProvider, base_url: str, steps: int) -> tuple[float, ToolRun]:
    enqueue(base_url, steps)
    started = time.process_time()
    run = await run_tools(provider, "Check stock.", tools=[lookup], max_steps=steps)
    spent = time.process_time() - started
    assert len(run.steps) == steps and run.outcome == "answered", run.outcome
    return spent, run


def conversations(run: ToolRun) -> list[list[LLMMessage]]:
    """The turns each of the loop's requests carried: everything before each answer."""
    answers = [index for index, message in enumerate(run.messages) if message.role == "assistant"]
    return [run.messages[:index] for index in answers]


async def plain_cpu(provider: LLMProvider, base_url: str, sent: list[list[LLMMessage]]) -> float:
    """The same requests as the loop's, sent as plain calls (the baseline)."""
    spec = as_tool(lookup).spec()
    enqueue(base_url, len(sent))
    started = time.process_time()
    for messages in sent:
        await provider.complete(messages, tools=[spec])
    return time.process_time() - started


def make_provider(name: str, base_url: str) -> LLMProvider:
    if name == "claude":
        return ClaudeProvider(
            api_key="sk-bench", base_url=base_url, default_model="claude-sonnet-4-6"
        )
    return OpenAIProvider(api_key="sk-bench", base_url=f"{base_url}/v1", default_model="gpt-4o")


async def measure(name: str, base_url: str, rounds: int, steps: int) -> dict[str, Any]:
    provider = make_provider(name, base_url)
    overheads: list[float] = []
    try:
        _, warm = await loop_cpu(provider, base_url, steps)  # SDK import, client, TLS context
        sent = conversations(warm)
        await plain_cpu(provider, base_url, sent)
        for index in range(rounds):
            if index % 2:
                loop, _ = await loop_cpu(provider, base_url, steps)
                plain = await plain_cpu(provider, base_url, sent)
            else:
                plain = await plain_cpu(provider, base_url, sent)
                loop, _ = await loop_cpu(provider, base_url, steps)
            overheads.append((loop - plain) / steps * 1000)
    finally:
        await provider.aclose()
    return {"provider": name, "median_ms": statistics.median(overheads), "all_ms": overheads}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--provider", choices=["claude", "openai", "both"], default="both")
    args = parser.parse_args()
    set_default_ledger(Ledger(":memory:"))
    process, base_url = start_emulator()
    try:
        names = ["claude", "openai"] if args.provider == "both" else [args.provider]
        for name in names:
            result = asyncio.run(measure(name, base_url, args.rounds, args.steps))
            median = result["median_ms"]
            verdict = "PASS" if median <= TARGET_MS else "FAIL"
            spread = ", ".join(f"{value:.3f}" for value in sorted(result["all_ms"]))
            print(
                f"{name}: the loop adds {median:.3f} ms of client CPU per step (median of "
                f"{args.rounds} rounds of {args.steps} steps; target <= {TARGET_MS:g} ms) "
                f"{verdict}\n  rounds: {spread}"
            )
    finally:
        process.terminate()
        process.wait()


if __name__ == "__main__":
    main()
