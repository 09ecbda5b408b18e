"""Quiet hours and local times, including the Europe/London changes in March and October."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.care.quiet_hours import (
    QUIET_MARGIN,
    LocalTimeError,
    QuietHours,
    in_quiet_hours,
    lenient_local,
    next_safe,
    safe_before,
    strict_local,
    zone,
)

LONDON = zone("Europe/London")
NEW_YORK = zone("America/New_York")
NIGHT = QuietHours.parse("22:00", "08:00")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_spring_gap_is_refused_and_lenient_moves_forward() -> None:
    with pytest.raises(LocalTimeError) as caught:
        strict_local(date(2026, 3, 29), time(1, 30), LONDON)
    assert caught.value.reason == "nonexistent"
    assert lenient_local(date(2026, 3, 29), time(1, 30), LONDON) == utc(2026, 3, 29, 1, 30)


def test_autumn_overlap_is_refused_and_lenient_takes_the_first() -> None:
    with pytest.raises(LocalTimeError) as caught:
        strict_local(date(2026, 10, 25), time(1, 30), LONDON)
    assert caught.value.reason == "ambiguous"
    assert lenient_local(date(2026, 10, 25), time(1, 30), LONDON) == utc(2026, 10, 25, 0, 30)


def test_ordinary_times_on_both_sides_of_each_change() -> None:
    assert strict_local(date(2026, 3, 28), time(14, 30), LONDON) == utc(2026, 3, 28, 14, 30)
    assert strict_local(date(2026, 3, 30), time(14, 30), LONDON) == utc(2026, 3, 30, 13, 30)
    assert strict_local(date(2026, 10, 26), time(14, 30), LONDON) == utc(2026, 10, 26, 14, 30)
    # New York changes on other dates: 8 March and 1 November 2026.
    assert strict_local(date(2026, 3, 29), time(1, 30), NEW_YORK) == utc(2026, 3, 29, 5, 30)
    with pytest.raises(LocalTimeError):
        strict_local(date(2026, 3, 8), time(2, 30), NEW_YORK)
    with pytest.raises(LocalTimeError):
        strict_local(date(2026, 11, 1), time(1, 30), NEW_YORK)


def test_a_moment_in_quiet_hours_moves_to_just_before_they_began() -> None:
    early = utc(2026, 1, 6, 6, 0)  # 06:00 London in winter
    assert in_quiet_hours(early, NIGHT, LONDON)
    assert safe_before(early, NIGHT, LONDON) == utc(2026, 1, 5, 22, 0) - QUIET_MARGIN
    assert next_safe(early, NIGHT, LONDON) == utc(2026, 1, 6, 8, 0)
    late = utc(2026, 7, 6, 21, 30)  # 22:30 London in summer
    assert safe_before(late, NIGHT, LONDON) == utc(2026, 7, 6, 21, 0) - QUIET_MARGIN
    daytime = utc(2026, 7, 6, 12, 0)
    assert safe_before(daytime, NIGHT, LONDON) == daytime == next_safe(daytime, NIGHT, LONDON)


def test_quiet_hours_across_the_change_use_the_local_clock() -> None:
    # The night of 28-29 March 2026: quiet from 22:00 GMT until 08:00 BST (07:00 UTC).
    moment = utc(2026, 3, 29, 6, 30)
    assert in_quiet_hours(moment, NIGHT, LONDON)
    assert next_safe(moment, NIGHT, LONDON) == utc(2026, 3, 29, 7, 0)
    # The night of 24-25 October: quiet until 08:00 GMT (08:00 UTC).
    assert next_safe(utc(2026, 10, 25, 7, 30), NIGHT, LONDON) == utc(2026, 10, 25, 8, 0)


def test_daytime_quiet_hours_and_none() -> None:
    work = QuietHours.parse("09:00", "17:00")
    assert in_quiet_hours(utc(2026, 1, 6, 12, 0), work, LONDON)
    assert not in_quiet_hours(utc(2026, 1, 6, 18, 0), work, LONDON)
    assert QuietHours.parse(None, None) is None
    assert QuietHours.parse("25:00", "08:00") is None
    assert QuietHours.parse("08:00", "08:00") is None
    assert not in_quiet_hours(utc(2026, 1, 6, 3, 0), None, LONDON)


@given(
    st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2028, 1, 1)),
    st.sampled_from(["Europe/London", "America/New_York", "Asia/Kabul", "Europe/Warsaw"]),
    st.sampled_from([("22:00", "08:00"), ("20:00", "09:00"), ("13:00", "14:30")]),
)
def test_the_moved_moment_is_never_quiet_and_never_later(
    naive: datetime, name: str, window: tuple[str, str]
) -> None:
    moment, tz, quiet = naive.replace(tzinfo=UTC), zone(name), QuietHours.parse(*window)
    before = safe_before(moment, quiet, tz)
    after = next_safe(moment, quiet, tz)
    assert before <= moment <= after
    assert not in_quiet_hours(before, quiet, tz)
    assert not in_quiet_hours(after, quiet, tz)
    assert moment - before < timedelta(hours=14) and after - moment < timedelta(hours=14)
