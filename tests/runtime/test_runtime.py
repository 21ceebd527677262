"""The private-loop runtime with real asyncio: results, context, interrupts, clean-up."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import os
import signal
import threading
from collections.abc import AsyncIterator, Iterator

import pytest

from orchestify_nb.runtime import PrivateLoop, iterate_sync, run_sync

LABEL: contextvars.ContextVar[str] = contextvars.ContextVar("label", default="unset")


def private_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("orchestify-private-loop")]


@contextlib.contextmanager
def interrupt_after_events(ready: threading.Event) -> Iterator[None]:
    """Send a real SIGINT to this process once ``ready`` is set (by the async side)."""

    def fire() -> None:
        if ready.wait(10):
            os.kill(os.getpid(), signal.SIGINT)

    sender = threading.Thread(target=fire, name="test-sigint-sender")
    sender.start()
    try:
        yield
    finally:
        ready.set()
        sender.join()


def test_run_sync_returns_the_result_and_leaves_no_thread() -> None:
    async def answer() -> int:
        await asyncio.sleep(0)
        return 42

    assert run_sync(answer()) == 42
    assert private_threads() == []


async def test_run_sync_works_while_an_event_loop_runs_on_this_thread() -> None:
    async def on_another_loop() -> bool:
        return asyncio.get_running_loop() is not outer

    outer = asyncio.get_running_loop()
    assert run_sync(on_another_loop()) is True


def test_run_sync_reraises_the_coroutines_error() -> None:
    async def broken() -> None:
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        run_sync(broken())
    assert private_threads() == []


def test_context_variables_follow_the_call_into_the_private_loop() -> None:
    async def read_label() -> str:
        return LABEL.get()

    async def read_labels() -> AsyncIterator[str]:
        yield LABEL.get()

    token = LABEL.set("cell 7")
    try:
        assert run_sync(read_label()) == "cell 7"
        assert list(iterate_sync(read_labels)) == ["cell 7"]
    finally:
        LABEL.reset(token)


def test_iterate_sync_yields_every_item_in_order_on_the_callers_thread() -> None:
    seen_on: set[str] = set()

    async def count() -> AsyncIterator[int]:
        for i in range(50):
            await asyncio.sleep(0)
            yield i

    items = []
    for item in iterate_sync(count):
        seen_on.add(threading.current_thread().name)
        items.append(item)
    assert items == list(range(50))
    assert seen_on == {"MainThread"}
    assert private_threads() == []


def test_iterate_sync_raises_the_iterators_error_after_its_items() -> None:
    async def fails_after_two() -> AsyncIterator[int]:
        yield 1
        yield 2
        raise RuntimeError("dropped")

    items = []
    with pytest.raises(RuntimeError, match="dropped"):
        for item in iterate_sync(fails_after_two):
            items.append(item)
    assert items == [1, 2]


def test_interrupt_cancels_the_task_keeps_delivered_items_and_reraises() -> None:
    produced: list[int] = []
    outcome: list[str] = []
    ready = threading.Event()

    async def slow_stream() -> AsyncIterator[int]:
        try:
            for i in range(1000):
                produced.append(i)
                if i == 5:
                    ready.set()
                yield i
                await asyncio.sleep(0.01)
        except asyncio.CancelledError:
            outcome.append("cancelled")
            raise
        finally:
            await asyncio.sleep(0)  # clean-up may still await on its own loop
            outcome.append("cleaned up")

    received: list[int] = []
    with interrupt_after_events(ready), pytest.raises(KeyboardInterrupt):
        for item in iterate_sync(slow_stream):
            received.append(item)

    assert outcome == ["cancelled", "cleaned up"]
    assert 5 <= len(received) < 1000
    assert received == produced[: len(received)]
    assert len(produced) - len(received) <= 1  # every item that had crossed was delivered
    assert private_threads() == []


def test_interrupt_during_run_sync_cancels_and_waits_for_the_coroutine() -> None:
    outcome: list[str] = []
    ready = threading.Event()

    async def long_call() -> None:
        try:
            ready.set()
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            outcome.append("cancelled")
            raise

    with interrupt_after_events(ready), pytest.raises(KeyboardInterrupt):
        run_sync(long_call())
    assert outcome == ["cancelled"]
    assert private_threads() == []


def test_closing_the_iterator_early_cancels_the_task_and_releases_the_loop() -> None:
    outcome: list[str] = []

    async def endless() -> AsyncIterator[int]:
        try:
            i = 0
            while True:
                yield i
                i += 1
                await asyncio.sleep(0.001)
        finally:
            outcome.append("closed")

    with contextlib.closing(iterate_sync(endless)) as items:
        for item in items:
            if item == 3:
                break
    assert outcome == ["closed"]
    assert private_threads() == []


def test_private_loop_cancels_tasks_left_running_when_it_closes() -> None:
    outcome: list[str] = []

    async def background() -> None:
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            outcome.append("cancelled")
            raise

    async def starts_background() -> None:
        asyncio.get_running_loop().create_task(background())
        await asyncio.sleep(0.01)

    with PrivateLoop() as private:
        task = private.submit(starts_background())
        task.wait(5)
        task.result()
    assert outcome == ["cancelled"]
    assert private.loop.is_closed()
    assert private_threads() == []


def test_a_task_cancelled_before_it_starts_does_not_hold_up_the_close() -> None:
    started: list[bool] = []

    async def never_runs() -> None:
        started.append(True)

    gate = threading.Event()
    with PrivateLoop() as private:
        private.loop.call_soon_threadsafe(gate.wait, 5)  # hold the loop until cancel is queued
        task = private.submit(never_runs())
        task.cancel()
        gate.set()
    assert task.done()
    with pytest.raises(asyncio.CancelledError):
        task.result()
    assert started == []
    assert private_threads() == []
