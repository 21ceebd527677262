"""The panel's widgets and how they sit together; behaviour lives in ``orchestify_nb.panel.panel``.

```
 orchestify_nb · LLM panel                      This session: 3 calls · 1,234 tokens · $0.0012
 [ Chat | Usage ]
   Provider [claude · anthropic · key set v]  Model [claude-sonnet-4-5      ]
   Temperature [----o----] 1.00 [ ] override default   Max tokens [1024]
   System prompt [                                                        ]
   +- conversation (newest at the bottom, scrolls) -----------------------+
   status line (errors before a call starts)
   Prompt [                                                               ]
   [Send] [Stop] [Clear] [Copy to new cell]
```
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import ipywidgets as widgets

from orchestify_nb.panel.copy_cell import copy_button_html
from orchestify_nb.panel.summary import ProviderChoice
from orchestify_nb.panel.theme import PANEL_CSS

EMPTY_CONVERSATION = (
    '<div class="onb-empty">No messages yet: pick a provider, type a prompt below and press '
    "Send. Answers stream here; Stop keeps what has arrived.</div>"
)
_LABEL_WIDTH = "84px"


@dataclass(slots=True)
class PanelWidgets:
    """Every widget of one panel, by role. Tests and scripts drive the panel through these."""

    root: widgets.VBox
    tabs: widgets.Tab
    usage_strip: widgets.HTML
    provider: widgets.Dropdown
    model: widgets.Combobox
    set_temperature: widgets.Checkbox
    temperature: widgets.FloatSlider
    max_tokens: widgets.BoundedIntText
    system: widgets.Textarea
    conversation: widgets.VBox
    empty: widgets.HTML
    status: widgets.HTML
    prompt: widgets.Textarea
    send: widgets.Button
    stop: widgets.Button
    clear: widgets.Button
    copy: widgets.HTML
    usage_table: widgets.HTML
    usage_refresh: widgets.Button


def _labelled(description: str, **layout: str) -> dict[str, object]:
    return {
        "description": description,
        "style": {"description_width": _LABEL_WIDTH},
        "layout": widgets.Layout(**layout),
    }


def _settings(choices: list[ProviderChoice]) -> dict[str, Any]:
    """The provider, model and parameter widgets, by their ``PanelWidgets`` names."""
    first = choices[0] if choices else None
    return {
        "provider": widgets.Dropdown(
            options=[(choice.label, choice.provider_id) for choice in choices],
            value=first.provider_id if first else None,
            disabled=not choices,
            **_labelled("Provider", width="50%", min_width="300px"),
        ),
        "model": widgets.Combobox(
            options=first.models if first else (),
            value=(first.info.default_model or "") if first else "",
            placeholder="model name (any the provider accepts)",
            ensure_option=False,
            **_labelled("Model", width="46%", min_width="260px"),
        ),
        "temperature": widgets.FloatSlider(
            value=1.0,
            min=0.0,
            max=2.0,
            step=0.05,
            readout_format=".2f",
            disabled=True,
            **_labelled("Temperature", width="36%", min_width="260px"),
        ),
        "set_temperature": widgets.Checkbox(
            value=False,
            description="override default",
            indent=False,
            tooltip="Unticked, the provider's own default temperature is used",
            layout=widgets.Layout(width="150px"),
        ),
        "max_tokens": widgets.BoundedIntText(
            value=1024, min=1, max=1_000_000, **_labelled("Max tokens", width="210px")
        ),
        "system": widgets.Textarea(
            placeholder="Optional system prompt", rows=1, **_labelled("System", width="98%")
        ),
    }


def _conversation() -> tuple[dict[str, Any], widgets.VBox]:
    """The conversation widgets and the scroller that shows them.

    Turns in order, oldest first: appending one leaves the views of the others (and their
    opened thinking) alone. The scroller's column-reverse keeps the newest turn in view.
    """
    empty = widgets.HTML(EMPTY_CONVERSATION)
    conversation = widgets.VBox([empty])
    scroller = widgets.VBox(
        [conversation],
        layout=widgets.Layout(
            flex_flow="column-reverse", max_height="440px", overflow_y="auto", width="98%"
        ),
    )
    scroller.add_class("onb-conversation")
    return {"empty": empty, "conversation": conversation}, scroller


def _actions(choices: list[ProviderChoice]) -> dict[str, Any]:
    """Status line, prompt and the Send/Stop/Clear/Copy buttons."""
    return {
        "status": widgets.HTML(layout=widgets.Layout(display="none")),
        "prompt": widgets.Textarea(
            placeholder="Ask something… (Markdown answers, streamed)",
            rows=3,
            **_labelled("Prompt", width="98%"),
        ),
        "send": widgets.Button(
            description="Send", button_style="primary", icon="paper-plane", disabled=not choices
        ),
        "stop": widgets.Button(
            description="Stop", button_style="warning", icon="stop", disabled=True
        ),
        "clear": widgets.Button(
            description="Clear", icon="trash", tooltip="Forget the conversation"
        ),
        "copy": widgets.HTML(copy_button_html(None)),
    }


def build_widgets(choices: list[ProviderChoice]) -> PanelWidgets:
    """All widgets, laid out, with nothing wired yet."""
    settings = _settings(choices)
    shown, scroller = _conversation()
    actions = _actions(choices)
    buttons = widgets.HBox(
        [actions[name] for name in ("send", "stop", "clear", "copy")],
        layout=widgets.Layout(margin=f"4px 0 0 {_LABEL_WIDTH}", align_items="center"),
    )
    chat = widgets.VBox(
        [
            widgets.HBox(
                [settings["provider"], settings["model"]],
                layout=widgets.Layout(flex_flow="row wrap"),
            ),
            widgets.HBox(
                [settings["temperature"], settings["set_temperature"], settings["max_tokens"]],
                layout=widgets.Layout(flex_flow="row wrap", align_items="center"),
            ),
            settings["system"],
            scroller,
            actions["status"],
            actions["prompt"],
            buttons,
        ]
    )
    usage_table = widgets.HTML('<div class="onb-empty">Open this tab to read the ledger.</div>')
    usage_refresh = widgets.Button(description="Refresh", icon="refresh")
    tabs = widgets.Tab(
        children=[chat, widgets.VBox([usage_refresh, usage_table])], titles=("Chat", "Usage")
    )
    header = widgets.HTML(
        f'<style>{PANEL_CSS}</style><div class="onb-title">orchestify_nb · LLM panel</div>'
    )
    usage_strip = widgets.HTML()
    top = widgets.HBox(
        [header, usage_strip],
        layout=widgets.Layout(justify_content="space-between", align_items="baseline"),
    )
    top.add_class("onb-header")
    root = widgets.VBox([top, tabs])
    root.add_class("onb-panel")
    return PanelWidgets(
        root=root,
        tabs=tabs,
        usage_strip=usage_strip,
        usage_table=usage_table,
        usage_refresh=usage_refresh,
        **settings,
        **shown,
        **actions,
    )
