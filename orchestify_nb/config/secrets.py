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

import re
from collections.abc import Hashable, Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel, SecretStr, ValidationError
from pydantic_core import InitErrorDetails

__all__ = [
    "is_secret",
    "is_secret_name",
    "redact_url",
    "secret_values",
    "url_secrets",
    "without_secret_inputs",
]

MASK = "***"

#: Key names (YAML keys, header names, query parameters, environment variables) whose values
#: are secret. ``headers``/``extra_headers`` hold gateway keys: everything under them is secret.
_SECRET_NAME = re.compile(
    r"api[_-]?key|secret|password|passwd|credential|authorization"
    r"|(^|[_-])(auth|token|key|headers)$",
    re.IGNORECASE,
)
#: Query parameters that carry a credential under a name that does not say so (Azure SAS
#: signatures, Azure Functions keys).
_SECRET_QUERY_NAMES = frozenset({"sig", "signature", "code"})


def is_secret_name(name: str) -> bool:
    """Whether a key, header, variable or query-parameter name looks like it holds a secret."""
    return bool(_SECRET_NAME.search(name))


def is_secret(loc: tuple[Hashable, ...]) -> bool:
    """Whether a key path names a secret (``api_key``, ``headers.X-Team``, ``*_token`` ...)."""
    return any(isinstance(part, str) and is_secret_name(part) for part in loc)


def secret_values(environ: Mapping[str, str]) -> list[str]:
    """Values of environment variables whose names look secret (``*_API_KEY``, ``*_TOKEN``...)."""
    return [value for name, value in environ.items() if is_secret_name(name)]


def redact_url(url: str) -> str:
    """``url`` with its credentials replaced by ``***``: the ``user:password@`` part, and the
    values of query (or fragment) parameters named like a secret (``api-key``, ``token``,
    ``sig``, ``code`` ...). A URL that cannot be parsed is masked whole."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return MASK
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{MASK}@{netloc.rpartition('@')[2]}"
    return urlunsplit(
        parts._replace(
            netloc=netloc,
            query=_redact_parameters(parts.query),
            fragment=_redact_parameters(parts.fragment),
        )
    )


def url_secrets(url: str) -> list[str]:
    """The credentials written in ``url`` (user info, secret parameter values), for scrubbing
    them from text that quotes them."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return [url]
    found = [parts.netloc.rpartition("@")[0]] if "@" in parts.netloc else []
    if parts.password:
        found.append(parts.password)
    for text in (parts.query, parts.fragment):
        for name, _, value in _parameters(text):
            if value and _is_secret_parameter(name):
                found.append(value)
    return found


def _redact_parameters(text: str) -> str:
    return "&".join(
        f"{name}={MASK}" if value and _is_secret_parameter(name) else f"{name}{equals}{value}"
        for name, equals, value in _parameters(text)
    )


def _parameters(text: str) -> list[tuple[str, str, str]]:
    """``(name, "=", value)`` of each parameter of a query, as written (no decoding: the written
    text is what must be found and masked)."""
    return [raw.partition("=") for raw in text.split("&")]


def _is_secret_parameter(name: str) -> bool:
    return is_secret_name(name) or name.lower() in _SECRET_QUERY_NAMES


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
