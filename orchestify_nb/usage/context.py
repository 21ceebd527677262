"""Who is calling: agent, tag, notebook and cell, carried to the ledger without threading arguments.

The magics, the panel and batch runs set this around a call; the provider base class reads it
when it records usage. A ``ContextVar`` follows asyncio tasks and is copied into the runtime's
private loop thread with the coroutine, so concurrent calls keep their own labels.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CallContext:
    """Labels recorded with every call made while this context is active."""

    agent: str | None = None
    tag: str | None = None
    notebook_path: str | None = None
    cell_execution_count: int | None = None
    #: Groups the model turns of one logical call (a tool loop, a repaired answer); ``step``
    #: numbers the turns within it, from 1.
    run_id: str | None = None
    step: int | None = None


_current: ContextVar[CallContext] = ContextVar("orchestify_nb_call_context", default=CallContext())  # noqa: B039 (frozen)


def current_call_context() -> CallContext:
    """The labels in force for a call starting now."""
    return _current.get()


@contextmanager
def call_context(
    *,
    agent: str | None = None,
    tag: str | None = None,
    notebook_path: str | None = None,
    cell_execution_count: int | None = None,
    run_id: str | None = None,
    step: int | None = None,
) -> Iterator[CallContext]:
    """Add labels for the calls made inside a block.

    Labels given as ``None`` keep the outer value, so nested blocks refine rather than erase.
    """
    outer = _current.get()
    inner = CallContext(
        agent=outer.agent if agent is None else agent,
        tag=outer.tag if tag is None else tag,
        notebook_path=outer.notebook_path if notebook_path is None else notebook_path,
        cell_execution_count=(
            outer.cell_execution_count if cell_execution_count is None else cell_execution_count
        ),
        run_id=outer.run_id if run_id is None else run_id,
        step=outer.step if step is None else step,
    )
    token = _current.set(inner)
    try:
        yield inner
    finally:
        _current.reset(token)
