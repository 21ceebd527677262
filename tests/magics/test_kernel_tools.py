"""``%%llm tools=...`` in a real kernel: notebook functions and a real stdio MCP server's tools
(config ``mcp_servers:``), each step shown as it happens, ``out=`` holding the ``ToolRun``, a
denied call never run, and a server killed mid-loop as one clear error with the steps kept."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestify_nb.providers.types import ToolCall
from orchestify_nb.testing import LLMEmulator, Reply
from tests.magics.conftest import KernelNotebook, kernel_with_config, output_text, write_config

pytestmark = pytest.mark.kernel

SERVER = Path(__file__).parents[1] / "tools" / "mcp_docs_server.py"


@pytest.fixture(scope="module")
def tools_kernel(
    emulator: LLMEmulator, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[KernelNotebook]:
    """A kernel whose config also starts the test MCP server (``docs``) on first use."""
    directory = tmp_path_factory.mktemp("tools-kernel")
    config = write_config(directory, emulator)
    with config.open("a", encoding="utf-8") as extra:
        extra.write(
            f"mcp_servers:\n  docs:\n    command: {sys.executable}\n    args: ['{SERVER}']\n"
            "    env: {DOCS_TOKEN: docs-token-5f0c2a9e77b14d3c}\n"
        )
    with kernel_with_config(directory, config) as notebook:
        notebook.run(
            "calls = []\n"
            "def get_weather(city: str) -> str:\n"
            '    """Current weather for a city."""\n'
            "    calls.append(city)\n"
            '    return f"{city}: 18 C, light rain"\n'
            "def deny_all(call) -> bool:\n"
            "    return False\n"
        )
        yield notebook


def test_a_cell_with_tools_shows_each_step_and_keeps_the_run_in_out(
    tools_kernel: KernelNotebook, emulator: LLMEmulator
) -> None:
    emulator.reset()
    emulator.enqueue(
        Reply(tool_calls=[ToolCall(id="c1", name="get_weather", arguments={"city": "Oslo"})]),
        Reply(tool_calls=[ToolCall(id="c2", name="docs__search", arguments={"query": "rain"})]),
        Reply(text="Oslo is rainy; the docs cover rain in 3 pages."),
    )

    cell = tools_kernel.run(
        "%%llm provider=claude tools=get_weather,docs.search max_steps=5 out=run\n"
        "Weather in Oslo, and what do the docs say about rain?"
    )

    shown = output_text(cell)
    assert "get_weather" in shown and "Oslo: 18 C, light rain" in shown
    assert "docs.search" in shown and "3 pages mention rain" in shown
    assert "Oslo is rainy; the docs cover rain in 3 pages." in shown
    assert "tool loop · 3 model turns · 2 tool calls" in shown
    summary = tools_kernel.run(
        "print(type(run).__name__, run.outcome, len(run.steps), calls, "
        "[r.status for r in run.tool_results])"
    )
    assert output_text(summary).strip() == "ToolRun answered 3 ['Oslo'] ['ok', 'ok']"


def test_a_call_the_approval_function_denies_never_runs_and_the_model_is_told(
    tools_kernel: KernelNotebook, emulator: LLMEmulator
) -> None:
    emulator.reset()
    tools_kernel.run("calls.clear()")
    emulator.enqueue(
        Reply(tool_calls=[ToolCall(id="c1", name="get_weather", arguments={"city": "Rome"})]),
        Reply(text="I was not allowed to check."),
    )

    cell = tools_kernel.run(
        "%%llm provider=gpt tools=get_weather approve=deny_all\nWeather in Rome?"
    )

    assert "I was not allowed to check." in output_text(cell)
    assert output_text(tools_kernel.run("print(calls)")).strip() == "[]"
    assert "denied" in str(emulator.requests[-1].body["messages"])


def test_an_mcp_server_killed_mid_loop_is_one_error_and_the_finished_steps_are_recorded(
    tools_kernel: KernelNotebook, emulator: LLMEmulator
) -> None:
    emulator.reset()
    emulator.enqueue(
        Reply(tool_calls=[ToolCall(id="c1", name="docs__search", arguments={"query": "a"})]),
        Reply(tool_calls=[ToolCall(id="c2", name="docs__crash", arguments={})]),
    )

    cell = tools_kernel.run(
        "%%llm provider=claude tools=docs.search,docs.crash out=broken tag=crash\n"
        "Search, then crash."
    )

    errors = [o for o in cell.outputs if o.output_type == "error" or o.get("name") == "stderr"]
    text = output_text(cell)
    assert "MCP server 'docs'" in text and "during a call to crash" in text
    assert "docs-token-5f0c2a9e77b14d3c" not in text
    assert len(text.strip().splitlines()[-1]) < 600 and errors  # one paragraph, no traceback
    rows = tools_kernel.run(
        "from orchestify_nb.usage import get_default_ledger\n"
        "print([r.step for r in get_default_ledger().records() if r.tag == 'crash'])"
    )
    assert output_text(rows).strip() == "[1, 2]"
