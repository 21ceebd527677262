"""The panel driven in a real kernel against the loopback emulator: what a user's clicks do."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from orchestify_nb.testing import Fault, LLMEmulator, Reply
from orchestify_nb.usage.ledger import Ledger
from tests.widgets.kernels import CLAUDE_MODEL, OPENAI_MODEL, KernelDriver

pytestmark = pytest.mark.kernel

WAIT_FOR_TEXT = """
import asyncio
async def _first_text():
    while not panel.turns[-1].text:
        await asyncio.sleep(0.02)
await asyncio.wait_for(_first_text(), 30)
"""


def ledger_rows(path: Path) -> list[tuple[str, str | None, str]]:
    with Ledger(path) as ledger:
        return [(r.status, r.tag, r.provider_id) for r in ledger.records()]


def test_send_streams_markdown_answer_with_cost_footer_and_keeps_the_conversation(
    panel_kernel: KernelDriver, llm_emulator: LLMEmulator, ledger_file: Path
) -> None:
    llm_emulator.enqueue(
        Reply(text="Hello from the **emulator**.", input_tokens=12, output_tokens=7)
    )
    panel_kernel.run("panel.ui.prompt.value = 'Say hello'\npanel.ui.send.click()")
    panel_kernel.run("await panel.wait()")

    turn = panel_kernel.value(
        "dict(state=panel.turns[-1].state, answer=panel.turns[-1].answer.value,"
        " footer=panel.turns[-1].footer.value, prompt=panel.ui.prompt.value,"
        " strip=panel.ui.usage_strip.value, copy=panel.ui.copy.value)"
    )
    assert turn["state"] == "done"
    assert "Hello from the <strong>emulator</strong>." in turn["answer"]
    assert "12 in / 7 out tokens" in turn["footer"]
    assert "$" in turn["footer"] and CLAUDE_MODEL in turn["footer"]
    assert turn["prompt"] == ""  # the prompt box is emptied once sent
    assert "<b>1</b> call " in turn["strip"]
    assert 'data-text="Hello from the **emulator**."' in turn["copy"]
    assert llm_emulator.requests[-1].body["messages"][-1]["content"] in (
        "Say hello",
        [{"type": "text", "text": "Say hello"}],
    )

    llm_emulator.enqueue(Reply(text="Still here."))
    panel_kernel.run("panel.send('And again?')\nawait panel.wait()")
    sent = llm_emulator.requests[-1].body["messages"]
    assert [m["role"] for m in sent] == ["user", "assistant", "user"]
    assert ledger_rows(ledger_file) == [("ok", "panel", "claude"), ("ok", "panel", "claude")]


def test_stop_cancels_mid_stream_keeps_partial_answer_and_kernel_stays_responsive(
    panel_kernel: KernelDriver, llm_emulator: LLMEmulator, ledger_file: Path
) -> None:
    full = "word " * 400
    llm_emulator.enqueue(Reply(text=full, chunk_chars=5, chunk_delay_s=0.05))
    panel_kernel.run("panel.send('Tell me a long story')")
    panel_kernel.run(WAIT_FOR_TEXT)

    # The stream is a task on the kernel's loop: other cells run while it streams.
    assert panel_kernel.run("print(21 * 2)") == "42\n"
    assert panel_kernel.value("[panel.busy, panel.ui.send.disabled, panel.ui.stop.disabled]") == [
        True,
        True,
        False,
    ]
    panel_kernel.run("panel.send('a second prompt while busy')")
    assert "Still answering" in panel_kernel.value("panel.ui.status.value")

    panel_kernel.run("panel.ui.stop.click()\nawait panel.wait()")
    turn = panel_kernel.value(
        "dict(state=panel.turns[-1].state, text=panel.turns[-1].text,"
        " footer=panel.turns[-1].footer.value, busy=panel.busy, turns=len(panel.turns),"
        " history=[m.content for m in panel.history])"
    )
    assert turn["state"] == "stopped"
    assert "stopped" in turn["footer"] and "partial answer kept" in turn["footer"]
    assert turn["text"] and len(turn["text"]) < len(full) and full.startswith(turn["text"])
    assert turn["busy"] is False and turn["turns"] == 1
    assert turn["history"] == ["Tell me a long story", turn["text"]]
    assert ledger_rows(ledger_file) == [("cancelled", "panel", "claude")]


def test_switching_provider_offers_its_models_and_sends_to_it(
    panel_kernel: KernelDriver, llm_emulator: LLMEmulator
) -> None:
    before = panel_kernel.value("[list(panel.ui.model.options), panel.ui.model.value]")
    assert before[1] == CLAUDE_MODEL and CLAUDE_MODEL in before[0]

    panel_kernel.run("panel.ui.provider.value = 'gpt'")
    after = panel_kernel.value(
        "[list(panel.ui.model.options), panel.ui.model.value,"
        " panel.registry.get('gpt').known_models()]"
    )
    assert after[1] == OPENAI_MODEL
    assert set(after[2]) <= set(after[0]) and OPENAI_MODEL in after[0]
    assert after[0] != before[0]

    llm_emulator.enqueue(Reply(text="from the openai side"))
    panel_kernel.run("panel.send('which api?')\nawait panel.wait()")
    assert llm_emulator.requests[-1].api == "openai"
    assert llm_emulator.requests[-1].body["model"] == OPENAI_MODEL
    assert "from the openai side" in panel_kernel.value("panel.turns[-1].answer.value")


def test_free_text_model_and_settings_reach_the_request(
    panel_kernel: KernelDriver, llm_emulator: LLMEmulator
) -> None:
    panel_kernel.run(
        "panel.ui.provider.value = 'gpt'\n"
        "panel.ui.model.value = 'gpt-4.1-nano'\n"
        "panel.ui.set_temperature.value = True\n"
        "panel.ui.temperature.value = 0.25\n"
        "panel.ui.max_tokens.value = 77\n"
        "panel.ui.system.value = 'Answer in French.'\n"
        "panel.send('Bonjour?')\nawait panel.wait()"
    )
    body = llm_emulator.requests[-1].body
    assert body["model"] == "gpt-4.1-nano"
    assert body["temperature"] == 0.25
    assert 77 in (body.get("max_tokens"), body.get("max_completion_tokens"))
    assert body["messages"][0] == {"role": "system", "content": "Answer in French."}


def test_unauthorized_error_shows_one_readable_line_and_records_an_error_row(
    panel_kernel: KernelDriver, llm_emulator: LLMEmulator, ledger_file: Path
) -> None:
    llm_emulator.enqueue(Fault.unauthorized())
    panel_kernel.run("panel.send('hello?')\nawait panel.wait()")
    turn = panel_kernel.value(
        "dict(state=panel.turns[-1].state, error=panel.turns[-1].error,"
        " footer=panel.turns[-1].footer.value, send_disabled=panel.ui.send.disabled,"
        " history=len(panel.history))"
    )
    assert turn["state"] == "error"
    assert turn["error"].startswith("AuthenticationError: ")
    assert "\n" not in turn["error"] and "sk-ant-emulated" not in turn["footer"]
    assert "AuthenticationError" in turn["footer"]
    assert turn["send_disabled"] is False and turn["history"] == 0
    assert ledger_rows(ledger_file) == [("error", "panel", "claude")]


def test_usage_tab_shows_the_ledger_summary_and_clear_forgets_the_conversation(
    panel_kernel: KernelDriver, llm_emulator: LLMEmulator
) -> None:
    llm_emulator.enqueue(Reply(text="counted"))
    panel_kernel.run("panel.send('count me')\nawait panel.wait()\npanel.ui.tabs.selected_index = 1")
    table = panel_kernel.value("panel.ui.usage_table.value")
    assert "<table" in table and "claude" in table

    panel_kernel.run("panel.ui.clear.click()")
    cleared = panel_kernel.value(
        "[len(panel.turns), len(panel.history), len(panel.ui.conversation.children),"
        " 'disabled' in panel.ui.copy.value]"
    )
    assert cleared == [0, 0, 1, True]


def test_panel_displays_as_widget_with_static_html_fallback(panel_kernel: KernelDriver) -> None:
    panel_kernel.run("panel")
    (bundle,) = panel_kernel.displayed
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert "claude" in bundle["text/html"] and "gpt" in bundle["text/html"]
    assert "<script" not in bundle["text/html"]
    assert bundle["text/plain"] == "Panel(providers=['claude', 'gpt'], turns=0)"


@pytest.mark.local_model
def test_without_config_or_key_the_panel_streams_from_the_bundled_local_model(
    default_config_kernel: KernelDriver, ledger_file: Path
) -> None:
    if importlib.util.find_spec("llama_cpp") is None:
        pytest.skip("llama-cpp-python is not installed (pip install 'orchestify_nb[local]')")
    providers = default_config_kernel.value("list(panel.registry.list_providers())")
    assert providers == ["local"]
    default_config_kernel.run(
        "panel.ui.max_tokens.value = 12\npanel.send('Name a colour.')", timeout=120
    )
    assert default_config_kernel.run("print('responsive')") == "responsive\n"
    default_config_kernel.run("await panel.wait()", timeout=300)
    turn = default_config_kernel.value(
        "dict(state=panel.turns[-1].state, text=panel.turns[-1].text,"
        " footer=panel.turns[-1].footer.value)"
    )
    assert turn["state"] == "done" and turn["text"]
    assert "out tokens" in turn["footer"]
    assert ledger_rows(ledger_file) == [("ok", "panel", "local")]
