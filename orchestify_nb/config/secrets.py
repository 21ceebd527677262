"""Recognising secrets in a config: which keys hold one, which environment values are one,
which parts of a URL are credentials; and validation errors stripped of them.

Names decide: a value under ``api_key``, ``x-api-key``, ``Authorization``, ``*_token``,
``headers`` ... is never echoed in a message and is scrubbed from any text that might hold it.
A ``base_url`` may carry credentials too (``https://user:pass@host``, ``?api-key=...``); it is
shown through ``redact_url`` only.

A pydantic ``ValidationError`` keeps each failing input (the whole input dict, for a model-wide
check) even when its text hides them, and a pickled or inspected error gives them away;
``without_secret_inputs`` rebuilds the error with only inputs that cannot be a secret.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from typing import Any

from pydantic import BaseModel, SecretStr, ValidationError
from pydantic_core import InitErrorDetails

from orchestify_nb.redaction import MASK, is_secret_name, redact_url, url_secrets

__all__ = [
    "is_secret",
    "is_secret_name",
    "redact_url",
    "secret_values",
    "url_secrets",
    "without_secret_inputs",
]


def is_secret(loc: tuple[Hashable, ...]) -> bool:
    """Whether a key path names a secret (``api_key``, ``headers.X-Team``, ``*_token`` ...)."""
    return any(isinstance(part, str) and is_secret_name(part) for part in loc)


def secret_values(environ: Mapping[str, str]) -> list[str]:
    """Values of environment variables whose names look secret (``*_API_KEY``, ``*_TOKEN``...)."""
    return [value for name, value in environ.items() if is_secret_name(name)]


def without_secret_inputs(
    title: str, errors: Iterable[Mapping[str, Any]], given: Any
) -> ValidationError:
    """A ``ValidationError`` of ``errors`` (as ``ValidationError.errors()`` lists them, for the
    validation of ``given``) in which every input that might be or hold a secret is replaced:
    containers by an empty one of their kind, secret-named or secret-holding text by ``***``,
    other objects by their type's name. Numbers and harmless text stay, for messages."""
    secrets = [secret for secret in _secrets_in(given, ()) if secret]
    details: list[InitErrorDetails] = []
    for item in errors:
        loc = tuple(item["loc"])
        safe = _safe_input(item["input"], loc, secrets)
        detail = InitErrorDetails(type=item["type"], loc=loc, input=safe)
        if "ctx" in item:
            detail["ctx"] = item["ctx"]
        details.append(detail)
    return ValidationError.from_exception_data(title, details, hide_input=True)


def _secrets_in(value: Any, loc: tuple[Hashable, ...]) -> list[str]:
    if isinstance(value, SecretStr):
        return [value.get_secret_value()]
    if isinstance(value, str):
        return [value] if is_secret(loc) else []
    if isinstance(value, BaseModel):  # assignment validates against the model itself
        value = dict(value)
    if isinstance(value, Mapping):
        return [found for key, item in value.items() for found in _secrets_in(item, (*loc, key))]
    if isinstance(value, list | tuple):
        return [found for item in value for found in _secrets_in(item, loc)]
    return []


def _safe_input(value: Any, loc: tuple[Hashable, ...], secrets: list[str]) -> Any:
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return MASK if is_secret(loc) or any(secret in value for secret in secrets) else value
    if isinstance(value, Mapping):
        return {}
    if isinstance(value, list | tuple):
        return type(value)() if type(value) in (list, tuple) else []
    return f"<{type(value).__name__}>"
