"""Splitting a long outbound text into the parts one channel can carry: split, never cut.

A survivor's long message, or its original with a translation, must reach the advocate whole.
A text longer than its channel carries (Telegram 4,096 characters, an SMS through Twilio 1,600)
becomes several outbox rows, queued together so they leave in order, each marked "(1/3)".
Cuts fall on a line break where one is near the end of the part, otherwise on a space, and
only inside a word that is longer than a whole part (a pasted link).

Lengths are counted in UTF-16 code units, the stricter of the two providers' counts (an
emoji is two), so a part is never refused as too long.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# What one message carries, per channel. A channel not listed (local) is never split.
TEXT_LIMITS: Mapping[str, int] = {"telegram": 4096, "sms": 1600}
# Rows whose "text" is not a message body: media copies and attachments, chat clears.
NOT_TEXT = frozenset({"copy", "attach", "clear"})
MARK = "({n}/{total}) "


def units(text: str) -> int:
    """Length as Telegram and Twilio count it: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int) -> list[str]:
    """`text` in parts of at most `limit` units, each marked "(n/total) " when there are two
    or more. Nothing is dropped but the line break or space a part ends on."""
    if units(text) <= limit:
        return [text]
    digits = 1
    while True:  # the mark's width depends on how many parts there are
        budget = limit - units(MARK.format(n="9" * digits, total="9" * digits))
        pieces = _pieces(text, budget)
        if len(str(len(pieces))) <= digits:
            break
        digits += 1
    total = len(pieces)
    return [MARK.format(n=n, total=total) + piece for n, piece in enumerate(pieces, 1)]


def _pieces(text: str, budget: int) -> list[str]:
    pieces: list[str] = []
    rest = text
    while units(rest) > budget:
        end = _fit(rest, budget)
        cut, skip = _boundary(rest, end)
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut + skip :].lstrip("\n ")
    if rest.strip() or not pieces:
        pieces.append(rest)
    return [piece for piece in pieces if piece] or [text[:budget]]


def _fit(text: str, budget: int) -> int:
    """How many characters of `text` fit in `budget` units (never half an emoji)."""
    used = 0
    for index, char in enumerate(text):
        used += 2 if ord(char) > 0xFFFF else 1
        if used > budget:
            return max(index, 1)
    return len(text)


def _boundary(text: str, end: int) -> tuple[int, int]:
    """Where to cut inside text[:end]: (cut, characters to skip). A line break in the second
    half of the part, else the last space, else a hard cut inside an overlong word."""
    line = text.rfind("\n", 0, end + 1)
    if line >= end // 2 and line > 0:
        return line, 1
    space = max(text.rfind(" ", 0, end + 1), text.rfind("\t", 0, end + 1))
    if space > 0:
        return space, 1
    if line > 0:
        return line, 1
    return end, 0


def split_payload(channel: str, kind: str, payload: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One payload per part. Buttons or numbered choices (and MMS attachments) go with the
    last part, where the reader has read everything; every part keeps the rest of the
    payload (case, survivor)."""
    limit = TEXT_LIMITS.get(channel)
    text = payload.get("text")
    if limit is None or kind in NOT_TEXT or not isinstance(text, str) or units(text) <= limit:
        return [dict(payload)]
    parts = split_text(text, limit)
    result = []
    for n, part in enumerate(parts, 1):
        row = {**payload, "text": part, "part": [n, len(parts)]}
        if n < len(parts):
            row.pop("choices", None)
            row.pop("media_urls", None)  # an MMS's attachments go once, with the last part
        result.append(row)
    return result
