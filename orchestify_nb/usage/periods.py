"""Turn what people type for a time window ("7d", "24h", a date, a datetime) into ledger time."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from orchestify_nb.usage.storage import to_ns

Moment = datetime | date | timedelta | str

_RELATIVE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(w|d|h|m|s)\s*$", re.IGNORECASE)
_UNIT = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes", "s": "seconds"}
#: How much of a value a message quotes.
_QUOTED_CHARS = 40


def parse_moment(value: Moment | None, *, now: datetime | None = None) -> int | None:
    """Nanoseconds since the epoch for ``value``, or None.

    ``"7d"``, ``"24h"``, ``"30m"``, ``"90s"``, ``"2w"`` and a ``timedelta`` mean that long before
    now; a ``date`` means its midnight UTC; an ISO string or a naive datetime is read as UTC.
    A span reaching back before the year 1 is a ``ValueError`` saying so, not an overflow.
    """
    if value is None:
        return None
    now = now or datetime.now(UTC)
    if isinstance(value, timedelta):
        return _before(now, value, value)
    if isinstance(value, datetime):
        return to_ns(value)
    if isinstance(value, date):
        return to_ns(datetime(value.year, value.month, value.day, tzinfo=UTC))
    match = _RELATIVE.match(value)
    if match:
        amount, unit = float(match.group(1)), _UNIT[match.group(2).lower()]
        try:
            span = timedelta(**{unit: amount})
        except OverflowError:  # past timedelta's 999,999,999 days (or an infinite float)
            raise _too_far_back(value) from None
        return _before(now, span, value)
    try:
        return to_ns(datetime.fromisoformat(value.strip()))
    except ValueError:
        raise ValueError(
            f"cannot read {_quoted(value)} as a time: use a span like '7d', '24h', '30m', an ISO "
            "date like '2025-01-31', or a datetime"
        ) from None


def _before(now: datetime, span: timedelta, value: Moment) -> int:
    try:
        return to_ns(now - span)
    except OverflowError:  # before the year 1
        raise _too_far_back(value) from None


def _too_far_back(value: Moment) -> ValueError:
    return ValueError(
        f"{_quoted(value)} reaches back further than any calendar date; use a shorter span like "
        "'365d' or '52w', or leave the start out to include every call"
    )


def _quoted(value: Moment) -> str:
    text = str(value).strip()
    return repr(text if len(text) <= _QUOTED_CHARS else text[:_QUOTED_CHARS] + "…")
