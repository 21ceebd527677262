"""The shape of an orchestify config: pydantic models, validated strictly.

Unknown keys are errors (a misspelt ``max_tokns`` silently ignored would cost money), the API key
and extra headers are ``SecretStr`` from the first moment, no validation error keeps an input
that might be a secret, a ``base_url`` is shown with its credentials masked, and references
between sections (an agent's provider, ``default_provider``, a provider budget) must name a
defined provider.

Fields left ``None`` mean "the provider's own default" (``LLMProvider`` holds the defaults once).
"""

from __future__ import annotations

import difflib
from collections.abc import Hashable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeFloat,
    NonNegativeInt,
    PositiveFloat,
    PositiveInt,
    PrivateAttr,
    SecretStr,
    ValidationError,
    ValidatorFunctionWrapHandler,
    field_serializer,
    field_validator,
    model_validator,
)

from orchestify_nb.config.secrets import redact_url, without_secret_inputs
from orchestify_nb.config.urls import check_url_characters, metadata_address_problems
from orchestify_nb.pricing import ModelPrice
from orchestify_nb.providers.anthropic_api import ANTHROPIC_API_VERSION, REFUSED_SAMPLING_SETTINGS
from orchestify_nb.providers.catalog import PROVIDER_CLASSES, TYPE_ONLY_SETTINGS
from orchestify_nb.usage.locations import check_ledger_url

__all__ = [
    "PROVIDER_TYPES",
    "AgentConfig",
    "BudgetLimits",
    "BudgetsConfig",
    "KeyProblems",
    "LedgerConfig",
    "OrchestifyConfig",
    "ProviderConfig",
    "ProviderType",
    "deepest_line",
    "did_you_mean",
]

if TYPE_CHECKING:
    ProviderType = str
else:  # the catalog's types, checked by pydantic like any Literal
    ProviderType = Literal[tuple(PROVIDER_CLASSES)]
PROVIDER_TYPES: tuple[str, ...] = tuple(PROVIDER_CLASSES)
#: The request option whose headers are held as secrets and sent with every request.
_EXTRA_HEADERS_OPTION = "extra_headers"
_ANTHROPIC_REFUSES = (
    f"which the Anthropic Messages API (version {ANTHROPIC_API_VERSION}, sent by anthropic SDK "
    "2.x) no longer accepts"
)

Loc = tuple[Hashable, ...]
#: ``cache_prompt:`` in a provider or agent: on/off, or the prompt cache's lifetime.
CachePromptSetting = bool | Literal["5m", "1h"] | None


def did_you_mean(word: str, choices: list[str] | tuple[str, ...]) -> str:
    """`` (did you mean 'x'?)`` for the closest choice, or an empty string."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def deepest_line(lines: Mapping[Loc, int], loc: Loc) -> int | None:
    """The line of the deepest key of ``loc`` found in ``lines`` (a missing key is reported at
    its parent's line)."""
    for end in range(len(loc), 0, -1):
        line = lines.get(loc[:end])
        if line is not None:
            return line
    return None


class KeyProblems(ValueError):
    """Problems found by a model-wide check, each at the key (relative to that model) it is about.

    Reported inside the ``ValidationError`` (as a ``value_error``); the loader unpacks
    ``problems`` to give each its own line number instead of the line of the whole section.
    """

    def __init__(self, problems: list[tuple[Loc, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{'.'.join(map(str, loc))}: {text}" for loc, text in problems))


class _Section(BaseModel):
    # A model-wide check would otherwise quote its whole input, key and all: the error's text
    # shows no input, and the error itself keeps only inputs that cannot be a secret (the
    # loader words its messages from those).
    model_config = ConfigDict(extra="forbid", validate_assignment=True, hide_input_in_errors=True)

    @model_validator(mode="wrap")
    @classmethod
    def _validate_keeping_no_secret(cls, given: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        """Field validation, then the model-wide checks of ``_problems``; an error of either
        keeps no input that might be a secret."""
        errors: Sequence[Mapping[str, Any]]
        try:
            section = handler(given)
        except ValidationError as error:
            title, errors = error.title, error.errors()
        else:
            problems = section._problems() if isinstance(section, _Section) else []
            if not problems:
                return section
            title = cls.__name__
            errors = [
                {
                    "type": "value_error",
                    "loc": (),
                    "input": given,
                    "ctx": {"error": KeyProblems(problems)},
                }
            ]
        # Raised outside the handler, so the original error is not its context either.
        raise without_secret_inputs(title, errors, given)

    def _problems(self) -> list[tuple[Loc, str]]:
        """Model-wide checks: each problem at the key (relative to this model) it is about."""
        return []


class ProviderConfig(_Section):
    """One entry under ``providers:``. ``model_path``, ``n_ctx``, ``n_threads`` and
    ``prompt_format`` apply to ``type: local`` only; ``options`` are default request options.

    ``headers`` are extra HTTP headers sent with every request, such as a gateway's key
    (``x-portkey-api-key``, ``Helicone-Auth``, Azure's ``api-key``); like ``api_key`` they are
    held as secrets. Headers written as ``options: {extra_headers: ...}`` are held the same way
    and sent the same way (``client_headers()``), ``headers`` winning on a clash.
    """

    type: ProviderType
    api_key: SecretStr | None = None
    default_model: str | None = None
    max_tokens: PositiveInt | None = None
    base_url: str | None = None
    timeout: PositiveFloat | None = None
    max_retries: NonNegativeInt | None = None
    headers: dict[str, SecretStr] = Field(default_factory=dict)
    options: dict[str, Any] = Field(default_factory=dict)
    pricing: dict[str, ModelPrice] = Field(default_factory=dict)
    model_path: str | None = None
    n_ctx: PositiveInt | None = None
    n_threads: PositiveInt | None = None
    prompt_format: str | None = None
    allow_metadata_address: bool | None = None
    #: Ask the provider's prompt cache on every call (``providers/prompt_cache.py``).
    cache_prompt: CachePromptSetting = None

    @field_validator("type", mode="before")
    @classmethod
    def _known_type(cls, value: object) -> object:
        if isinstance(value, str) and value not in PROVIDER_TYPES:
            raise ValueError(
                f"unknown provider type {value!r}{did_you_mean(value, PROVIDER_TYPES)}; "
                f"known types: {', '.join(PROVIDER_TYPES)}"
            )
        return value

    @field_validator("api_key", mode="before")
    @classmethod
    def _empty_key_is_no_key(cls, value: object) -> object:
        if isinstance(value, SecretStr) and not value.get_secret_value():
            return None
        return None if value == "" else value

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError(
                "base_url must start with http:// or https:// "
                "(for example http://127.0.0.1:8000/v1)"
            )
        return check_url_characters(value) if value is not None else value

    @field_validator("headers", mode="before")
    @classmethod
    def _empty_headers(cls, value: object) -> object:
        return {} if value is None else value

    @field_validator("options")
    @classmethod
    def _extra_headers_are_secret(cls, value: dict[str, Any]) -> dict[str, Any]:
        headers = value.get(_EXTRA_HEADERS_OPTION)
        if not isinstance(headers, Mapping):
            return value
        held: dict[str, SecretStr] = {}
        for name, text in headers.items():
            if not isinstance(text, str | SecretStr):
                raise ValueError(
                    f"options.{_EXTRA_HEADERS_OPTION}.{name} should be text (a header value); "
                    "quote it"
                )
            held[str(name)] = text if isinstance(text, SecretStr) else SecretStr(text)
        return {**value, _EXTRA_HEADERS_OPTION: held}

    @field_validator("model_path")
    @classmethod
    def _expand_home(cls, value: str | None) -> str | None:
        return str(Path(value).expanduser()) if value else value

    @field_serializer("base_url")
    def _base_url_without_credentials(self, value: str | None) -> str | None:
        return redact_url(value) if value else value

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        for name, value in super().__repr_args__():
            yield name, redact_url(value) if name == "base_url" and value else value

    def client_headers(self) -> dict[str, SecretStr]:
        """Every header to send with each request: ``options.extra_headers``, then
        ``headers`` on top."""
        written = self.options.get(_EXTRA_HEADERS_OPTION)
        overridden = {name.lower() for name in self.headers}  # header names ignore case
        kept = {
            name: value
            for name, value in (written.items() if isinstance(written, dict) else ())
            if name.lower() not in overridden
        }
        return {**kept, **self.headers}

    def request_options(self) -> dict[str, Any]:
        """The default request options, less the headers (``client_headers`` sends those),
        with ``cache_prompt`` when it is set."""
        options = {
            name: value
            for name, value in self.options.items()
            if not (name == _EXTRA_HEADERS_OPTION and isinstance(value, dict))
        }
        if self.cache_prompt is not None:
            options["cache_prompt"] = self.cache_prompt
        return options

    def _problems(self) -> list[tuple[Loc, str]]:
        if self.type == "local":
            unused = {
                "headers": "headers are sent over HTTP, which type: local does not use; "
                "remove them",
                "allow_metadata_address": "allow_metadata_address is about a base_url, which "
                "type: local does not have; remove it",
            }
            return [((name,), text) for name, text in unused.items() if getattr(self, name)]
        problems: list[tuple[Loc, str]] = metadata_address_problems(
            self.base_url, allowed=bool(self.allow_metadata_address)
        )
        problems += [
            (
                (name,),
                f"{name} only applies to type: {owner}, not type: {self.type}; "
                "remove it or change the type",
            )
            for owner, names in TYPE_ONLY_SETTINGS.items()
            if owner != self.type
            for name in names
            if getattr(self, name) is not None
        ]
        if self.type == "anthropic":  # every call would be refused before it is sent
            problems.extend(
                (
                    ("options", name),
                    f"options sets {name}, {_ANTHROPIC_REFUSES}; remove it and steer with an "
                    "agent's `system:` or the prompt",
                )
                for name in REFUSED_SAMPLING_SETTINGS
                if name in self.options
            )
        return problems


class AgentConfig(_Section):
    """One entry under ``agents:``: which provider an agent uses and its per-call overrides.
    A missing ``provider`` means the config's default provider."""

    provider: str | None = None
    model: str | None = None
    temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    max_tokens: PositiveInt | None = None
    system: str | None = None
    cache_prompt: CachePromptSetting = None


class MCPServerConfig(_Section):
    """One entry under ``mcp_servers:``: a local server started as a subprocess speaking MCP on
    stdio (``command``, ``args``, ``env``, ``cwd``), or a remote one over streamable HTTP
    (``url``, ``headers``). ``env`` values and ``headers`` are held as secrets (they carry
    tokens). ``timeout`` bounds one tool call, in seconds."""

    command: str | None = None
    args: list[str] = Field(default_factory=list)
    env: dict[str, SecretStr] = Field(default_factory=dict)
    cwd: str | None = None
    url: str | None = None
    headers: dict[str, SecretStr] = Field(default_factory=dict)
    timeout: PositiveFloat = 60.0

    def _problems(self) -> list[tuple[Loc, str]]:
        if (self.command is None) == (self.url is None):
            return [
                (
                    (),
                    "an MCP server needs either command: (a local server on stdio) or url: (a "
                    "streamable HTTP server), not both and not neither",
                )
            ]
        stdio_only = ("args", "env", "cwd")
        if self.url is not None:
            return [
                ((name,), f"{name} applies to a command: server, not a url: one; remove it")
                for name in stdio_only
                if getattr(self, name)
            ]
        if self.headers:
            return [(("headers",), "headers apply to a url: server, not a command: one")]
        return []


class LedgerConfig(_Section):
    """``ledger:`` — where the usage ledger lives (a file path or ``:memory:``). ``None`` means the
    ``ORCHESTIFY_LEDGER`` variable, else the user data directory."""

    path: str | None = None
    #: A team ledger (``postgresql://user:password@host:5432/db``) or ``sqlite:///file``; the
    #: password is a secret, shown nowhere (see ``usage/locations.py``).
    url: SecretStr | None = None

    @field_validator("path")
    @classmethod
    def _expand_home(cls, value: str | None) -> str | None:
        return str(Path(value).expanduser()) if value and value != ":memory:" else value

    @field_validator("url")
    @classmethod
    def _ledger_url(cls, value: SecretStr | None) -> SecretStr | None:
        return check_ledger_url(value)

    @field_serializer("url")
    def _url_without_credentials(self, value: SecretStr | None) -> str | None:
        return redact_url(value.get_secret_value()) if value else None

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        for name, value in super().__repr_args__():
            yield name, redact_url(value.get_secret_value()) if name == "url" and value else value


class BudgetLimits(_Section):
    """Spending limits in USD; ``None`` means no limit. ``per_day`` is a calendar day,
    ``per_session`` one kernel/process, ``total`` everything in the ledger."""

    per_day: NonNegativeFloat | None = None
    per_session: NonNegativeFloat | None = None
    total: NonNegativeFloat | None = None

    @property
    def is_set(self) -> bool:
        return any(v is not None for v in (self.per_day, self.per_session, self.total))


class BudgetsConfig(BudgetLimits):
    """``budgets:`` — the overall limits at top level, per-provider limits under ``providers:``,
    and the fraction of a limit at which a warning is shown."""

    providers: dict[str, BudgetLimits] = Field(default_factory=dict)
    warn_at: float = Field(default=0.8, gt=0.0, le=1.0)
    #: ``team``: every row of the ledger counts (a team ledger's shared total); ``per_user``:
    #: only this user's (``JUPYTERHUB_USER``, else the OS user).
    scope: Literal["team", "per_user"] = "team"

    @property
    def overall(self) -> BudgetLimits:
        return BudgetLimits(per_day=self.per_day, per_session=self.per_session, total=self.total)

    def for_provider(self, provider_id: str) -> BudgetLimits | None:
        return self.providers.get(provider_id)

    @field_validator("providers", mode="before")
    @classmethod
    def _empty_section(cls, value: object) -> object:
        return {} if value is None else value


class OrchestifyConfig(_Section):
    """A whole config. ``source`` is the file it came from (``None`` for a mapping);
    ``line_of(loc)`` gives the line a key was written on, for messages that point at it."""

    providers: dict[str, ProviderConfig] = Field(default_factory=dict)
    agents: dict[str, AgentConfig] = Field(default_factory=dict)
    default_provider: str | None = None
    pricing: dict[str, ModelPrice] = Field(default_factory=dict)
    ledger: LedgerConfig | None = None
    #: Recorded with every call (a team ledger groups by it); else the notebook's folder.
    project: str | None = None
    budgets: BudgetsConfig | None = None
    #: The response cache's default mode (``ORCHESTIFY_CACHE`` and per-call ``cache=`` win).
    cache: Literal["auto", "replay", "refresh", "off"] | None = None
    #: Tokens each ``@{name}`` inserted into a prompt may take (``context_tokens=`` wins).
    context_tokens: PositiveInt | None = None
    #: MCP servers whose tools ``%%llm tools=server.tool`` and ``session.mcp`` offer.
    mcp_servers: dict[str, MCPServerConfig] = Field(default_factory=dict)

    _source: str | None = PrivateAttr(default=None)
    _lines: dict[Loc, int] = PrivateAttr(default_factory=dict)

    @property
    def source(self) -> str | None:
        return self._source

    def line_of(self, loc: Loc) -> int | None:
        """The line of the deepest key of ``loc`` that was written in the file."""
        return deepest_line(self._lines, loc)

    def resolved_default_provider(self) -> str | None:
        """``default_provider``, else the first provider defined, else ``None``."""
        return self.default_provider or next(iter(self.providers), None)

    def provider_pricing(self, provider_id: str) -> dict[str, ModelPrice]:
        """Price overrides for one provider: the top-level ``pricing:``, then its own on top."""
        return {**self.pricing, **self.providers[provider_id].pricing}

    @field_validator("providers", "agents", "pricing", "mcp_servers", mode="before")
    @classmethod
    def _empty_section(cls, value: object) -> object:
        return {} if value is None else value

    def _problems(self) -> list[tuple[Loc, str]]:
        """References to providers (an agent's, ``default_provider``, a provider budget) must
        name a defined provider, and an agent must not set what its provider refuses."""
        known = list(self.providers)
        problems: list[tuple[Loc, str]] = []

        def check(loc: Loc, provider_id: str, what: str) -> None:
            if provider_id not in self.providers:
                listed = (
                    f"defined providers: {', '.join(known)}"
                    if known
                    else "no providers are defined (add a providers: section)"
                )
                guess = did_you_mean(provider_id, known)
                problems.append((loc, f"{what} {provider_id!r} is not defined{guess}; {listed}"))

        if self.default_provider is not None:
            check(("default_provider",), self.default_provider, "default_provider")
        for agent_id, agent in self.agents.items():
            if agent.provider is not None:
                check(("agents", agent_id, "provider"), agent.provider, "provider")
        problems.extend(self._agent_sampling_problems())
        if self.budgets is not None:
            for provider_id in self.budgets.providers:
                check(("budgets", "providers", provider_id), provider_id, "budget for provider")
        return problems

    def _agent_sampling_problems(self) -> list[tuple[Loc, str]]:
        """Agents that set ``temperature`` on an ``anthropic`` provider (their own, or the
        default one when they name none): every call of theirs would be refused."""
        default = self.resolved_default_provider()
        problems: list[tuple[Loc, str]] = []
        for agent_id, agent in self.agents.items():
            provider = self.providers.get(agent.provider or default or "")
            if agent.temperature is None or provider is None or provider.type != "anthropic":
                continue
            text = (
                f"agent {agent_id!r} sets temperature, {_ANTHROPIC_REFUSES}; remove it and "
                "steer the agent with `system:`"
            )
            if agent.provider is None:
                text += f" (it names no provider:, so it uses the default provider {default!r})"
            problems.append((("agents", agent_id, "temperature"), text))
        return problems
