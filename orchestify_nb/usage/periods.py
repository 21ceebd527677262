"""Turn what people type for a time window ("7d", "24h", a date, a datetime) into ledger time."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from orchestify_nb.usage.storage import to_ns

Moment = datetime | date | timedelta | str

_RELATIVE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(w|d|h|m|s)\s*$", re.IGNORECASE)
_UNIT = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes", "s": "seconds"}


def parse_moment(value: Moment | None, *, now: datetime | None = None) -> int | None:
    """Nanoseconds since the epoch for ``value``, or None.

    ``"7d"``, ``"24h"``, ``"30m"``, ``"90s"``, ``"2w"`` and a ``timedelta`` mean that long before
    now; a ``date`` means its midnight UTC; an ISO string or a naive datetime is read as UTC.
    """
    if value is None:
        return None
    now = now or datetime.now(UTC)
    if isinstance(value, timedelta):
        return to_ns(now - value)
    if isinstance(value, datetime):
        return to_ns(value)
    if isinstance(value, date):
        return to_ns(datetime(value.year, value.month, value.day, tzinfo=UTC))
    match = _RELATIVE.match(value)
    if match:
        amount, unit = float(match.group(1)), _UNIT[match.group(2).lower()]
        return to_ns(now - timedelta(**{unit: amount}))
    try:
        return to_ns(datetime.fromisoformat(value.strip()))
    except ValueError:
        raise ValueError(
            f"cannot read {value!r} as a time: use a span like '7d', '24h', '30m', an ISO date "
            "like '2025-01-31', or a datetime"
        ) from None
