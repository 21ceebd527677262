"""``Panel(tools=..., approve="ask")`` in a real kernel: a selector of the tools, each call shown
in the answer as it runs, and Approve / Deny buttons that the loop waits for; a denied call never
runs and the model is told."""

from __future__ import annotations

import pytest

from orchestify_nb.providers.types import ToolCall
from orchestify_nb.testing import LLMEmulator, Reply
from tests.widgets.kernels import KernelDriver

pytestmark = pytest.mark.kernel

SETUP = """
import asyncio
from orchestify_nb import Panel
calls = []
def get_weather(city: str) -> str:
    \"\"\"Current weather for a city.\"\"\"
    calls.append(city)
    return f"{city}: 18 C, light rain"
def get_time(city: str) -> str:
    \"\"\"Local time in a city.\"\"\"
    return "12:00"
asking = Panel(tools=[get_weather, get_time], approve="ask")
"""
WAIT_FOR_QUESTION = """
asking.send("Weather in Oslo?")
for _ in range(200):
    await asyncio.sleep(0.05)
    if asking.tools.waiting:
        break
"""


def script(emulator: LLMEmulator, answer: str) -> None:
    call = ToolCall(id="c1", name="get_weather", arguments={"city": "Oslo"})
    emulator.enqueue(Reply(text="Checking.", tool_calls=[call]), Reply(text=answer))


def test_an_approved_call_runs_and_its_step_shows_in_the_answer(
    panel_kernel: KernelDriver, llm_emulator: LLMEmulator
) -> None:
    panel_kernel.run(SETUP)
    script(llm_emulator, "Oslo: light rain.")
    panel_kernel.run(WAIT_FOR_QUESTION)

    assert panel_kernel.value("asking.tools.waiting") is True
    assert panel_kernel.value("calls") == []  # nothing runs before the click
    question = panel_kernel.value("asking.tools.question.value")
    assert "get_weather" in question and "Oslo" in question
    assert panel_kernel.value("list(asking.tools.selector.options)") == ["get_weather", "get_time"]

    panel_kernel.run("asking.tools.approve_button.click()\nawait asking.wait()")

    assert panel_kernel.value("calls") == ["Oslo"]
    steps = panel_kernel.value("asking.turns[-1].steps_html.value")
    assert "get_weather" in steps and "Oslo: 18 C, light rain" in steps and "Checking." in steps
    assert "Oslo: light rain." in panel_kernel.value("asking.turns[-1].answer.value")
    assert panel_kernel.value("[m.role for m in asking.history]") == [
        "user",
        "assistant",
        "tool",
        "assistant",
    ]


def test_a_denied_call_never_runs_and_the_model_is_told(
    panel_kernel: KernelDriver, llm_emulator: LLMEmulator
) -> None:
    panel_kernel.run(SETUP)
    script(llm_emulator, "I was not allowed.")
    panel_kernel.run(WAIT_FOR_QUESTION)

    panel_kernel.run("asking.tools.deny_button.click()\nawait asking.wait()")

    assert panel_kernel.value("calls") == []
    assert "denied" in str(llm_emulator.requests[-1].body["messages"])
    assert "I was not allowed." in panel_kernel.value("asking.turns[-1].answer.value")


def test_unticked_tools_are_not_offered(
    panel_kernel: KernelDriver, llm_emulator: LLMEmulator
) -> None:
    panel_kernel.run(SETUP + "asking.tools.selector.value = ('get_time',)\n")
    llm_emulator.enqueue(Reply(text="It is noon."))

    panel_kernel.run("asking.send('Time in Oslo?')\nawait asking.wait()")

    offered = [tool["name"] for tool in llm_emulator.requests[-1].body["tools"]]
    assert offered == ["get_time"]
