"""Helpers shared by the panel tests: the emulator config file and a driver for a live kernel."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from jupyter_client.manager import KernelManager

from orchestify_nb.testing import LLMEmulator

CLAUDE_MODEL = "claude-sonnet-4-5"
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
OPENAI_MODEL = "gpt-4o-mini"


def write_emulator_config(emulator: LLMEmulator, path: Path) -> Path:
    """A config with an anthropic (default) and an openai provider, both at the emulator."""
    path.write_text(
        f"""\
providers:
  claude:
    type: anthropic
    api_key: sk-ant-emulated
    default_model: {CLAUDE_MODEL}
    base_url: {emulator.base_url}
    max_retries: 0
  gpt:
    type: openai
    api_key: sk-emulated
    default_model: {OPENAI_MODEL}
    base_url: {emulator.openai_base_url}
    max_retries: 0
default_provider: claude
""",
        encoding="utf-8",
    )
    return path


class KernelDriver:
    """Runs code in a live kernel; a cell that raises fails the test with the kernel's traceback."""

    def __init__(self, manager: KernelManager) -> None:
        self.manager = manager
        self.client = manager.client()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=60)

    def run(self, code: str, timeout: float = 60) -> str:
        """Execute ``code``; returns what it printed plus its result's text. The full bundles it
        displayed are kept in ``displayed``."""
        chunks: list[str] = []
        self.displayed: list[dict[str, Any]] = []

        def collect(message: dict[str, Any]) -> None:
            content = message["content"]
            if message["msg_type"] == "stream":
                chunks.append(content["text"])
            elif message["msg_type"] in ("execute_result", "display_data"):
                self.displayed.append(content["data"])
                chunks.append(content["data"].get("text/plain", ""))
            elif message["msg_type"] == "error":
                chunks.append("\n".join(content["traceback"]))

        reply = self.client.execute_interactive(code, timeout=timeout, output_hook=collect)
        output = _ANSI.sub("", "".join(chunks))
        if reply["content"]["status"] != "ok":
            raise AssertionError(f"kernel cell failed:\n{code}\n{output}")
        return output

    def value(self, expression: str) -> Any:
        """The JSON value of ``expression`` evaluated in the kernel."""
        marker = "@@value@@"
        output = self.run(f"import json as _json\nprint({marker!r} + _json.dumps({expression}))")
        return json.loads(output.rsplit(marker, 1)[1])

    def close(self) -> None:
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)
