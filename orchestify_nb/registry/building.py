"""Building providers from a config, and checking that they answer.

Provider classes are resolved by type name and their modules imported only when a provider of
that type is built; building one imports no SDK (each provider creates its client on first use).
Every failure is reported in one ``ConfigError`` naming each provider, its line and the fix.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from orchestify_nb.errors import ConfigError, redact
from orchestify_nb.providers.base import LLMProvider
from orchestify_nb.providers.catalog import PROVIDER_CLASSES, TYPE_ONLY_SETTINGS
from orchestify_nb.redaction import url_secrets
from orchestify_nb.registry.reporting import plural

if TYPE_CHECKING:
    from orchestify_nb.config import OrchestifyConfig, ProviderConfig
    from orchestify_nb.providers.base import UsageSink

__all__ = [
    "PING_TIMEOUT_S",
    "PROVIDER_CLASSES",
    "as_config",
    "build_provider",
    "build_providers",
    "check_fresh_providers",
    "close_all",
    "ping_all",
    "ping_failures_error",
    "provider_class",
]

logger = logging.getLogger("orchestify_nb.registry")

#: A connectivity check should fail fast: no retries, and at most this long per provider.
PING_TIMEOUT_S = 15.0
_COMMON_SETTINGS = (
    "default_model",
    "max_tokens",
    "base_url",
    "timeout",
    "max_retries",
    "allow_metadata_address",
)


def provider_class(provider_type: str) -> type[LLMProvider]:
    """The class serving ``provider_type``, importing its module (never its SDK)."""
    target = PROVIDER_CLASSES.get(provider_type)
    if target is None:
        raise ConfigError(
            f"unknown provider type {provider_type!r}; known types: {', '.join(PROVIDER_CLASSES)}"
        )
    module_name, _, class_name = target.partition(":")
    cls: type[LLMProvider] = getattr(importlib.import_module(module_name), class_name)
    return cls


def as_config(
    config: OrchestifyConfig | Mapping[str, ProviderConfig] | Mapping[str, Any],
) -> OrchestifyConfig:
    """A whole config from a config, its ``providers`` mapping, or a plain mapping.

    Given a loaded config's ``providers`` (the seed's ``from_config(config.providers)``), the
    config's top-level ``pricing:`` and line numbers come along: without them a self-hosted
    model priced there would be recorded as unpriced."""
    from orchestify_nb.config import OrchestifyConfig, ProviderConfig, load_config
    from orchestify_nb.config.loader import config_of_providers

    if isinstance(config, OrchestifyConfig):
        return config
    if all(isinstance(value, ProviderConfig) for value in config.values()):
        whole = OrchestifyConfig(providers=dict(config))
        origin = config_of_providers(config)
        if origin is not None:
            whole.pricing = dict(origin.pricing)
            whole._source, whole._lines = origin.source, dict(origin._lines)
        return whole
    return load_config(config if "providers" in config else {"providers": config})


def build_provider(
    config: OrchestifyConfig, provider_id: str, usage_sink: UsageSink | None, **changes: Any
) -> LLMProvider:
    """One provider from its config entry; unset settings keep the provider's own defaults.
    Extra headers (``headers:`` and ``options.extra_headers``) reach the provider as
    ``headers=``, still secret, for its SDK client to send with every request."""
    settings = config.providers[provider_id]
    kwargs: dict[str, Any] = {
        "provider_id": provider_id,
        "api_key": settings.api_key,
        "pricing": config.provider_pricing(provider_id),
        "options": settings.request_options(),
        "usage_sink": usage_sink,
    }
    headers = settings.client_headers()
    if headers:
        kwargs["headers"] = headers
    names = _COMMON_SETTINGS + TYPE_ONLY_SETTINGS.get(settings.type, ())
    kwargs.update(
        {name: getattr(settings, name) for name in names if getattr(settings, name) is not None}
    )
    kwargs.update(changes)
    return provider_class(settings.type)(**kwargs)


def build_providers(
    config: OrchestifyConfig, usage_sink: UsageSink | None
) -> tuple[dict[str, LLMProvider], ConfigError | None]:
    """Every provider that can be built, and one error naming those that could not."""
    built: dict[str, LLMProvider] = {}
    failures: list[tuple[str, str]] = []
    for provider_id in config.providers:
        try:
            built[provider_id] = build_provider(config, provider_id, usage_sink)
        except Exception as error:
            failures.append((provider_id, f"{type(error).__name__}: {str(error).rstrip('.')}"))
    if not failures:
        return built, None
    fix = "install what is missing or correct the settings named, or remove the provider"
    return built, _failures_error(config, failures, "could not be built", fix)


async def ping_all(providers: Mapping[str, LLMProvider]) -> list[tuple[str, str]]:
    """One ``max_tokens=1`` request per provider, concurrently; the failures, in order."""

    async def ping(provider: LLMProvider) -> None:
        await asyncio.wait_for(provider.complete("ping", max_tokens=1), PING_TIMEOUT_S)

    results = await asyncio.gather(
        *(ping(provider) for provider in providers.values()), return_exceptions=True
    )
    failures = []
    for (provider_id, provider), result in zip(providers.items(), results, strict=True):
        if isinstance(result, BaseException):
            if not isinstance(result, Exception):
                raise result
            reason = f"{type(result).__name__}: {str(result).rstrip('.')}"
            if isinstance(result, TimeoutError):
                reason = f"no answer within {PING_TIMEOUT_S:g} s"
            failures.append((provider_id, redact(reason, provider._secret_values())))
    return failures


def ping_failures_error(
    config: OrchestifyConfig | None, failures: list[tuple[str, str]]
) -> ConfigError:
    fix = (
        "check each one's api_key, base_url and default_model, or build the registry with "
        "validate_connectivity=False"
    )
    return _failures_error(config, failures, "failed the connectivity check", fix)


async def check_fresh_providers(
    config: OrchestifyConfig, provider_ids: list[str], usage_sink: UsageSink | None
) -> None:
    """Ping with throwaway copies that never retry, closed on the loop that opened them; the
    calls are recorded (they cost a few tokens) with the tag ``connectivity-check``."""
    from orchestify_nb.usage.context import call_context

    fresh = {pid: build_provider(config, pid, usage_sink, max_retries=0) for pid in provider_ids}
    try:
        with call_context(tag="connectivity-check"):
            failures = await ping_all(fresh)
    finally:
        await close_all(fresh)
    if failures:
        raise ping_failures_error(config, failures)


async def close_all(providers: Mapping[str, LLMProvider]) -> None:
    """Close every provider's connections; a failure to close is logged, not raised."""
    results = await asyncio.gather(
        *(provider.aclose() for provider in providers.values()), return_exceptions=True
    )
    for provider_id, result in zip(providers, results, strict=True):
        if isinstance(result, BaseException):
            logger.warning("closing provider %r failed: %r", provider_id, result)


def _failures_error(
    config: OrchestifyConfig | None, failures: list[tuple[str, str]], what: str, fix: str
) -> ConfigError:
    """One paragraph: which providers failed, where each is defined, why, and what to do."""
    parts = []
    for provider_id, reason in failures:
        line = config.line_of(("providers", provider_id)) if config is not None else None
        at = f" (line {line})" if line is not None else ""
        parts.append(f"{provider_id!r}{at}: {reason}")
    total = len(config.providers) if config is not None else len(failures)
    source = f" in {config.source}" if config is not None and config.source else ""
    text = (
        f"{len(failures)} of {plural(total, 'provider')}{source} {what}: "
        f"{'; '.join(parts)}. Fix: {fix}."
    )
    return ConfigError(redact(text, _config_secrets(config)))


def _config_secrets(config: OrchestifyConfig | None) -> list[str]:
    """Every secret the providers' config holds: keys, header values, credentials in URLs."""
    secrets: list[str] = []
    for provider in config.providers.values() if config is not None else ():
        if provider.api_key is not None:
            secrets.append(provider.api_key.get_secret_value())
        secrets.extend(value.get_secret_value() for value in provider.client_headers().values())
        if provider.base_url:
            secrets.extend(url_secrets(provider.base_url))
    return secrets
