"""``%llm cache``: what the response cache holds, and moving answers with a notebook.

``export PATH`` writes the answers this session used (not the whole cache) so that a notebook's
repository can replay them in CI or on Binder with no key (``ORCHESTIFY_CACHE=replay`` and
``%llm cache import PATH``).
"""

from __future__ import annotations

import re
from typing import Any

from IPython.core.error import UsageError

CACHE_ARGS = "[export PATH | import PATH | clear [--older 30d]]"
_AGE = re.compile(r"^(\d+(?:\.\d+)?)([dhm])$")
_SECONDS = {"d": 86_400.0, "h": 3_600.0, "m": 60.0}


def cache_command(args: list[str]) -> Any:
    """Stats with no arguments; ``export``, ``import`` and ``clear`` otherwise."""
    from orchestify_nb.usage import get_default_ledger
    from orchestify_nb.usage.answer_store import AnswerCacheError, answer_store_for

    ledger = get_default_ledger()
    try:
        store = answer_store_for(ledger.path, ledger)
        return _dispatch(store, args)
    except AnswerCacheError as error:
        raise UsageError(f"%llm cache: {error}") from None


def _dispatch(store: Any, args: list[str]) -> Any:
    action, rest = (args[0], args[1:]) if args else ("", [])
    if not action:
        return _stats(store)
    if action in ("export", "import") and len(rest) == 1:
        if action == "export":
            count = store.export(rest[0])
            print(f"Exported {count} cached answer(s) this session used to {rest[0]}.")
        else:
            count = store.import_file(rest[0])
            print(f"Imported {count} cached answer(s) from {rest[0]}.")
        return None
    if action == "clear" and (not rest or (len(rest) == 2 and rest[0] == "--older")):
        older = _age_seconds(rest[1]) if rest else None
        removed = store.clear(older)
        print(f"Removed {removed} cached answer(s).")
        return None
    raise UsageError(f"%llm cache: usage: %llm cache {CACHE_ARGS} (got {' '.join(args)!r})")


def _age_seconds(text: str) -> float:
    match = _AGE.match(text)
    if match is None:
        raise UsageError(f"%llm cache clear --older: {text!r} is not an age; write e.g. 30d, 12h")
    return float(match.group(1)) * _SECONDS[match.group(2)]


def _stats(store: Any) -> Any:
    import pandas as pd

    stats = store.stats()
    return pd.Series(
        {
            "answers kept": stats.entries,
            "size (bytes)": stats.size_bytes,
            "hits this session": stats.hits_session,
            "misses this session": stats.misses_session,
            "saved this session ($)": round(stats.saved_session_usd, 6),
            "hits ever": stats.hits_total,
            "saved ever ($)": round(stats.saved_total_usd, 6),
        },
        name="response cache",
        dtype=object,  # counts stay whole numbers beside the dollar amounts
    )
