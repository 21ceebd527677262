"""Terminal IPython (an ``InteractiveShell`` without a kernel) and what ``%load_ext`` /
``%unload_ext`` do, in this process against the loopback emulator."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from IPython.core.interactiveshell import InteractiveShell

from orchestify_nb.session import set_session
from orchestify_nb.testing import LLMEmulator, Reply
from tests.magics.conftest import write_config


class RecordingStdout(io.StringIO):
    """Keeps every ``write`` separately, to see whether text arrived in pieces."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[str] = []

    def write(self, text: str) -> int:
        self.writes.append(text)
        return super().write(text)


@pytest.fixture
def terminal_shell(
    llm_emulator: LLMEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[InteractiveShell]:
    monkeypatch.setenv("ORCHESTIFY_CONFIG", str(write_config(tmp_path, llm_emulator)))
    monkeypatch.chdir(tmp_path)
    set_session(None)
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "orchestify_nb")
    yield shell
    shell.run_line_magic("unload_ext", "orchestify_nb")
    InteractiveShell.clear_instance()
    set_session(None)


def test_terminal_ipython_prints_each_chunk_as_it_arrives(
    terminal_shell: InteractiveShell, llm_emulator: LLMEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    answer = "abcdefghijklmnopqrstuvwxyz" * 2
    llm_emulator.enqueue(Reply(text=answer, chunk_chars=4))
    stdout = RecordingStdout()
    monkeypatch.setattr("sys.stdout", stdout)

    result = terminal_shell.run_cell("%%llm\nThe alphabet twice.", store_history=True)

    assert result.success
    chunks = [answer[i : i + 4] for i in range(0, len(answer), 4)]
    assert stdout.writes[: len(chunks)] == chunks
    assert "claude · claude-sonnet-4-6" in stdout.getvalue()
    assert "Out[" not in stdout.getvalue()
    assert terminal_shell.user_ns["_"].content == answer


def test_load_ext_with_a_broken_config_loads_and_the_first_cell_explains_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "orchestify.yaml"
    config.write_text("providers:\n  claude:\n    type: antropic\n", encoding="utf-8")
    monkeypatch.setenv("ORCHESTIFY_CONFIG", str(config))
    set_session(None)
    shell = InteractiveShell.instance()
    try:
        shell.run_line_magic("load_ext", "orchestify_nb")
        assert "llm" in shell.magics_manager.magics["cell"]

        shell.run_cell("%%llm\nhi")
        first = capsys.readouterr().err
        assert "the config has a problem" in first and "line 3" in first and "antropic" in first
        shell.run_cell("%%llm\nhi")
        assert "the config has a problem" not in capsys.readouterr().err  # said once
    finally:
        shell.run_line_magic("unload_ext", "orchestify_nb")
        InteractiveShell.clear_instance()
        set_session(None)


def test_load_ext_reports_a_config_variable_naming_a_missing_file_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ORCHESTIFY_CONFIG", str(tmp_path / "missing.yaml"))
    shell = InteractiveShell.instance()
    try:
        shell.run_line_magic("load_ext", "orchestify_nb")
        assert "missing.yaml, which does not exist" in capsys.readouterr().err
    finally:
        shell.run_line_magic("unload_ext", "orchestify_nb")
        InteractiveShell.clear_instance()


def test_unload_removes_the_magics_and_the_response_display(
    terminal_shell: InteractiveShell,
) -> None:
    formatter = terminal_shell.display_formatter.ipython_display_formatter
    key = ("orchestify_nb.providers.types", "LLMResponse")
    assert "llm" in terminal_shell.magics_manager.magics["line"]
    assert key in formatter.deferred_printers

    terminal_shell.run_line_magic("unload_ext", "orchestify_nb")

    assert "llm" not in terminal_shell.magics_manager.magics["line"]
    assert "llm" not in terminal_shell.magics_manager.magics["cell"]
    assert "LLMMagics" not in terminal_shell.magics_manager.registry
    assert key not in formatter.deferred_printers
    terminal_shell.run_line_magic("load_ext", "orchestify_nb")  # the fixture unloads again


def test_load_ext_imports_no_sdk_pandas_widgets_or_config_parsing() -> None:
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "InteractiveShell.instance().run_line_magic('load_ext', 'orchestify_nb')\n"
        "heavy = ['anthropic', 'openai', 'litellm', 'pandas', 'ipywidgets', 'llama_cpp',\n"
        "         'genai_prices', 'pydantic', 'yaml', 'orchestify_nb.providers.base']\n"
        "print([m for m in heavy if m in sys.modules])\n"
    )
    shown = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert shown.strip() == "[]"
