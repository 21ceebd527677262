"""The async provider layer: one API over the Anthropic, OpenAI, LiteLLM and local backends.

Every name is imported on first use: importing ``orchestify_nb.providers.types`` must not pull in
pydantic (the base class) or any SDK (the concrete providers).
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "LLMProvider": "orchestify_nb.providers.base",
    "LLMMessage": "orchestify_nb.providers.types",
    "LLMRequest": "orchestify_nb.providers.types",
    "LLMResponse": "orchestify_nb.providers.types",
    "StreamEvent": "orchestify_nb.providers.types",
    "TokenUsage": "orchestify_nb.providers.types",
    "ToolCall": "orchestify_nb.providers.types",
    "ToolCallDelta": "orchestify_nb.providers.types",
    "ToolSpec": "orchestify_nb.providers.types",
    "ClaudeProvider": "orchestify_nb.providers.claude",
    "OpenAIProvider": "orchestify_nb.providers.openai_provider",
    "LiteLLMProvider": "orchestify_nb.providers.litellm_provider",
    "LocalProvider": "orchestify_nb.providers.local",
    "ProviderRegistry": "orchestify_nb.registry",
}

__all__ = list(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'orchestify_nb.providers' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
