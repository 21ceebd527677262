"""Load a config from a file or a mapping, find the user's config, or build the embedded default.

``load_config`` raises ``ConfigError`` (one paragraph per file: every problem with its line);
``discover_config`` never raises: a broken file yields the embedded default plus the error, so a
notebook can still start and say what is wrong.
"""

from __future__ import annotations

import importlib.util
import os
import weakref
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import SecretStr, ValidationError

from orchestify_nb.config.messages import Problem, config_error, validation_problems
from orchestify_nb.config.models import OrchestifyConfig, ProviderConfig
from orchestify_nb.config.source import Document, read_mapping, read_yaml
from orchestify_nb.errors import ConfigError

__all__ = [
    "CONFIG_ENV",
    "CONFIG_FILENAME",
    "EMBEDDED_DEFAULT_SOURCE",
    "config_of_providers",
    "config_search_path",
    "default_config",
    "discover_config",
    "load_config",
]

CONFIG_ENV = "ORCHESTIFY_CONFIG"
CONFIG_FILENAME = "orchestify.yaml"
EMBEDDED_DEFAULT_SOURCE = "embedded default"
#: Files tried, in order, when ``load_config`` is given a directory (the seed passed one).
_DIRECTORY_FILES = (CONFIG_FILENAME, "orchestify.yml", "providers.yaml", "config.yaml")
#: Cloud providers of the embedded default: id, type, key variable, default model.
_CLOUD_DEFAULTS = (
    ("claude", "anthropic", "ANTHROPIC_API_KEY", "claude-sonnet-4-5"),
    ("openai", "openai", "OPENAI_API_KEY", "gpt-4.1-mini"),
)
#: Each loaded config by the id of its ``providers`` mapping: the seed builds a registry from
#: ``config.providers`` alone, and the providers it builds still need the config's ``pricing:``.
_CONFIG_OF_PROVIDERS: weakref.WeakValueDictionary[int, OrchestifyConfig] = (
    weakref.WeakValueDictionary()
)


def config_of_providers(providers: Mapping[str, Any]) -> OrchestifyConfig | None:
    """The loaded config whose ``providers`` mapping is ``providers`` itself, if any."""
    config = _CONFIG_OF_PROVIDERS.get(id(providers))
    return config if config is not None and config.providers is providers else None


def _remember(config: OrchestifyConfig) -> OrchestifyConfig:
    _CONFIG_OF_PROVIDERS[id(config.providers)] = config
    return config


def load_config(
    source: str | os.PathLike[str] | Mapping[str, Any],
    *,
    environ: Mapping[str, str] | None = None,
) -> OrchestifyConfig:
    """Read and validate a config from a YAML file (or a directory holding ``orchestify.yaml``)
    or from a mapping. ``${VAR}`` references are filled from ``environ`` (default ``os.environ``).
    """
    if isinstance(source, Mapping):
        return _validate(read_mapping(source, environ), None)
    path = _resolve(Path(source).expanduser().absolute())
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or type(error).__name__
        raise ConfigError(
            f"Config file {path} could not be read ({reason}); check that it is a readable "
            "UTF-8 text file"
        ) from None
    return _validate(read_yaml(text, str(path), environ), str(path))


def default_config(*, environ: Mapping[str, str] | None = None) -> OrchestifyConfig:
    """The config used when there is no file: ``local`` when llama.cpp is installed, plus each
    cloud provider whose key variable is set. The default provider is the first cloud provider
    with a key, else ``local``."""
    env = os.environ if environ is None else environ
    providers: dict[str, ProviderConfig] = {}
    if importlib.util.find_spec("llama_cpp") is not None:
        providers["local"] = ProviderConfig(type="local")
    for provider_id, provider_type, key_variable, model in _CLOUD_DEFAULTS:
        key = env.get(key_variable)
        if key:
            providers[provider_id] = ProviderConfig.model_validate(
                {"type": provider_type, "api_key": SecretStr(key), "default_model": model}
            )
    cloud = [provider_id for provider_id, *_ in _CLOUD_DEFAULTS if provider_id in providers]
    default = cloud[0] if cloud else "local" if "local" in providers else None
    config = OrchestifyConfig(providers=providers, default_provider=default)
    config._source = EMBEDDED_DEFAULT_SOURCE
    return _remember(config)


def config_search_path(*, environ: Mapping[str, str] | None = None) -> list[Path]:
    """Where ``discover_config`` looks, in order: ``$ORCHESTIFY_CONFIG`` (if set),
    ``./orchestify.yaml``, then ``orchestify_nb/orchestify.yaml`` in the user config directory."""
    import platformdirs

    env = os.environ if environ is None else environ
    paths = [Path(env[CONFIG_ENV]).expanduser()] if env.get(CONFIG_ENV) else []
    paths.append(Path.cwd() / CONFIG_FILENAME)
    paths.append(platformdirs.user_config_path("orchestify_nb", appauthor=False) / CONFIG_FILENAME)
    return paths


def discover_config(
    *, environ: Mapping[str, str] | None = None
) -> tuple[OrchestifyConfig, ConfigError | None]:
    """The first config of ``config_search_path()`` that exists, else the embedded default.

    Never raises: a broken config (or ``ORCHESTIFY_CONFIG`` naming a missing file) gives the
    embedded default and the ``ConfigError`` that explains the problem.
    """
    env = os.environ if environ is None else environ
    found: Path | None = None
    try:
        explicit = env.get(CONFIG_ENV)
        if explicit and not Path(explicit).expanduser().exists():
            raise ConfigError(
                f"{CONFIG_ENV} is set to {explicit}, which does not exist; point it at a config "
                f"file, or unset it to use ./{CONFIG_FILENAME} or the embedded default"
            )
        found = next((path for path in config_search_path(environ=env) if path.exists()), None)
        if found is not None:
            return load_config(found, environ=env), None
    except ConfigError as problem:
        return default_config(environ=env), problem
    except Exception as error:  # discovery must never stop a notebook from starting
        # Only the type: an unforeseen error's text may quote the file, keys included.
        where = f"The config file {found}" if found is not None else "The config"
        unexpected = ConfigError(
            f"{where} could not be loaded (unexpected {type(error).__name__}); using the "
            "embedded default instead. Check the file, and report this error to orchestify_nb"
        )
        return default_config(environ=env), unexpected
    return default_config(environ=env), None


def _resolve(path: Path) -> Path:
    if not path.is_dir():
        if not path.exists():
            raise ConfigError(
                f"Config file {path} does not exist; check the path, or create it "
                "(examples/providers.yaml in the orchestify_nb repository shows the format)"
            )
        return path
    for name in _DIRECTORY_FILES:
        if (path / name).is_file():
            return path / name
    raise ConfigError(
        f"Config directory {path} holds none of {', '.join(_DIRECTORY_FILES)}; "
        "pass the config file itself or add one of those files"
    )


def _validate(document: Document, source: str | None) -> OrchestifyConfig:
    problems: list[Problem] = list(document.problems)
    config: OrchestifyConfig | None = None
    if isinstance(document.data, dict):
        try:
            config = OrchestifyConfig.model_validate(document.data)
        except ValidationError as error:
            # A value that could not be read is reported once, as read, not again as invalid.
            problems.extend(
                problem
                for problem in validation_problems(error)
                if not any(problem.loc[: len(loc)] == loc for loc in document.unread)
            )
    if problems or config is None:
        raise config_error(source, problems, document.lines, document.secrets)
    config._source = source
    config._lines = document.lines
    return _remember(config)
