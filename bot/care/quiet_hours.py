"""Quiet hours and local time: pure functions, no I/O.

A survivor's quiet hours are two local "HH:MM" times; the window may wrap midnight
("22:00"-"08:00"). Nothing non-urgent is sent inside it. A message due inside quiet hours is
moved to the last safe moment before they began (`safe_before`), or, when that moment has
already passed, waits for them to end (`next_safe`).

Local times are turned into UTC carefully around daylight-saving changes: `strict_local`
refuses a wall-clock time that does not exist (the spring gap) or happens twice (the autumn
overlap), so an appointment is never silently an hour out. Quiet-hours edges are more
forgiving (`lenient_local`): a gap moves forward, an overlap takes the first occurrence.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# How long before quiet hours the "last safe moment" is: room for the channel's pacing.
QUIET_MARGIN = timedelta(minutes=10)


class LocalTimeError(ValueError):
    """A local time that cannot be used; `reason` is "nonexistent" or "ambiguous"."""

    def __init__(self, reason: str, when: datetime) -> None:
        super().__init__(f"{when:%Y-%m-%d %H:%M} is {reason} in {when.tzinfo}")
        self.reason = reason


@dataclass(frozen=True)
class QuietHours:
    start: time
    end: time

    @classmethod
    def parse(cls, start: str | None, end: str | None) -> QuietHours | None:
        """None when unset, malformed or empty (start == end): no quiet hours."""
        if not start or not end:
            return None
        try:
            begin, finish = parse_hhmm(start), parse_hhmm(end)
        except ValueError:
            return None
        return None if begin == finish else cls(begin, finish)

    def contains(self, local: time) -> bool:
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end  # wraps midnight


def parse_hhmm(text: str) -> time:
    hours, sep, minutes = text.strip().partition(":")
    if not sep or not hours.isdigit() or not minutes.isdigit() or len(minutes) != 2:
        raise ValueError(f"not a time: {text!r} (use HH:MM)")
    return time(int(hours), int(minutes))


def zone(name: str | None) -> ZoneInfo:
    """The survivor's zone; an unknown or empty name falls back to Europe/London."""
    try:
        return ZoneInfo(name or "Europe/London")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("Europe/London")


def strict_local(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The UTC instant of a wall-clock time, refusing DST gaps and overlaps."""
    first = datetime.combine(day, at, tzinfo=tz)
    instant = first.astimezone(UTC)
    if instant.astimezone(tz).replace(tzinfo=None) != first.replace(tzinfo=None):
        raise LocalTimeError("nonexistent", first)  # the clocks jumped over it
    if first.utcoffset() != first.replace(fold=1).utcoffset():
        raise LocalTimeError("ambiguous", first)  # the clocks went back over it
    return instant


def lenient_local(day: date, at: time, tz: ZoneInfo) -> datetime:
    """Like strict_local, but a gap moves forward and an overlap takes the first one."""
    try:
        return strict_local(day, at, tz)
    except LocalTimeError:
        # fold=0: in an overlap the first occurrence; in a gap the offset from before it,
        # which lands just after the gap.
        return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)


def quiet_window(moment: datetime, quiet: QuietHours, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC (start, end) of the quiet window that contains `moment` (which must be in it)."""
    local = moment.astimezone(tz)
    start_day = local.date()
    if quiet.start >= quiet.end and local.time() < quiet.end:
        start_day -= timedelta(days=1)  # after midnight: the window began the day before
    end_day = start_day + timedelta(days=1) if quiet.start >= quiet.end else start_day
    return lenient_local(start_day, quiet.start, tz), lenient_local(end_day, quiet.end, tz)


def in_quiet_hours(moment: datetime, quiet: QuietHours | None, tz: ZoneInfo) -> bool:
    if quiet is None or not quiet.contains(moment.astimezone(tz).time()):
        return False
    start, end = quiet_window(moment, quiet, tz)
    return start <= moment < end


def safe_before(moment: datetime, quiet: QuietHours | None, tz: ZoneInfo) -> datetime:
    """`moment` if it is outside quiet hours, else the last safe moment before they began."""
    if not in_quiet_hours(moment, quiet, tz):
        return moment
    assert quiet is not None
    start, _ = quiet_window(moment, quiet, tz)
    return start - QUIET_MARGIN


def next_safe(moment: datetime, quiet: QuietHours | None, tz: ZoneInfo) -> datetime:
    """`moment` if it is outside quiet hours, else the moment they end."""
    if not in_quiet_hours(moment, quiet, tz):
        return moment
    assert quiet is not None
    return quiet_window(moment, quiet, tz)[1]
