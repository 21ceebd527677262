"""One kernel of a team, as a separate process: ``python -m tests.team.worker MODE URL NAME``.

``records``: write 1,000 records to the team ledger (their order in ``cell_execution_count``).
``budget``: call Claude (the anthropic SDK against a loopback emulator of its own) under a
``team`` budget of $1.00 until the budget refuses; prints one JSON line of what it did.
"""

from __future__ import annotations

import asyncio
import json
import sys

from orchestify_nb.errors import BudgetExceededError
from orchestify_nb.providers.claude import ClaudeProvider
from orchestify_nb.testing import LLMEmulator, Reply
from orchestify_nb.usage.budgets import Budget
from orchestify_nb.usage.ledger import Ledger
from tests.usage.conftest import make_record

RECORDS = 1000
TEAM_BUDGET_USD = 1.0


def write_records(url: str, name: str) -> None:
    with Ledger(url) as ledger:
        for index in range(RECORDS):
            ledger.record(make_record(tag=name, cell_execution_count=index))


def claude_recording_to(ledger: Ledger, emulator: LLMEmulator) -> ClaudeProvider:
    """Claude (the real anthropic SDK) against the emulator, recording to ``ledger``."""
    return ClaudeProvider(
        provider_id="claude",
        api_key="test",
        base_url=emulator.base_url,
        default_model="claude-sonnet-4-6",
        max_retries=0,
        usage_sink=ledger,
    )


async def spend_budget(url: str, name: str) -> dict[str, object]:
    ledger = Ledger(url, [Budget(TEAM_BUDGET_USD, "total")])
    calls, refused = 0, False
    with LLMEmulator(latency_s=0.02) as emulator:
        provider = claude_recording_to(ledger, emulator)
        try:
            while calls < 500:
                emulator.enqueue(Reply(text="ok", input_tokens=300, output_tokens=200))
                try:
                    await provider.complete(f"{name} call {calls}", max_tokens=300)
                except BudgetExceededError:
                    refused = True
                    break
                calls += 1
        finally:
            await provider.aclose()
    ledger.close()
    return {"name": name, "calls": calls, "refused": refused}


def main() -> None:
    mode, url, name = sys.argv[1:4]
    if mode == "records":
        write_records(url, name)
    else:
        print(json.dumps(asyncio.run(spend_budget(url, name))))


if __name__ == "__main__":
    main()
