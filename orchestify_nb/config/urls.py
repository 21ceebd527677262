"""What a ``base_url`` may not hold: line breaks, other control characters, spaces; and where
it may not point without saying so: a cloud metadata address.

A CR or LF in a URL can split the request line and inject HTTP headers; a space or an invisible
character makes a URL that is not the one the user sees. Such a URL is refused at its config
line, naming the character and its position but never quoting the URL (it may hold credentials).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Hashable

from orchestify_nb.addresses import ALLOW_OPTION, metadata_address_problem

__all__ = ["check_url_characters", "metadata_address_problems"]

#: Unicode categories never valid unencoded in a URL: controls, format (zero-width) characters,
#: spaces, line and paragraph separators.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Zs", "Zl", "Zp"})
_NAMED = {
    "\r": "a carriage return (CR)",
    "\n": "a line feed (LF)",
    "\t": "a tab",
    " ": "a space",
}


def check_url_characters(url: str) -> str:
    """``url`` unchanged, or a ``ValueError`` naming the first character a URL cannot hold."""
    for position, character in enumerate(url, start=1):
        if unicodedata.category(character) in _REFUSED_CATEGORIES:
            what = _NAMED.get(character, f"the invisible character U+{ord(character):04X}")
            raise ValueError(
                f"base_url holds {what} at character {position}; a URL cannot contain one "
                "(a line break would let it inject HTTP headers). Remove it, or percent-encode "
                "it (%20 for a space)"
            )
    return url


def metadata_address_problems(
    base_url: str | None, *, allowed: bool
) -> list[tuple[tuple[Hashable, ...], str]]:
    """A problem at ``base_url`` when it points at a cloud metadata service (which would receive
    the key and headers), unless the provider sets ``allow_metadata_address: true``."""
    problem = metadata_address_problem(base_url) if base_url and not allowed else None
    if problem is None:
        return []
    return [
        (
            ("base_url",),
            f"base_url points at a cloud metadata service ({problem}), which would receive the "
            "API key and headers; correct base_url, or, if this really is your API server, "
            f"add {ALLOW_OPTION}: true to this provider",
        )
    ]
