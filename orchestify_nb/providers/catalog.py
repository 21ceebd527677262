"""The backends: one line per provider type, and the settings only one type takes.

A new backend is its module plus one line in ``PROVIDER_CLASSES``: the config accepts the type,
the registry builds it, and nothing else lists the types. Only strings live here, so the config
can read the list without importing any provider.
"""

from __future__ import annotations

__all__ = ["PROVIDER_CLASSES", "TYPE_ONLY_SETTINGS"]

#: Provider type -> "module:Class", imported on first use.
PROVIDER_CLASSES: dict[str, str] = {
    "anthropic": "orchestify_nb.providers.claude:ClaudeProvider",
    "openai": "orchestify_nb.providers.openai_provider:OpenAIProvider",
    "litellm": "orchestify_nb.providers.litellm_provider:LiteLLMProvider",
    "local": "orchestify_nb.providers.local:LocalProvider",
}

#: Config settings that only one type takes, passed to its constructor as they are.
TYPE_ONLY_SETTINGS: dict[str, tuple[str, ...]] = {
    "local": ("model_path", "n_ctx", "n_threads", "prompt_format"),
}
