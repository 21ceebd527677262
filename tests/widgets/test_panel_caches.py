"""``Panel(cache=..., cache_prompt=...)`` in a real kernel: the panel's calls use the response
cache's mode it was given, and ask the provider's prompt cache."""

from __future__ import annotations

import pytest

from orchestify_nb.testing import LLMEmulator
from tests.widgets.kernels import KernelDriver

pytestmark = pytest.mark.kernel


def test_a_replay_panel_with_nothing_recorded_says_so_and_sends_nothing(
    panel_kernel: KernelDriver, llm_emulator: LLMEmulator
) -> None:
    panel_kernel.run(
        "from orchestify_nb import Panel\n"
        "replaying = Panel(cache='replay')\n"
        "replaying.send('Never asked before')\n"
        "await replaying.wait()"
    )

    footer = panel_kernel.value("replaying.turns[-1].footer.value")
    assert "cache=replay" in footer
    assert llm_emulator.requests == []


def test_a_panel_with_cache_prompt_marks_its_requests_for_the_prompt_cache(
    panel_kernel: KernelDriver, llm_emulator: LLMEmulator
) -> None:
    panel_kernel.run(
        "from orchestify_nb import Panel\n"
        "caching = Panel(cache_prompt='1h')\n"
        "caching.ui.system.value = 'Answer as the company handbook says. ' * 330\n"
        "caching.send('Travel policy?')\n"
        "await caching.wait()"
    )

    (request,) = llm_emulator.requests
    assert request.body["system"][-1]["cache_control"] == {"type": "ephemeral", "ttl": "1h"}


def test_a_panel_refuses_an_unknown_cache_mode_when_it_is_made(panel_kernel: KernelDriver) -> None:
    panel_kernel.run(
        "from orchestify_nb import Panel\n"
        "try:\n"
        "    Panel(cache='sometimes')\n"
        "except Exception as error:\n"
        "    refusal = str(error)"
    )

    assert "'sometimes' is not a cache mode" in str(panel_kernel.value("refusal"))
