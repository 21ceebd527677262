"""orchestify_nb: call LLMs from Jupyter as naturally as pandas.

``%load_ext orchestify_nb`` registers the ``%%llm`` / ``%llm`` magics. In Python, build a
``ProviderRegistry`` from a config and ``await provider.complete(...)``.

Every public name is importable from here, but each is loaded on first use, so importing the
package (and ``%load_ext``) stays fast and imports no SDK, pandas or ipywidgets.
"""

from __future__ import annotations

import importlib
import logging
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# A library logs; the application decides where it goes. Without this, Python's last-resort
# handler would print our warnings to stderr under every failed cell.
logging.getLogger("orchestify_nb").addHandler(logging.NullHandler())

_EXPORTS: dict[str, str] = {
    # provider layer
    "LLMMessage": "orchestify_nb.providers.types",
    "LLMResponse": "orchestify_nb.providers.types",
    "TokenUsage": "orchestify_nb.providers.types",
    "StreamEvent": "orchestify_nb.providers.types",
    "ToolCall": "orchestify_nb.providers.types",
    "ToolCallDelta": "orchestify_nb.providers.types",
    "ToolSpec": "orchestify_nb.providers.types",
    "TextPart": "orchestify_nb.providers.content",
    "ImagePart": "orchestify_nb.providers.content",
    "DocumentPart": "orchestify_nb.providers.content",
    "LLMProvider": "orchestify_nb.providers.base",
    "ClaudeProvider": "orchestify_nb.providers.claude",
    "OpenAIProvider": "orchestify_nb.providers.openai_provider",
    "LiteLLMProvider": "orchestify_nb.providers.litellm_provider",
    "LocalProvider": "orchestify_nb.providers.local",
    "ProviderRegistry": "orchestify_nb.registry",
    "UnknownProviderError": "orchestify_nb.registry",
    # errors
    "OrchestifyError": "orchestify_nb.errors",
    "ConfigError": "orchestify_nb.errors",
    "ProviderError": "orchestify_nb.errors",
    "AuthenticationError": "orchestify_nb.errors",
    "RateLimitError": "orchestify_nb.errors",
    "OverloadedError": "orchestify_nb.errors",
    "ProviderTimeoutError": "orchestify_nb.errors",
    "ProviderConnectionError": "orchestify_nb.errors",
    "BadRequestError": "orchestify_nb.errors",
    "ContentFilterError": "orchestify_nb.errors",
    "ModelNotSupportedError": "orchestify_nb.errors",
    "UnsupportedOptionError": "orchestify_nb.errors",
    "UnsupportedContentError": "orchestify_nb.errors",
    "BudgetExceededError": "orchestify_nb.errors",
    "MissingDependencyError": "orchestify_nb.errors",
    # config, pricing, usage
    "load_config": "orchestify_nb.config",
    "OrchestifyConfig": "orchestify_nb.config",
    "default_config": "orchestify_nb.config",
    "discover_config": "orchestify_nb.config",
    "ModelPrice": "orchestify_nb.pricing",
    "PriceQuote": "orchestify_nb.pricing",
    "price_call": "orchestify_nb.pricing",
    "UsageRecord": "orchestify_nb.usage.record",
    "call_context": "orchestify_nb.usage.context",
    "Ledger": "orchestify_nb.usage.ledger",
    "Budget": "orchestify_nb.usage.budgets",
    "BudgetWarning": "orchestify_nb.usage.budgets",
    "get_default_ledger": "orchestify_nb.usage",
    "set_default_ledger": "orchestify_nb.usage",
    # notebook layer
    "run_sync": "orchestify_nb.runtime",
    "Panel": "orchestify_nb.widgets",
    "run_batch": "orchestify_nb.batch",
    "run_batch_sync": "orchestify_nb.batch",
    "compare": "orchestify_nb.batch",
    # tools
    "tool": "orchestify_nb.tools",
    "Tool": "orchestify_nb.tools",
    "ToolRun": "orchestify_nb.tools",
    "run_tools": "orchestify_nb.tools",
    "run_tools_sync": "orchestify_nb.tools",
    "mcp_tools": "orchestify_nb.session",
    "ToolError": "orchestify_nb.errors",
    "ToolDefinitionError": "orchestify_nb.errors",
    "MCPServerError": "orchestify_nb.errors",
}

__all__ = [*_EXPORTS, "__version__", "load_ipython_extension", "unload_ipython_extension"]

if TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'orchestify_nb' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


def load_ipython_extension(ipython: InteractiveShell) -> None:
    """``%load_ext orchestify_nb``: register the magics and load the config (never fails on it)."""
    from orchestify_nb.magics import load_extension

    load_extension(ipython)


def unload_ipython_extension(ipython: InteractiveShell) -> None:
    """``%unload_ext orchestify_nb``: remove everything loading added."""
    from orchestify_nb.magics import unload_extension

    unload_extension(ipython)
