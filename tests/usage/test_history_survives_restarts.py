"""The ledger is a file: a new Ledger on it, or a restarted kernel, sees every earlier call."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jupyter_client.manager import KernelManager

from orchestify_nb.testing import LLMEmulator, Reply
from orchestify_nb.usage import LEDGER_ENV
from orchestify_nb.usage.ledger import Ledger
from tests.usage.conftest import NOON, make_record


def test_a_new_ledger_on_the_same_file_reads_back_identical_records(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    written = [
        make_record(started_at=NOON, cost_usd=0.1 + 0.2, tag="first"),  # a float with 17 digits
        make_record(provider_id="openai", model="gpt-4o", started_at=NOON, cost_usd=None),
        make_record(started_at=NOON, status="cancelled", agent="critic", cell_execution_count=7),
    ]
    with Ledger(path) as first:
        for record in written:
            first.record(record)

    with Ledger(path) as second:
        assert second.records() == written
        assert second.totals().call_count == 3


class Kernel:
    """One real ipykernel; ``run`` executes code and returns what it printed."""

    def __init__(self) -> None:
        self.manager = KernelManager(kernel_name="python3")
        self.manager.start_kernel()
        self.client = self.manager.client()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=120)

    def run(self, code: str) -> str:
        printed: list[str] = []

        def keep(message: dict[str, Any]) -> None:
            if message["header"]["msg_type"] == "stream":
                printed.append(message["content"]["text"])
            elif message["header"]["msg_type"] == "error":
                printed.append("\n".join(message["content"]["traceback"]))

        reply = self.client.execute_interactive(code, output_hook=keep, timeout=120)
        assert reply["content"]["status"] == "ok", "".join(printed)
        return "".join(printed)

    def restart(self) -> None:
        self.manager.restart_kernel(now=True)
        self.client.wait_for_ready(timeout=120)

    def shutdown(self) -> None:
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)


@pytest.fixture
def kernel() -> Iterator[Kernel]:
    started = Kernel()
    yield started
    started.shutdown()


CALL = """
import json
from orchestify_nb.providers.claude import ClaudeProvider
from orchestify_nb.usage import get_default_ledger
provider = ClaudeProvider(provider_id="claude", api_key="test", base_url={base_url!r},
                          default_model="claude-sonnet-4-6", max_retries=0)
response = await provider.complete("Remember me.")
print(json.dumps({{"id": response.record_id, "cost": response.cost_usd,
                  "session": get_default_ledger().session_id}}))
"""

READ_BACK = """
import json
from orchestify_nb.usage import get_default_ledger
ledger = get_default_ledger()
print(json.dumps({"path": ledger.path, "session": ledger.session_id,
                  "rows": [[r.id, r.cost_usd, r.session_id] for r in ledger.records()]}))
"""


@pytest.mark.kernel
def test_a_kernel_restart_keeps_the_history_in_the_default_ledger(
    kernel: Kernel, llm_emulator: LLMEmulator
) -> None:
    llm_emulator.enqueue(Reply(text="Noted.", input_tokens=1_000, output_tokens=100))
    before = json.loads(kernel.run(CALL.format(base_url=llm_emulator.base_url)))

    kernel.restart()
    after = json.loads(kernel.run(READ_BACK))

    assert after["path"] == os.environ[LEDGER_ENV]
    assert after["rows"] == [[before["id"], before["cost"], before["session"]]]
    assert after["session"] != before["session"]
    assert len(llm_emulator.requests) == 1
