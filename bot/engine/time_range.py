"""Quiet hours typed in the forms people use: "23:00-07:00", "11pm-7am", "23-7",
"11pm to 7am", "23.00 – 7.00", "٢٣-٧". Pure; the whole message must be a range, so a
sentence that mentions a time is still a message for the advocate."""

from __future__ import annotations

import re

_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
_TIME = r"(\d{1,2})(?:[:.h](\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)?"
# "to" and its kin in Harbour's languages, between the two times.
_JOINERS = r"-|–|—|to|till|until|do|la|deri|në|đến|den|до|الى|إلى|حتى|تا"
_RANGE = re.compile(rf"(?:from\s+)?{_TIME}\s*(?:{_JOINERS}|\s)\s*{_TIME}")


def _hour(hour: str, minute: str | None, half: str | None) -> tuple[int, int] | None:
    h, m = int(hour), int(minute or 0)
    if half:
        if not 1 <= h <= 12:
            return None
        h = h % 12 + (12 if half.startswith("p") else 0)
    if not (0 <= h <= 23 and 0 <= m <= 59):
        return None
    return h, m


def parse_time_range(text: str) -> str | None:
    """ "HH:MM-HH:MM" for a typed range of hours, or None."""
    typed = text.translate(_DIGITS).strip().casefold()
    found = _RANGE.fullmatch(typed)
    if found is None:
        return None
    h1, m1, half1, h2, m2, half2 = found.groups()
    if half2 and not half1 and int(h1) <= 12:
        half1 = None  # "11-7am": the first half of the day is not implied
    start, end = _hour(h1, m1, half1), _hour(h2, m2, half2)
    if start is None or end is None or start == end:
        return None
    return f"{start[0]:02d}:{start[1]:02d}-{end[0]:02d}:{end[1]:02d}"
