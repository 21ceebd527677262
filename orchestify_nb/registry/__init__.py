"""The providers of a session by id: built from a config, found by id or agent, summed for usage.

``ProviderRegistry.from_config(load_config("providers.yaml"))`` builds every configured provider
(importing no SDK); ``get(id)``, ``get_for_agent(agent)`` and ``resolve_agent(agent)`` find them;
``get_usage_summary()`` and ``describe()`` report on them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from orchestify_nb.errors import ConfigError
from orchestify_nb.providers.base import LLMProvider
from orchestify_nb.providers.types import TokenUsage
from orchestify_nb.registry.building import (
    PROVIDER_CLASSES,
    as_config,
    build_providers,
    check_fresh_providers,
    close_all,
    ping_all,
    ping_failures_error,
    provider_class,
)
from orchestify_nb.registry.reporting import (
    ProviderInfo,
    plural,
    provider_info,
    usage_text,
)

if TYPE_CHECKING:
    from orchestify_nb.config import AgentConfig, OrchestifyConfig, ProviderConfig
    from orchestify_nb.providers.base import UsageSink

__all__ = [
    "PROVIDER_CLASSES",
    "ProviderInfo",
    "ProviderRegistry",
    "UnknownAgentError",
    "UnknownProviderError",
    "provider_class",
]


class UnknownProviderError(ConfigError, KeyError):
    """No provider is registered under the id asked for; the message lists the known ids."""

    def __str__(self) -> str:  # KeyError would quote the whole message
        return str(self.args[0]) if self.args else ""


class UnknownAgentError(ConfigError, KeyError):
    """No agent of that name is configured; the message lists the known agents."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class ProviderRegistry:
    """Providers by id, the agents that use them, and which one is the default.

    ``from_config`` builds one from a config; ``register`` adds providers made by hand.
    """

    def __init__(
        self,
        providers: Mapping[str, LLMProvider] | None = None,
        *,
        agents: Mapping[str, AgentConfig] | None = None,
        default_provider: str | None = None,
        config: OrchestifyConfig | None = None,
    ) -> None:
        self._providers: dict[str, LLMProvider] = dict(providers or {})
        self._agents: dict[str, AgentConfig] = dict(agents or {})
        self._default_provider = default_provider
        self.config = config
        #: Why some configured providers are missing (``from_config(..., strict=False)``).
        self.build_problem: ConfigError | None = None

    # ------------------------------------------------------------------------------ building
    @classmethod
    def from_config(
        cls,
        config: OrchestifyConfig | Mapping[str, ProviderConfig] | Mapping[str, Any],
        validate_connectivity: bool = False,
        *,
        usage_sink: UsageSink | None = None,
        strict: bool = True,
    ) -> ProviderRegistry:
        """Build every provider of a config: an ``OrchestifyConfig``, its ``.providers``, or a
        plain mapping (validated like a file).

        A provider that cannot be built raises ``ConfigError`` naming it and its line; with
        ``strict=False`` it is left out instead and the reason kept in ``build_problem``.
        ``validate_connectivity=True`` then sends one tiny request per provider (through copies
        that do not retry) and raises one ``ConfigError`` naming every provider that failed.
        """
        full = as_config(config)
        built, problem = build_providers(full, usage_sink)
        if problem is not None and strict:
            raise problem
        registry = cls(
            built,
            agents=full.agents,
            default_provider=full.resolved_default_provider(),
            config=full,
        )
        registry.build_problem = problem
        if validate_connectivity:
            from orchestify_nb.runtime import run_sync

            run_sync(check_fresh_providers(full, list(built), usage_sink))
        return registry

    def register(self, provider_id: str, provider: LLMProvider) -> None:
        """Add (or replace) a provider under ``provider_id``."""
        if not isinstance(provider, LLMProvider):
            raise TypeError(f"expected an LLMProvider, got {type(provider).__name__}")
        self._providers[provider_id] = provider

    # ------------------------------------------------------------------------------- finding
    def get(self, provider_id: str | None = None) -> LLMProvider:
        """The provider registered as ``provider_id`` (the default provider when ``None``)."""
        wanted = provider_id if provider_id is not None else self.default_provider_id
        if wanted is not None and wanted in self._providers:
            return self._providers[wanted]
        if wanted is None:
            raise UnknownProviderError(
                "No provider is configured; add one under providers: in the config "
                "(examples/providers.yaml shows how) or register one"
            )
        from orchestify_nb.config.models import did_you_mean

        raise UnknownProviderError(
            f"No provider {wanted!r}{did_you_mean(wanted, list(self._providers))}; "
            f"registered providers: {', '.join(self._providers) or 'none'}. Use one of those "
            f"ids, or add {wanted!r} to the providers: section of the config"
        )

    def resolve_agent(
        self, agent_id: str, agents_config: Mapping[str, AgentConfig] | None = None
    ) -> tuple[LLMProvider, AgentConfig]:
        """The provider an agent uses and its overrides (model, temperature, max_tokens, system).

        ``agents_config`` (the seed's second argument) replaces the registry's agents for this
        lookup; an agent without a provider uses the default provider.
        """
        agents = self._agents if agents_config is None else agents_config
        agent = agents.get(agent_id)
        if agent is None:
            from orchestify_nb.config.models import did_you_mean

            raise UnknownAgentError(
                f"No agent {agent_id!r}{did_you_mean(agent_id, list(agents))}; configured "
                f"agents: {', '.join(agents) or 'none'}. Add it under agents: in the config"
            )
        return self.get(agent.provider), agent

    def get_for_agent(
        self, agent_id: str, agents_config: Mapping[str, AgentConfig] | None = None
    ) -> LLMProvider:
        """The provider an agent uses (``resolve_agent`` also gives its overrides)."""
        return self.resolve_agent(agent_id, agents_config)[0]

    @property
    def default_provider_id(self) -> str | None:
        """The configured default provider, else the first one registered."""
        if self._default_provider in self._providers:
            return self._default_provider
        return next(iter(self._providers), None)

    @property
    def agents(self) -> dict[str, AgentConfig]:
        return dict(self._agents)

    def list_providers(self) -> list[str]:
        return list(self._providers)

    def describe(self) -> list[ProviderInfo]:
        """What ``%llm providers`` shows: id, type, default model, capabilities, key or not."""
        default = self.default_provider_id
        return [
            provider_info(provider_id, provider, provider_id == default)
            for provider_id, provider in self._providers.items()
        ]

    # --------------------------------------------------------------------------------- usage
    def get_total_usage(self) -> TokenUsage:
        """Every provider's usage since creation or the last reset, summed."""
        total = TokenUsage()
        for provider in self._providers.values():
            total = total + provider.get_usage()
        return total

    def get_usage_summary(self) -> str:
        """A few human-readable lines: the total, then one line per provider."""
        lines = [
            f"Usage across {plural(len(self), 'provider')}: {usage_text(self.get_total_usage())}"
        ]
        lines.extend(
            f"  {provider_id} ({provider.provider_type}): {usage_text(provider.get_usage())}"
            for provider_id, provider in self._providers.items()
        )
        return "\n".join(lines)

    def reset_all_usage(self) -> None:
        for provider in self._providers.values():
            provider.reset_usage()

    # ---------------------------------------------------------------------- connections
    async def validate_connectivity(self) -> None:
        """Send one tiny request through each registered provider, concurrently; raise one
        ``ConfigError`` naming every provider that failed. Costs a few tokens per provider."""
        failures = await ping_all(self._providers)
        if failures:
            raise ping_failures_error(self.config, failures)

    async def aclose(self) -> None:
        """Close every provider's connections (errors are logged, not raised)."""
        await close_all(self._providers)

    # ------------------------------------------------------------------------------ container
    def __len__(self) -> int:
        return len(self._providers)

    def __contains__(self, provider_id: object) -> bool:
        return provider_id in self._providers

    def __iter__(self) -> Iterator[str]:
        return iter(self._providers)

    def __repr__(self) -> str:
        listed = ", ".join(f"{pid}={p.provider_type}" for pid, p in self._providers.items())
        return f"ProviderRegistry({listed}; default={self.default_provider_id!r})"
