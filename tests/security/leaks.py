"""Distinctive fake API keys, the config file that carries them, and the leak check itself.

A key counts as leaked when the whole key, its first 12 characters or its last 12 characters
appear: a partial echo (an SDK message quoting the start of a key, pydantic cutting a long input
in the middle) gives away the key's kind or its random tail just as surely.
"""

from __future__ import annotations

import logging
import pickle
import secrets
import string
import traceback
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

#: Environment variables the config file references. Their names deliberately do not look
#: secret (no ``_API_KEY``/``_TOKEN``), so nothing can be scrubbed because of the variable's name:
#: a clean result proves the key is kept secret wherever it goes.
ANTHROPIC_KEY_ENV = "LEAKCHECK_ANTHROPIC"
OPENAI_KEY_ENV = "LEAKCHECK_OPENAI"

FRAGMENT = 12


def fake_key(prefix: str) -> str:
    """``prefix`` + 24 random letters and digits: never produced by anything but this test."""
    alphabet = string.ascii_letters + string.digits
    return prefix + "".join(secrets.choice(alphabet) for _ in range(24))


@dataclass(frozen=True)
class FakeKeys:
    """One Anthropic-style and one OpenAI-style key for a test."""

    anthropic: str
    openai: str

    @classmethod
    def new(cls) -> FakeKeys:
        return cls(fake_key("sk-ant-api03-LEAKCHECK-"), fake_key("sk-proj-LEAKCHECK-"))

    @property
    def all(self) -> tuple[str, str]:
        return (self.anthropic, self.openai)

    @property
    def environ(self) -> dict[str, str]:
        return {ANTHROPIC_KEY_ENV: self.anthropic, OPENAI_KEY_ENV: self.openai}


def key_fragments(key: str) -> tuple[str, ...]:
    return (key, key[:FRAGMENT], key[-FRAGMENT:])


def leaks_in(text: str | bytes, keys: Iterable[str]) -> list[str]:
    """The fragments of ``keys`` found in ``text`` (empty when nothing leaked)."""
    found = []
    for key in keys:
        for fragment in key_fragments(key):
            needle: str | bytes = fragment.encode() if isinstance(text, bytes) else fragment
            if needle in text:  # type: ignore[operator]
                found.append(fragment)
    return found


def assert_no_key(text: str | bytes, keys: Iterable[str], where: str) -> None:
    """Fail naming the place and the fragment, with the surrounding text to find it."""
    found = leaks_in(text, keys)
    if found:
        fragment = found[0]
        haystack = text.decode(errors="replace") if isinstance(text, bytes) else text
        at = haystack.find(fragment)
        context = haystack[max(0, at - 200) : at + len(fragment) + 100]
        raise AssertionError(f"{where} contains key fragment {fragment!r}:\n...{context}...")


@dataclass(frozen=True)
class Backend:
    """One provider of the config below: its id, type, model and which emulated API it calls."""

    provider_id: str
    provider_type: str
    model: str
    api: str  # "anthropic" | "openai"

    def key(self, keys: FakeKeys) -> str:
        return keys.anthropic if self.api == "anthropic" else keys.openai


BACKENDS = (
    Backend("claude", "anthropic", "claude-haiku-4-5", "anthropic"),
    Backend("gpt", "openai", "gpt-4o-mini", "openai"),
    Backend("litellm_openai", "litellm", "openai/gpt-4o-mini", "openai"),
    Backend("litellm_anthropic", "litellm", "anthropic/claude-haiku-4-5", "anthropic"),
)


def write_config(
    path: Path,
    *,
    anthropic_url: str,
    openai_url: str,
    max_retries: int = 0,
    timeout: float = 30.0,
) -> Path:
    """A config with every backend, each key given only as a ``${VAR}`` reference."""
    urls = {"anthropic": anthropic_url, "openai": openai_url}
    env = {"anthropic": ANTHROPIC_KEY_ENV, "openai": OPENAI_KEY_ENV}
    entries = "".join(
        f"  {backend.provider_id}:\n"
        f"    type: {backend.provider_type}\n"
        f"    api_key: ${{{env[backend.api]}}}\n"
        f"    base_url: {urls[backend.api]}\n"
        f"    default_model: {backend.model}\n"
        f"    max_retries: {max_retries}\n"
        f"    timeout: {timeout}\n"
        for backend in BACKENDS
    )
    path.write_text(f"providers:\n{entries}default_provider: claude\n", encoding="utf-8")
    return path


def assert_no_key_in_logs(records: Iterable[logging.LogRecord], keys: Iterable[str]) -> None:
    """Each record as a handler would write it (message, then any traceback) is key-free."""
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    keys = tuple(keys)
    for record in records:
        assert_no_key(
            formatter.format(record), keys, f"log record {record.name}:{record.levelname}"
        )


def exception_texts(error: BaseException) -> dict[str, str]:
    """Everything an exception shows: ``str``, ``repr``, the full formatted chain (causes and
    contexts, as ``%llm error`` prints it), the ``repr`` of every link, and its pickle."""
    chain: list[BaseException] = []
    link: BaseException | None = error
    while link is not None and link not in chain:
        chain.append(link)
        link = link.__cause__ or link.__context__
    return {
        "str(exc)": str(error),
        "repr(exc)": repr(error),
        "traceback.format_exception(exc)": "".join(traceback.format_exception(error)),
        "repr of each exception in the chain": "\n".join(repr(item) for item in chain),
        "pickle.dumps(exc)": pickle.dumps(error).decode("latin-1"),
    }


def assert_exception_clean(error: BaseException, keys: Iterable[str]) -> None:
    keys = tuple(keys)
    for where, text in exception_texts(error).items():
        assert_no_key(text, keys, f"{where} of {type(error).__name__}")
