"""What the registry tells people: the ``%llm providers`` rows and the usage summary text."""

from __future__ import annotations

import os
from dataclasses import dataclass

from orchestify_nb.providers.base import LLMProvider
from orchestify_nb.providers.types import TokenUsage
from orchestify_nb.redaction import redact_url

__all__ = ["ProviderInfo", "plural", "provider_info", "usage_text"]


@dataclass(frozen=True, slots=True)
class ProviderInfo:
    """One line of ``%llm providers``. ``key_present`` is ``None`` when no key is needed."""

    provider_id: str
    provider_type: str
    default_model: str | None
    capabilities: tuple[str, ...]
    key_present: bool | None
    base_url: str | None
    is_default: bool

    def as_row(self) -> dict[str, str]:
        """Display strings, column name -> value, for a table."""
        key = {None: "not needed", True: "yes", False: "no"}[self.key_present]
        return {
            "id": self.provider_id + (" (default)" if self.is_default else ""),
            "type": self.provider_type,
            "default model": self.default_model or "-",
            "capabilities": ", ".join(self.capabilities) or "-",
            "key": key,
            "base url": self.base_url or "-",
        }


def provider_info(provider_id: str, provider: LLMProvider, is_default: bool) -> ProviderInfo:
    """A provider's row; a key counts as present when configured or in its SDK's variable."""
    model = provider.default_model
    checks = (
        ("tools", provider.supports_tools),
        ("thinking", provider.supports_thinking),
        ("code execution", provider.supports_code_execution),
        ("images", provider.supports_images),
        ("PDFs", provider.supports_documents),
    )
    key_present: bool | None = None
    if provider.provider_type != "local":
        from_env = bool(provider.api_key_env and os.environ.get(provider.api_key_env))
        key_present = provider.has_api_key or from_env
    return ProviderInfo(
        provider_id=provider_id,
        provider_type=provider.provider_type,
        default_model=model,
        capabilities=tuple(name for name, supports in checks if supports(model)),
        key_present=key_present,
        base_url=redact_url(provider.base_url) if provider.base_url else None,
        is_default=is_default,
    )


def usage_text(usage: TokenUsage) -> str:
    """``"3 calls, 1,200 in (200 cache read) / 300 out tokens, $0.0123 (1 call unpriced)"``."""
    if not usage.call_count:
        return "no calls"
    cache = [
        f"{count:,} {label}"
        for count, label in (
            (usage.total_cache_read, "cache read"),
            (usage.total_cache_write, "cache write"),
        )
        if count
    ]
    tokens = f"{usage.total_input:,} in" + (f" ({', '.join(cache)})" if cache else "")
    tokens += f" / {usage.total_output:,} out"
    if usage.total_reasoning:
        tokens += f" ({usage.total_reasoning:,} reasoning)"
    text = f"{plural(usage.call_count, 'call')}, {tokens} tokens, ${usage.total_cost_usd:.4f}"
    extras = [
        f"{plural(count, 'call')} {label}"
        for count, label in (
            (usage.unpriced_calls, "unpriced"),
            (usage.error_count, "failed"),
            (usage.cancelled_count, "cancelled"),
        )
        if count
    ]
    return text + (f" ({'; '.join(extras)})" if extras else "")


def plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}" + ("" if count == 1 else "s")
