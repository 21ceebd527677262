"""Counting tokens without touching the network: a batch's estimate before it is sent, and the
usage of a call whose server reported none (or nonsense).

``tiktoken`` downloads its encodings on first use, which fails (or hangs on DNS) on an offline
machine or a locked-down Binder. We only use an encoding that is already on disk: tiktoken's own
cache, or the copy LiteLLM ships inside its package (seeded into tiktoken's cache, which is what
tiktoken itself would do after a download). Otherwise we count characters / 4, and say so: every
figure this module produces is labelled with the method that made it.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import math
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

logger = logging.getLogger("orchestify_nb.token_counting")

ENCODING_NAME = "o200k_base"
_ENCODING_URL = f"https://openaipublic.blob.core.windows.net/encodings/{ENCODING_NAME}.tiktoken"
#: Per-message framing tokens (role markers and separators), as OpenAI's chat format counts them.
TOKENS_PER_MESSAGE = 3
TOKENS_PER_REQUEST = 3
HEURISTIC_METHOD = "chars/4 heuristic"


@dataclass(frozen=True, slots=True)
class TokenCounter:
    """Counts the tokens of a text; ``method`` names how, for every figure shown to a user."""

    method: str
    count_text: Callable[[str], int]

    def count_request(self, texts: Sequence[str]) -> int:
        """Prompt tokens of one request made of ``texts`` (system prompt and message contents)."""
        framing = TOKENS_PER_REQUEST + TOKENS_PER_MESSAGE * len(texts)
        return framing + sum(self.count_text(text) for text in texts)


def _chars_over_four(text: str) -> int:
    return math.ceil(len(text) / 4)


#: Characters / 4: what every figure falls back to, and cheap enough to run before every call.
HEURISTIC_COUNTER = TokenCounter(HEURISTIC_METHOD, _chars_over_four)


def _tiktoken_cache_dir() -> Path | None:
    """Where tiktoken looks for a downloaded encoding (the same rules tiktoken applies)."""
    configured = os.environ.get("TIKTOKEN_CACHE_DIR", os.environ.get("DATA_GYM_CACHE_DIR"))
    if configured == "":
        return None  # caching switched off: tiktoken would always download
    return Path(configured) if configured else Path(tempfile.gettempdir()) / "data-gym-cache"


def _bundled_litellm_copy(file_name: str) -> Path | None:
    """LiteLLM's bundled copy of the encoding, found without importing LiteLLM (slow)."""
    spec = importlib.util.find_spec("litellm")
    for location in (spec.submodule_search_locations or []) if spec else []:
        candidate = Path(location) / "litellm_core_utils" / "tokenizers" / file_name
        if candidate.is_file():
            return candidate
    return None


def _encoding_on_disk() -> bool:
    """Make sure tiktoken can load the encoding offline; False if it would need the network."""
    cache_dir = _tiktoken_cache_dir()
    if cache_dir is None:
        return False
    file_name = hashlib.sha1(_ENCODING_URL.encode()).hexdigest()  # tiktoken's cache key
    cached = cache_dir / file_name
    if cached.is_file():
        return True
    bundled = _bundled_litellm_copy(file_name)
    if bundled is None:
        return False
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        partial = cache_dir / f"{file_name}.{uuid.uuid4().hex}.tmp"
        shutil.copyfile(bundled, partial)
        partial.replace(cached)
    except OSError:
        logger.info("could not seed tiktoken's cache in %s", cache_dir, exc_info=True)
        return False
    return True


@cache
def get_token_counter() -> TokenCounter:
    """The best counter available offline: tiktoken's o200k_base, else chars / 4."""
    try:
        import tiktoken
    except ImportError:
        return HEURISTIC_COUNTER
    if not _encoding_on_disk():
        return HEURISTIC_COUNTER
    try:
        encoding = tiktoken.get_encoding(ENCODING_NAME)
    except Exception:  # a corrupt cache or a tiktoken change: the estimate must still work
        logger.info("tiktoken could not load %s; counting chars / 4", ENCODING_NAME, exc_info=True)
        return HEURISTIC_COUNTER

    def count(text: str) -> int:
        return len(encoding.encode_ordinary(text))

    return TokenCounter(f"tiktoken {ENCODING_NAME}", count)
