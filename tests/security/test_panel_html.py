"""The panel is saved with a notebook twice over: its static HTML fallback (``to_html``, part of
its MIME bundle) and the widget state Jupyter embeds. After a rejected key and an answer from
every backend, neither holds a key."""

from __future__ import annotations

import json

from ipywidgets.embed import embed_snippet

from orchestify_nb.testing import Fault, LLMEmulator
from orchestify_nb.widgets import Panel
from tests.security.conftest import RegistryFactory
from tests.security.leaks import BACKENDS, FakeKeys, assert_no_key


async def test_panel_html_bundle_and_widget_state_hold_no_key_after_failed_and_good_answers(
    keys: FakeKeys, llm_emulator: LLMEmulator, make_registry: RegistryFactory
) -> None:
    panel = Panel(make_registry())
    for backend in BACKENDS:
        panel.ui.provider.value = backend.provider_id
        llm_emulator.enqueue(Fault.unauthorized())
        panel.send("Tell me a secret.")
        await panel.wait()
        panel.send(f"Hello from {backend.provider_id}.")
        await panel.wait()

    widget_state = embed_snippet([panel.ui.root], drop_defaults=False)
    assert widget_state.count("API key was rejected") >= len(BACKENDS)
    assert all(f"Hello from {b.provider_id}." in widget_state for b in BACKENDS)
    shown = {
        "Panel.to_html()": panel.to_html(),
        "Panel._repr_mimebundle_()": json.dumps(panel._repr_mimebundle_()),
        "repr(panel)": repr(panel),
        "embedded widget state": widget_state,
    }
    for where, text in shown.items():
        assert_no_key(text, keys.all, where)
