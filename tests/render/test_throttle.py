"""The redraw throttle: the first redraw is immediate, then at most one per interval."""

from __future__ import annotations

from orchestify_nb.render import UpdateThrottle


def test_first_call_is_due_and_the_next_waits_for_the_interval() -> None:
    throttle = UpdateThrottle(interval_s=3600)
    assert throttle.due() is True
    assert [throttle.due() for _ in range(100)] == [False] * 100


def test_reset_makes_the_next_redraw_due_again() -> None:
    throttle = UpdateThrottle(interval_s=3600)
    throttle.due()
    throttle.reset()
    assert throttle.due() is True


def test_zero_interval_is_always_due() -> None:
    throttle = UpdateThrottle(interval_s=0)
    assert all(throttle.due() for _ in range(10))
