"""The background warm-up after ``%load_ext`` in a real kernel: the configured SDK (and only
that one) is imported before the first call, a provider that cannot be prepared is reported by
the first call as before, and the footer's first-token time counts from the cell's start."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import nbformat
import pytest
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

from orchestify_nb.testing import LLMEmulator, Reply
from tests.magics.conftest import API_KEY, KernelNotebook, output_text

pytestmark = pytest.mark.kernel

#: Polls (in the kernel) until the warm-up thread has finished, then reports the SDKs loaded.
_SDKS_AFTER_WARM_UP = """\
import sys, threading, time
deadline = time.monotonic() + 30
while any(t.name == "orchestify-warm-up" for t in threading.enumerate()) or (
    "anthropic" not in sys.modules and time.monotonic() < deadline
):
    time.sleep(0.05)
print([m for m in ("anthropic", "openai", "litellm") if m in sys.modules])
"""


@contextmanager
def fresh_kernel(directory: Path, config: str, **env: str) -> Iterator[KernelNotebook]:
    """A new kernel whose config is ``config``; ``%load_ext`` is left to the test."""
    path = directory / "orchestify.yaml"
    path.write_text(config, encoding="utf-8")
    environment = {
        **{k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")},
        "ORCHESTIFY_CONFIG": str(path),
        "ORCHESTIFY_LEDGER": str(directory / "ledger.sqlite3"),
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
        **env,
    }
    km = KernelManager(kernel_name="python3")
    client = NotebookClient(
        nbformat.v4.new_notebook(), km=km, timeout=60, allow_errors=True, record_timing=False
    )
    km.start_kernel(env=environment, cwd=str(directory))
    try:
        with client.setup_kernel():
            yield KernelNotebook(client, km, directory / "ledger.sqlite3")
    finally:
        if client.kc is not None:
            client.kc.stop_channels()
        km.shutdown_kernel(now=True)


def _claude_config(emulator: LLMEmulator, *, key: bool = True) -> str:
    return (
        "providers:\n"
        "  claude:\n"
        "    type: anthropic\n"
        + (f"    api_key: {API_KEY}\n" if key else "")
        + f"    base_url: {emulator.base_url}\n"
        "    default_model: claude-sonnet-4-6\n"
        "    max_retries: 0\n"
    )


def test_load_ext_imports_the_configured_sdk_in_the_background_and_only_that_one(
    emulator: LLMEmulator, tmp_path: Path
) -> None:
    with fresh_kernel(tmp_path, _claude_config(emulator)) as notebook:
        loaded = notebook.run("%load_ext orchestify_nb")
        assert loaded.outputs == [], output_text(loaded)

        assert notebook.text(_SDKS_AFTER_WARM_UP).strip() == "['anthropic']"

        emulator.enqueue(Reply(text="warm already"))
        text = notebook.text("%%llm\nhi")
        assert "warm already" in text and re.search(r"first token \d+\.\d\d s", text), text


def test_a_provider_that_fails_in_warm_up_is_reported_by_the_first_call_as_before(
    emulator: LLMEmulator, tmp_path: Path
) -> None:
    with fresh_kernel(tmp_path, _claude_config(emulator, key=False)) as notebook:
        notebook.run("%load_ext orchestify_nb")
        assert notebook.text(_SDKS_AFTER_WARM_UP).strip() == "['anthropic']"

        before = len(emulator.requests)
        text = notebook.text("%%llm\nhi")
        assert "UsageError: no API key is configured (provider 'claude')" in text, text
        assert "[AuthenticationError; `%llm error` shows the full chain]" in text
        assert "Traceback" not in text
        assert len(emulator.requests) == before


_SLOW_VARIABLE = """\
import time
class SlowToRead:
    @property
    def value(self):
        time.sleep(0.6)
        return "slow"
slow = SlowToRead()
"""


def test_the_footers_first_token_counts_the_wait_before_the_request(
    kernel_notebook: KernelNotebook, emulator: LLMEmulator
) -> None:
    kernel_notebook.run(_SLOW_VARIABLE)
    emulator.enqueue(Reply(text="answered"))
    kernel_notebook.run("%%llm out=timed\nRead @{slow.value}")
    shown = kernel_notebook.text("print(timed.time_to_first_token_s)")
    cell = kernel_notebook.client.nb.cells[-2]
    footer = re.search(r"first token (\d+\.\d\d) s", output_text(cell))
    assert footer is not None, output_text(cell)
    assert float(footer.group(1)) >= 0.6 > float(shown)


def test_a_call_made_while_warming_up_waits_for_it_and_answers(
    emulator: LLMEmulator, tmp_path: Path
) -> None:
    with fresh_kernel(tmp_path, _claude_config(emulator)) as notebook:
        notebook.run("%load_ext orchestify_nb")
        emulator.enqueue(Reply(text="answered after the warm-up"))
        text = notebook.text("%%llm\nhi")  # sent at once: the warm-up has only just started
        assert "answered after the warm-up" in text, text
        assert re.search(r"first token \d+\.\d\d s", text), text
