"""Time to the first token of the first ``%%llm`` in a fresh kernel, against a warm call's
(target: the first within 0.3 s of the warm one).

A kernel is started (jupyter_client) with a config whose ``anthropic`` provider (the SDK that
imports slowest) points at the loopback emulator, running in its own process
(``python -m orchestify_nb.testing --port 0``). ``%load_ext orchestify_nb`` runs, the user
"types" for 3 s, then a first ``%%llm`` cell and a second (warm) one are sent. Each is timed
from sending the cell to the first display carrying answer text, as the notebook sees it; the
kernel's own figure (the footer's "first token" from the cell's start) is printed beside it.

Run: ``.venv/bin/python benchmarks/first_token.py``
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from jupyter_client.manager import KernelManager

TYPING_PAUSE_S = 3.0
TARGET_S = 0.3
ANSWER = "Hello from the emulator, streamed in small pieces. " * 4
_FOOTER = re.compile(r"first token ([\d.]+) s")


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


def enqueue_reply(base_url: str) -> None:
    reply = {"text": ANSWER, "chunk_chars": 8, "output_tokens": 40}
    request = urllib.request.Request(
        f"{base_url}/_emulator/enqueue",
        data=json.dumps({"reply": reply}).encode(),
        headers={"content-type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request) as response:
        response.read()


def run_cell(client: Any, source: str) -> tuple[float | None, str]:
    """Execute ``source``; the seconds from sending it to the first display with answer text
    (None if none came), and all the text the cell showed."""
    started = time.perf_counter()
    msg_id = client.execute(source)
    first: float | None = None
    shown: list[str] = []
    while True:
        message = client.get_iopub_msg(timeout=60)
        if message["parent_header"].get("msg_id") != msg_id:
            continue
        kind, content = message["msg_type"], message["content"]
        if kind in ("display_data", "update_display_data", "execute_result"):
            text = content["data"].get("text/plain", "")
            if first is None and ANSWER[:5] in text:
                first = time.perf_counter() - started
            shown.append(text)
        elif kind in ("stream", "error"):
            shown.append(content.get("text") or f"{content.get('ename')}: {content.get('evalue')}")
        elif kind == "status" and content["execution_state"] == "idle":
            return first, shown[-1] if shown else ""


def footer_first_token(shown: str) -> str:
    match = _FOOTER.search(shown)
    return f"{float(match.group(1)):.3f} s" if match else "not shown"


def main() -> None:
    emulator, base_url = start_emulator()
    km = KernelManager(kernel_name="python3")
    try:
        with tempfile.TemporaryDirectory() as scratch:
            config = Path(scratch) / "orchestify.yaml"
            config.write_text(
                "providers:\n"
                "  claude:\n"
                "    type: anthropic\n"
                "    api_key: sk-bench\n"
                f"    base_url: {base_url}\n"
                "    default_model: claude-sonnet-4-6\n"
                "    max_retries: 0\n",
                encoding="utf-8",
            )
            env = {
                **os.environ,
                "ORCHESTIFY_CONFIG": str(config),
                "ORCHESTIFY_LEDGER": str(Path(scratch) / "ledger.sqlite3"),
                "PYDEVD_DISABLE_FILE_VALIDATION": "1",
            }
            km.start_kernel(env=env, cwd=scratch)
            client = km.client()
            client.start_channels()
            client.wait_for_ready(timeout=60)
            run_cell(client, "%load_ext orchestify_nb")
            time.sleep(TYPING_PAUSE_S)
            timings = []
            for label in ("first call", "warm call"):
                enqueue_reply(base_url)
                first, shown = run_cell(client, "%%llm\nSay hello.")
                if first is None:
                    raise SystemExit(f"{label}: no answer text arrived; the cell showed {shown!r}")
                timings.append(first)
                print(
                    f"{label}: first token after {first:.3f} s (notebook view); footer says "
                    f"{footer_first_token(shown)} from the cell's start"
                )
            client.stop_channels()
    finally:
        km.shutdown_kernel(now=True)
        emulator.terminate()
        emulator.wait(10)
    difference = timings[0] - timings[1]
    verdict = "met" if difference <= TARGET_S else "MISSED"
    print(f"difference: {difference:.3f} s (target <= {TARGET_S} s: {verdict})")
    print(f"ratio (first / warm): {timings[0] / timings[1]:.1f}x")


if __name__ == "__main__":
    main()
