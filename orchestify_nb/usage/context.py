"""Who is calling: agent, tag, notebook and cell, carried to the ledger without threading arguments.

The magics, the panel and batch runs set this around a call; the provider base class reads it
when it records usage. A ``ContextVar`` follows asyncio tasks and is copied into the runtime's
private loop thread with the coroutine, so concurrent calls keep their own labels.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace


@dataclass(frozen=True, slots=True)
class CallContext:
    """Labels recorded with every call made while this context is active."""

    agent: str | None = None
    tag: str | None = None
    notebook_path: str | None = None
    cell_execution_count: int | None = None


_current: ContextVar[CallContext] = ContextVar("orchestify_nb_call_context", default=CallContext())  # noqa: B039 (frozen)


def current_call_context() -> CallContext:
    """The labels in force for a call starting now."""
    return _current.get()


@contextmanager
def call_context(**labels: str | int | None) -> Iterator[CallContext]:
    """Add labels (``agent``, ``tag``, ``notebook_path``, ``cell_execution_count``) for a block.

    Labels given as ``None`` keep the outer value, so nested blocks refine rather than erase.
    """
    outer = _current.get()
    inner = replace(outer, **{key: value for key, value in labels.items() if value is not None})
    token = _current.set(inner)
    try:
        yield inner
    finally:
        _current.reset(token)
