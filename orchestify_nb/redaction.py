"""Finding credentials by name and in URLs, with nothing but the standard library.

Providers (their reprs, ``%llm providers``) and the config loader (its errors and dumps) both need
to show a ``base_url`` without the ``user:password@`` part or an ``?api-key=`` parameter, and to
know which names hold secrets. This module sits below both, so neither imports the other for it.
"""

from __future__ import annotations

import base64
import re
from urllib.parse import unquote, urlsplit, urlunsplit

__all__ = ["MASK", "is_secret_name", "redact_url", "split_url_credentials", "url_secrets"]

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


def split_url_credentials(url: str | None) -> tuple[str | None, dict[str, str]]:
    """``url`` without its ``user:password@`` part, and that part as the Basic
    ``Authorization`` header an HTTP client builds from it.

    The providers send the header and give the SDK the bare URL: the same request on the wire,
    but httpx's request log line, the SDKs' debug lines and LiteLLM's print the URL as given,
    and aiohttp (under LiteLLM) refuses a URL with credentials next to an auth header."""
    if not url:
        return url, {}
    try:
        parts = urlsplit(url)
    except ValueError:
        return url, {}
    if "@" not in parts.netloc:
        return url, {}
    userinfo, _, host = parts.netloc.rpartition("@")
    user, _, password = userinfo.partition(":")
    token = base64.b64encode(f"{unquote(user)}:{unquote(password)}".encode()).decode()
    return urlunsplit(parts._replace(netloc=host)), {"Authorization": f"Basic {token}"}


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
