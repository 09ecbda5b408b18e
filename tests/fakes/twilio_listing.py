"""GET .../Messages.json: filters and paging as Twilio does them.

Newest first. `DateSent`, `DateSent<` (on or before) and `DateSent>` (on or after) take a
date (YYYY-MM-DD) or a UTC datetime (YYYY-MM-DDTHH:MM:SSZ, what twilio-python sends for a
datetime); messages without a date_sent (still queued) never match a DateSent filter.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlencode

from tests.fakes.twilio_records import MessageRecord

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000
FILTER_KEYS = ("To", "From", "DateSent", "DateSent<", "DateSent>")


def list_page(records: Sequence[MessageRecord], query: dict[str, str], path: str) -> dict[str, Any]:
    keep = _matcher(query)
    matching = [r for r in reversed(records) if keep(r)]
    matching.sort(key=lambda r: r.date_created, reverse=True)  # stable: newest insert first
    size = _bounded_int(query.get("PageSize"), DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
    page = _bounded_int(query.get("Page"), 0, 0, 1_000_000)
    start = page * size
    chunk = matching[start : start + size]
    filters = {key: query[key] for key in FILTER_KEYS if key in query}

    def page_uri(number: int, token: str | None = None) -> str:
        params = {**filters, "PageSize": str(size), "Page": str(number)}
        if token is not None:
            params["PageToken"] = token
        return f"{path}?{urlencode(params)}"

    has_next = start + size < len(matching)
    return {
        "messages": [record.to_json() for record in chunk],
        "end": start + len(chunk) - 1 if chunk else start,
        "first_page_uri": page_uri(0),
        "next_page_uri": page_uri(page + 1, "PA" + chunk[-1].sid) if has_next else None,
        "previous_page_uri": page_uri(page - 1) if page > 0 else None,
        "page": page,
        "page_size": size,
        "start": start,
        "uri": page_uri(page),
    }


def _matcher(query: dict[str, str]) -> Callable[[MessageRecord], bool]:
    exact = _bound(query.get("DateSent"))
    before = _bound(query.get("DateSent<"))
    after = _bound(query.get("DateSent>"))

    def keep(record: MessageRecord) -> bool:
        if "To" in query and record.to != query["To"]:
            return False
        if "From" in query and record.from_ != query["From"]:
            return False
        if exact is None and before is None and after is None:
            return True
        sent = record.date_sent
        if sent is None:
            return False
        return (
            (exact is None or _compare(sent, exact) == 0)
            and (before is None or _compare(sent, before) <= 0)
            and (after is None or _compare(sent, after) >= 0)
        )

    return keep


def _bound(value: str | None) -> date | datetime | None:
    if value is None or value == "":
        return None
    try:
        if "T" in value:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
        return date.fromisoformat(value)
    except ValueError as error:
        raise ValueError("DateSent must be YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ") from error


def _compare(sent: datetime, bound: date | datetime) -> int:
    """-1, 0 or 1: a date bound compares by calendar day (UTC), a datetime by instant."""
    left: date | datetime = sent.astimezone(UTC)
    if not isinstance(bound, datetime):
        left = sent.astimezone(UTC).date()
    return (left > bound) - (left < bound)


def _bounded_int(value: str | None, default: int, low: int, high: int) -> int:
    try:
        number = int(value) if value is not None else default
    except ValueError:
        number = default
    return min(max(number, low), high)
