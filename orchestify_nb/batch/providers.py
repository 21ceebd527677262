"""Which provider a batch talks to: an instance as given, or an id from the session registry."""

from __future__ import annotations

from orchestify_nb.errors import ConfigError
from orchestify_nb.providers.base import LLMProvider


def resolve_provider(provider: LLMProvider | str | None) -> LLMProvider:
    """``provider`` itself, the registry's provider of that id, or the registry's default.

    An unknown id raises the registry's ``UnknownProviderError`` (it lists the known ids); no
    default raises ``ConfigError`` naming the session's config problem, if it has one.
    """
    if isinstance(provider, LLMProvider):
        return provider
    from orchestify_nb.session import get_session

    session = get_session()
    provider_id = provider or session.registry.default_provider_id
    if not provider_id:
        problem = (
            f" The config has a problem: {session.config_problem}" if session.config_problem else ""
        )
        raise ConfigError(
            f"no provider given and {session.config_source} names no default provider.{problem} "
            "Pass provider='<id>' (see %llm providers) or set default_provider in the config."
        )
    return session.registry.get(provider_id)
