"""What the panel says about the configured providers: picker labels and the static fallback.

The static fallback is plain HTML (no styles, no scripts) placed beside the widget view in the
panel's display bundle, so nbconvert, GitHub's preview and other widget-less viewers still show
which providers were configured, what this session spent and the conversation (rendered as
inertly as in the panel: answers are untrusted).
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import TYPE_CHECKING

from orchestify_nb.panel.usage_view import format_cost

if TYPE_CHECKING:
    from orchestify_nb.providers.base import LLMProvider
    from orchestify_nb.registry import ProviderInfo, ProviderRegistry


@dataclass(frozen=True, slots=True)
class ProviderChoice:
    """One configured provider as the picker and the summary show it: how ``%llm providers``
    describes it, plus the models to offer (its default first)."""

    info: ProviderInfo
    models: tuple[str, ...]

    @property
    def provider_id(self) -> str:
        return self.info.provider_id

    @property
    def key(self) -> str:
        return {None: "no key needed", True: "key set", False: "no key"}[self.info.key_present]

    @property
    def label(self) -> str:
        return f"{self.provider_id} · {self.info.provider_type} · {self.key}"

    @classmethod
    def of(cls, info: ProviderInfo, provider: LLMProvider) -> ProviderChoice:
        models = list(provider.known_models())
        if info.default_model and info.default_model not in models:
            models.insert(0, info.default_model)
        return cls(info=info, models=tuple(models))


def provider_choices(registry: ProviderRegistry) -> list[ProviderChoice]:
    """The registry's providers as ``%llm providers`` describes them, the default one first."""
    choices = [
        ProviderChoice.of(info, registry.get(info.provider_id)) for info in registry.describe()
    ]
    return sorted(choices, key=lambda choice: choice.provider_id != registry.default_provider_id)


def static_html(
    choices: list[ProviderChoice],
    calls: int,
    tokens: int,
    cost_usd: float | None,
    turns: list[str] | None = None,
) -> str:
    """The widget-less view: a table of providers, one line of this session's usage, and the
    conversation (``turns``, each already static HTML from ``TurnView.summary_html``)."""
    if choices:
        rows = "".join(
            "<tr>"
            f"<td>{html.escape(c.provider_id)}</td><td>{html.escape(c.info.provider_type)}</td>"
            f"<td>{html.escape(c.info.default_model or '–')}</td><td>{html.escape(c.key)}</td>"
            "</tr>"
            for c in choices
        )
        providers = (
            "<table><thead><tr><th>provider</th><th>type</th><th>default model</th>"
            f"<th>key</th></tr></thead><tbody>{rows}</tbody></table>"
        )
    else:
        providers = "<p>No providers are configured.</p>"
    usage = (
        f"<p>This session: {calls} call{'s' if calls != 1 else ''}, {tokens:,} tokens, "
        f"{html.escape(format_cost(cost_usd))}.</p>"
    )
    return (
        '<div class="orchestify-panel-static"><p><strong>orchestify_nb LLM panel</strong> '
        "(interactive in a running Jupyter kernel; this is its static summary)</p>"
        f"{providers}{usage}{''.join(turns or ())}</div>"
    )
