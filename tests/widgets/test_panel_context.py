"""The panel's context picker in a real kernel: the notebook's variables are offered (never a
module, a function, the environment or a secret), an attached one shows its token cost before
Send and reaches the model rendered as ``@{name}`` would be, a figure as an image part."""

from __future__ import annotations

import pytest

from orchestify_nb.testing import LLMEmulator, Reply
from orchestify_nb.testing.media import media_of
from tests.widgets.kernels import KernelDriver

pytestmark = pytest.mark.kernel

SETUP = """
import os
import pandas as pd
from pydantic import SecretStr
from matplotlib.figure import Figure
orders = pd.DataFrame({"region": ["north", "south"] * 50, "units": range(100)})
fig = Figure(figsize=(3, 2), dpi=100)
fig.add_subplot().plot([1, 4, 2])
key = SecretStr("sk-never-attached")
environment = os.environ
def helper(): pass
panel.context.refresh()
"""


def test_only_data_is_offered_and_the_cost_shows_before_send(panel_kernel: KernelDriver) -> None:
    panel_kernel.run(SETUP)

    offered = panel_kernel.value("[name for _, name in panel.context.selector.options]")
    assert set(offered) >= {"orders", "fig"}
    assert not set(offered) & {"os", "key", "environment", "helper", "In", "Out", "pd"}
    assert "nothing attached" in str(panel_kernel.value("panel.context.cost.value"))

    panel_kernel.run("panel.context.selector.value = ('orders', 'fig')")

    cost = str(panel_kernel.value("panel.context.cost.value"))
    assert "orders (DataFrame, " in cost and "fig (matplotlib figure, 80 tokens)" in cost
    assert "tokens in all" in cost


def test_attached_variables_reach_the_model_and_stay_in_the_conversation(
    panel_kernel: KernelDriver, llm_emulator: LLMEmulator
) -> None:
    llm_emulator.enqueue(Reply(text="North and south."), Reply(text="Still two."))
    panel_kernel.run(
        SETUP + "panel.context.selector.value = ('orders', 'fig')\n"
        "panel.send('Which regions are there?')\n"
        "await panel.wait()\n"
        "panel.context.selector.value = ()\n"
        "panel.send('And now?')\n"
        "await panel.wait()"
    )

    first, second = (request.body for request in llm_emulator.requests)
    content = first["messages"][-1]["content"]
    text = "".join(block.get("text", "") for block in content)
    assert text.startswith("Which regions are there?\n\nContext from the notebook:")
    assert "DataFrame with 100 rows and 2 columns." in text and "- units: int64" in text
    assert [kind for kind, _ in media_of(first)] == ["image/png"]
    # the follow-up carries the first turn as it was sent, context included
    assert media_of(second) == media_of(first)
    shown = str(panel_kernel.value("panel.turns[0].prompt_html.value"))
    assert "context: orders (DataFrame, " in shown and "fig (matplotlib figure, 80 tokens)" in shown


def test_a_variable_gone_since_it_was_picked_stops_the_send_with_one_line(
    panel_kernel: KernelDriver, llm_emulator: LLMEmulator
) -> None:
    panel_kernel.run(SETUP + "panel.context.selector.value = ('orders',)\ndel orders")

    task = panel_kernel.value("repr(panel.send('Which regions?'))")

    assert task == "None" and llm_emulator.requests == []
    status = str(panel_kernel.value("panel.ui.status.value"))
    assert "orders is no longer defined in the notebook; Refresh" in status


def test_send_attaches_a_variable_as_it_is_now_even_when_changed_in_place(
    panel_kernel: KernelDriver, llm_emulator: LLMEmulator
) -> None:
    llm_emulator.enqueue(Reply(text="Noted."))
    panel_kernel.run(
        SETUP + "panel.context.selector.value = ('orders',)\n"  # rendered for the cost here
        "orders['units'] = orders['units'] * 1000 + 123456\n"  # the same object, changed
        "panel.send('Summarise.')\n"
        "await panel.wait()"
    )

    content = llm_emulator.requests[-1].body["messages"][-1]["content"]
    text = content if isinstance(content, str) else "".join(b.get("text", "") for b in content)
    assert "123456" in text
