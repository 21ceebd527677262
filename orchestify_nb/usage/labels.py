"""Clean the text a record carries before it is stored.

Labels come from users (``tag=``, agent names, notebook paths) and from servers (the model name an
answer reports). A lone surrogate cannot be encoded as UTF-8, so one such label made every later
insert fail; control characters garble tables and CSV exports; a megabyte "model name" bloats
every DataFrame. Every text field of a row passes through ``clean_label`` on its way in.
"""

from __future__ import annotations

import re

#: Longest label kept; longer ones are cut and end with an ellipsis.
MAX_LABEL_CHARS = 512

_SURROGATES = re.compile("[\ud800-\udfff]")
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f]")


def clean_label(text: str | None) -> str | None:
    """``text`` with lone surrogates replaced (U+FFFD), control characters removed and its
    length capped at ``MAX_LABEL_CHARS``; ``None`` stays ``None``, a non-string becomes its
    ``str()``."""
    if text is None:
        return None
    if not isinstance(text, str):
        text = str(text)
    if not text.isprintable() or len(text) > MAX_LABEL_CHARS:
        text = _CONTROLS.sub("", _SURROGATES.sub("\ufffd", text))
        if len(text) > MAX_LABEL_CHARS:
            text = text[: MAX_LABEL_CHARS - 1] + "…"
    return text
