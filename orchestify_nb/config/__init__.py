"""Configuration: YAML (or a mapping) -> validated pydantic models, with errors that name the
file, the line, the key and the fix.

``load_config(path_or_mapping)`` reads one config; ``discover_config()`` finds the user's (or
falls back to the embedded default, never raising); ``default_config()`` is that default.
"""

from __future__ import annotations

from orchestify_nb.config.loader import (
    CONFIG_ENV,
    CONFIG_FILENAME,
    EMBEDDED_DEFAULT_SOURCE,
    config_search_path,
    default_config,
    discover_config,
    load_config,
)
from orchestify_nb.config.models import (
    PROVIDER_TYPES,
    AgentConfig,
    BudgetLimits,
    BudgetsConfig,
    LedgerConfig,
    OrchestifyConfig,
    ProviderConfig,
    ProviderType,
)
from orchestify_nb.pricing import ModelPrice

__all__ = [
    "CONFIG_ENV",
    "CONFIG_FILENAME",
    "EMBEDDED_DEFAULT_SOURCE",
    "PROVIDER_TYPES",
    "AgentConfig",
    "BudgetLimits",
    "BudgetsConfig",
    "LedgerConfig",
    "ModelPrice",
    "OrchestifyConfig",
    "ProviderConfig",
    "ProviderType",
    "config_search_path",
    "default_config",
    "discover_config",
    "load_config",
]
