"""Where a job's provider jobs live and the key that reaches them.

The key is never saved with the job: it is found again each time, from the provider the job
was submitted through (its config ``api_key:``, by the provider id the job keeps), else the
API's own environment variable. So a job submitted with a key from the config can be waited
for and collected in a later kernel, and the ledger file holds no secret.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from pydantic import SecretStr

from orchestify_nb.batch.jobs.plan import BatchApi
from orchestify_nb.errors import AuthenticationError

KEY_VARIABLES: dict[str, str] = {"anthropic": "ANTHROPIC_API_KEY", "openai": "OPENAI_API_KEY"}


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A batch API (``anthropic`` or ``openai``), its ``base_url`` and the key (never shown)."""

    api: BatchApi
    base_url: str | None
    api_key: SecretStr | None = field(default=None, repr=False)

    def plain_key(self) -> str:
        """The key for the SDK client constructor; a placeholder for a gateway that takes
        none (only where ``base_url`` is set: the providers' own APIs always need one)."""
        return self.api_key.get_secret_value() if self.api_key is not None else "no-key"

    def secrets(self) -> list[str]:
        return [self.api_key.get_secret_value()] if self.api_key is not None else []


def endpoint_for(
    api: BatchApi,
    base_url: str | None,
    provider_id: str | None,
    given: SecretStr | None = None,
) -> Endpoint:
    """The endpoint with its key: ``given``, else the session provider's of ``provider_id``
    (same API and ``base_url``), else the API's environment variable; no key at all for the
    provider's own API is an ``AuthenticationError`` saying where to put one."""
    key = given or _provider_key(api, base_url, provider_id) or _environment_key(api)
    if key is None and base_url is None:
        where = f"api_key: on provider {provider_id!r} in the config, or " if provider_id else ""
        raise AuthenticationError(
            f"no API key for the {api} batch API",
            provider_id=provider_id,
            hint=f"Set {where}the {KEY_VARIABLES[api]} environment variable; nothing was sent",
        )
    return Endpoint(api, base_url, key)


def _provider_key(api: str, base_url: str | None, provider_id: str | None) -> SecretStr | None:
    if provider_id is None:
        return None
    from orchestify_nb.session import get_session

    registry = get_session().registry
    if provider_id not in registry:
        return None
    provider = registry.get(provider_id)
    if provider.provider_type not in (api, "litellm") or provider.base_url != base_url:
        return None  # the config changed since: that provider is not where the job is
    plain = provider._plain_api_key()
    return SecretStr(plain) if plain else None


def _environment_key(api: str) -> SecretStr | None:
    value = os.environ.get(KEY_VARIABLES[api])
    return SecretStr(value) if value else None
