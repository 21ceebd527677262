"""``python -m orchestify_nb.testing`` serves from its own process and is scripted over HTTP."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator

import httpx2
import openai
import pytest

from orchestify_nb.testing import Fault, Reply
from orchestify_nb.testing.script import scripted_to_json


@pytest.fixture
def emulator_process() -> Iterator[tuple[subprocess.Popen[str], str]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "orchestify_nb.testing", "--port", "0", "--latency", "0.05"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        ready, base_url = process.stdout.readline().split()
        assert ready == "READY"
        yield process, base_url
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
        if process.stdout is not None:
            process.stdout.close()


def test_prints_ready_serves_scripted_replies_and_exits_on_sigterm(
    emulator_process: tuple[subprocess.Popen[str], str],
) -> None:
    process, base_url = emulator_process
    assert base_url.startswith("http://127.0.0.1:")
    with httpx2.Client(base_url=base_url) as control:
        script = [scripted_to_json(Fault.rate_limit(retry_after=1)), {"reply": {"text": "remote"}}]
        assert control.post("/_emulator/enqueue", json=script).json()["pending"] == 2
        with openai.OpenAI(base_url=f"{base_url}/v1", api_key="test-key", max_retries=0) as gpt:
            with pytest.raises(openai.RateLimitError):
                gpt.chat.completions.create(
                    model="gpt-4o-mini", messages=[{"role": "user", "content": "Hi"}]
                )
            stream = gpt.chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": "Hi"}], stream=True
            )
            text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
        log = control.get("/_emulator/requests").json()
    assert text == "remote"
    assert [(entry["api"], entry["path"], entry["stream"]) for entry in log] == [
        ("openai", "/v1/chat/completions", False),
        ("openai", "/v1/chat/completions", True),
    ]
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0


def test_enqueue_rejects_a_body_that_is_neither_reply_nor_fault(
    emulator_process: tuple[subprocess.Popen[str], str],
) -> None:
    _, base_url = emulator_process
    with httpx2.Client(base_url=base_url) as control:
        bad = control.post("/_emulator/enqueue", json={"text": "no wrapper"})
        good = control.post("/_emulator/enqueue", json=scripted_to_json(Reply(text="x")))
    assert bad.status_code == 400
    assert '"reply"' in bad.json()["error"]
    assert good.json() == {"ok": True, "pending": 1}
