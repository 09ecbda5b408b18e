"""A clock that tests move by hand.

`now()` is wall-clock time (UTC, tz-aware) as Harbour stores it; `monotonic()` is the
elapsed-time reading used for deadlines and rate limits. Both move together on `advance()`,
so a test that jumps two days ahead sees both readings jump by the same amount.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol

DEFAULT_START = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


class WallClock(Protocol):
    """What the fake servers need of a clock: FakeClock or SystemClock."""

    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FakeClock:
    """Frozen time that only moves when `advance()` or `set()` is called."""

    def __init__(self, start: datetime = DEFAULT_START) -> None:
        self._now = _require_aware(start).astimezone(UTC)
        self._monotonic = 1000.0  # arbitrary but positive, like time.monotonic()

    def now(self) -> datetime:
        return self._now

    def monotonic(self) -> float:
        return self._monotonic

    def advance(self, delta: timedelta) -> datetime:
        """Move forward by `delta` (never backward) and return the new `now()`."""
        if delta < timedelta(0):
            raise ValueError("a clock only moves forward; use set() to jump")
        self._now += delta
        self._monotonic += delta.total_seconds()
        return self._now

    def set(self, moment: datetime) -> None:
        """Jump the wall clock to `moment`; monotonic time moves forward by the same amount
        only when the jump is forward, because monotonic time never goes back."""
        moment = _require_aware(moment).astimezone(UTC)
        jump = (moment - self._now).total_seconds()
        self._now = moment
        self._monotonic += max(jump, 0.0)

    def __repr__(self) -> str:
        return f"FakeClock({self._now.isoformat()})"


def _require_aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("FakeClock needs a timezone-aware datetime")
    return moment
