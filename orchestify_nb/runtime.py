"""Run async code to completion from sync code, in a notebook kernel or in terminal IPython.

Why a private loop: in ipykernel a cell runs on the main thread *while the kernel's asyncio loop
is running*, so ``asyncio.run()`` fails there, and patching the running loop to be re-entrant
(nest_asyncio) is unmaintained and breaks libraries. Instead each call gets a fresh event loop on
a daemon thread; the caller's thread waits on a queue with a short timeout, so a kernel interrupt
(``KeyboardInterrupt``, raised on the main thread) is seen within ``POLL_INTERVAL_S``.

Why one loop *per call* rather than one reusable loop per process: SDK clients (httpx) bind their
pooled connections to the loop that opened them, and the same provider objects are also used on
the kernel's own loop by the widget panel. A per-call loop guarantees that no thread, task or
connection outlives the call (its tasks and async generators are shut down before it closes, and
the providers keep one SDK client per loop, which goes with it); the price is one new connection
per call (a TCP+TLS handshake, tens of milliseconds against seconds of model latency) and about
0.2 ms to start the thread.

On ``KeyboardInterrupt`` the task is cancelled on its own loop and awaited (the provider base
class records the call as ``cancelled`` with the text so far); events that had already arrived
are still delivered, then the interrupt is re-raised so the cell shows as interrupted.
Context variables (``orchestify_nb.usage.context.call_context``) are copied into the task, so
usage records carry the caller's tag, agent, notebook and cell.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import queue
import threading
from collections.abc import AsyncIterator, Callable, Coroutine, Generator
from typing import Any, Generic, TypeVar

__all__ = ["POLL_INTERVAL_S", "LoopTask", "PrivateLoop", "iterate_sync", "run_sync"]

T = TypeVar("T")

#: How long the caller's thread blocks at a time; bounds the delay before an interrupt is seen.
POLL_INTERVAL_S = 0.05
#: How long to wait for a cancelled task (and the loop's shutdown) before giving up on it.
CANCEL_GRACE_S = 10.0


class LoopTask(Generic[T]):
    """A coroutine running as a task on a ``PrivateLoop``, seen from the caller's thread.

    Unlike a ``concurrent.futures.Future``, which reports "cancelled" as soon as it is asked to
    cancel, ``wait`` and ``result`` only return once the task has really ended, its clean-up
    (closing the connection, recording the call) included.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._task: asyncio.Task[T] | None = None
        self._ended = threading.Event()

    def _start(self, coroutine: Coroutine[Any, Any, T], context: contextvars.Context) -> None:
        self._task = self._loop.create_task(coroutine, context=context)
        self._task.add_done_callback(lambda _: self._ended.set())

    def _cancel_on_loop(self) -> None:
        if self._task is not None:
            self._task.cancel()

    def cancel(self) -> None:
        """Ask the task to stop (thread-safe); it unwinds on its own loop."""
        if not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._cancel_on_loop)

    def done(self) -> bool:
        return self._ended.is_set()

    def wait(self, timeout: float) -> None:
        """Block up to ``timeout`` seconds; ``TimeoutError`` if the task is still running."""
        if not self._ended.wait(timeout):
            raise TimeoutError

    def result(self) -> T:
        """The ended task's value, or its exception (``CancelledError`` if it was cancelled)."""
        assert self._task is not None and self._task.done()
        return self._task.result()


class PrivateLoop:
    """A fresh event loop running on its own daemon thread for the duration of a ``with`` block.

    Leaving the block cancels the tasks it started and waits for their clean-up, then cancels
    any stray task, shuts down async generators and the default executor, stops the loop, joins
    the thread and closes the loop, as ``asyncio.run`` does at its end.
    """

    def __init__(self, name: str = "orchestify-private-loop") -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._tasks: list[LoopTask[Any]] = []

    def __enter__(self) -> PrivateLoop:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def submit(
        self, coroutine: Coroutine[Any, Any, T], context: contextvars.Context | None = None
    ) -> LoopTask[T]:
        """Start ``coroutine`` as a task on the loop, inside ``context`` (default: a copy of the
        caller's context, so context variables such as the call labels follow the call)."""
        task: LoopTask[T] = LoopTask(self.loop)
        context = context if context is not None else contextvars.copy_context()
        self.loop.call_soon_threadsafe(task._start, coroutine, context)
        self._tasks.append(task)
        return task

    def close(self) -> None:
        """Cancel what is left, wait for its clean-up, and release the loop and its thread."""
        if self.loop.is_closed():
            return
        if self._thread.is_alive():
            for task in self._tasks:
                if not task.done():
                    task.cancel()
                    _wait_ignoring_interrupts(task.wait, CANCEL_GRACE_S)
            shutdown = asyncio.run_coroutine_threadsafe(_shutdown_loop(), self.loop)
            _wait_ignoring_interrupts(shutdown.result, CANCEL_GRACE_S)
            self.loop.call_soon_threadsafe(self.loop.stop)
            _wait_ignoring_interrupts(self._join, CANCEL_GRACE_S)
        if not self._thread.is_alive():
            self.loop.close()

    def _join(self, timeout: float) -> None:
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise TimeoutError


async def _shutdown_loop() -> None:
    """Cancel every other task on this loop and wait for them, then release generators and the
    executor (the same clean-up ``asyncio.run`` performs)."""
    current = asyncio.current_task()
    pending = [task for task in asyncio.all_tasks() if task is not current]
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    loop = asyncio.get_running_loop()
    await loop.shutdown_asyncgens()
    await loop.shutdown_default_executor()


def _wait_ignoring_interrupts(wait: Callable[[float], object], timeout_s: float) -> None:
    """Call ``wait(POLL_INTERVAL_S)`` until it stops timing out, even if the user presses
    interrupt again meanwhile: a second interrupt must not leave a half-cancelled call (and its
    connection) behind."""
    waited = 0.0
    while waited < timeout_s:
        try:
            wait(POLL_INTERVAL_S)
            return
        except TimeoutError:
            waited += POLL_INTERVAL_S
        except KeyboardInterrupt:
            continue
        except BaseException:  # the task's own failure is reported by the caller, not here
            return


def run_sync(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run ``coroutine`` to completion on a private loop and return its result.

    Works whether or not an event loop is already running on this thread. ``KeyboardInterrupt``
    cancels the coroutine, waits for its clean-up, and is re-raised.
    """
    with PrivateLoop() as private:
        task = private.submit(coroutine)
        try:
            while not task.done():
                with contextlib.suppress(TimeoutError):
                    task.wait(POLL_INTERVAL_S)
        except KeyboardInterrupt:
            task.cancel()
            raise
        return task.result()


class _Item(Generic[T]):
    """One message from the loop thread to the caller: an event, an error, or the end."""

    __slots__ = ("error", "event", "kind")

    def __init__(self, kind: str, event: T | None = None, error: BaseException | None = None):
        self.kind = kind
        self.event = event
        self.error = error


def iterate_sync(
    factory: Callable[[], AsyncIterator[T]],
    *,
    context: contextvars.Context | None = None,
    on_idle: Callable[[], object] | None = None,
) -> Generator[T, None, None]:
    """Yield the items of the async iterator ``factory()`` on the caller's thread.

    The iterator is created and consumed on a private loop; items cross to the caller through a
    queue; ``on_idle`` is called on the caller's thread whenever nothing arrived for
    ``POLL_INTERVAL_S`` (a renderer uses it to draw text its throttle held back). On
    ``KeyboardInterrupt`` while waiting, the task is cancelled and awaited, items that
    had already arrived are still yielded, then ``KeyboardInterrupt`` is raised from the
    generator. Close the generator (``contextlib.closing``) if you stop early: closing cancels
    the task and releases the loop at once.
    """
    items: queue.SimpleQueue[_Item[T]] = queue.SimpleQueue()

    async def pump() -> None:
        try:
            async for event in factory():
                items.put(_Item("event", event))
        except asyncio.CancelledError:
            items.put(_Item("end"))
            raise
        except BaseException as error:
            items.put(_Item("error", error=error))
        else:
            items.put(_Item("end"))

    with PrivateLoop() as private:
        task = private.submit(pump(), context)
        try:
            while True:
                try:
                    item = items.get(timeout=POLL_INTERVAL_S)
                except queue.Empty:
                    if on_idle is not None:
                        on_idle()
                    continue
                if item.kind == "end":
                    return
                if item.kind == "error":
                    assert item.error is not None
                    raise item.error
                yield item.event  # type: ignore[misc]
        except KeyboardInterrupt:
            task.cancel()
            private.close()
            while True:
                try:
                    item = items.get_nowait()
                except queue.Empty:
                    break
                if item.kind == "event":
                    yield item.event  # type: ignore[misc]
            raise
        finally:
            task.cancel()
