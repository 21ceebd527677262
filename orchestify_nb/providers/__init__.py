"""The async provider layer: one API over the Anthropic, OpenAI, LiteLLM and local backends.

Concrete providers are imported on first use so that importing this package imports no SDK.
"""

from __future__ import annotations

import importlib
from typing import Any

from orchestify_nb.providers.base import LLMProvider
from orchestify_nb.providers.types import (
    LLMMessage,
    LLMRequest,
    LLMResponse,
    StreamEvent,
    TokenUsage,
    ToolCall,
    ToolCallDelta,
    ToolSpec,
)

_LAZY = {
    "ClaudeProvider": "orchestify_nb.providers.claude",
    "OpenAIProvider": "orchestify_nb.providers.openai_provider",
    "LiteLLMProvider": "orchestify_nb.providers.litellm_provider",
    "LocalProvider": "orchestify_nb.providers.local",
    "ProviderRegistry": "orchestify_nb.providers.registry",
}

__all__ = [
    "LLMMessage",
    "LLMProvider",
    "LLMRequest",
    "LLMResponse",
    "StreamEvent",
    "TokenUsage",
    "ToolCall",
    "ToolCallDelta",
    "ToolSpec",
    *_LAZY,
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'orchestify_nb.providers' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
