"""The SDK is imported once, off every event loop: concurrent first calls (and the warm-up
thread) wait for the same import instead of one of them importing a half-imported module on
its loop, which froze a notebook's loop for the seconds the import still needed."""

from __future__ import annotations

import json
import subprocess
import sys

_PROBE = """\
import asyncio, json, time
from orchestify_nb.providers.claude import ClaudeProvider

async def main():
    gaps, running = [], True

    async def heartbeat():
        last = time.perf_counter()
        while running:
            await asyncio.sleep(0.01)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    beat = asyncio.create_task(heartbeat())
    first = ClaudeProvider(api_key="k" * 20, base_url="http://127.0.0.1:9")
    second = ClaudeProvider(api_key="k" * 20, base_url="http://127.0.0.1:9")
    started = time.perf_counter()
    one = asyncio.create_task(first._prepare())
    await asyncio.sleep(0.05)  # the first import is under way: the module is half in sys.modules
    await asyncio.gather(one, second._prepare())
    imported_in = time.perf_counter() - started
    running = False
    await beat
    print(json.dumps({"import_s": imported_in, "longest_gap_s": max(gaps)}))

asyncio.run(main())
"""


def test_a_second_first_call_during_the_sdk_import_does_not_block_the_loop() -> None:
    shown = subprocess.run(
        [sys.executable, "-c", _PROBE], capture_output=True, text=True, check=True, timeout=120
    )
    figures = json.loads(shown.stdout)

    assert figures["import_s"] > 0.3, figures  # the import is slow enough for a block to show
    assert figures["longest_gap_s"] < figures["import_s"] / 2, figures
