"""A case's timeline for the console: the survivor's originals with their language and the
machine translation (marked as such), advocate replies (quick replies marked), what Harbour
itself said, and the notices staff were sent about the case.

The history rows hold the text; what the relay learnt (detected language, translation,
who wrote a reply, a quick reply's name) is in the outbox rows queued in the same
transaction, so both are read for one page of the history and matched by time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from bot.store.models import Message, OutboxItem
from bot.store.records import BODY
from bot.store.uow import UnitOfWork

PAGE = 50
NOTICE_KINDS = ("alert", "escalation")
NOTICES_LATER = 20


@dataclass
class Entry:
    id: int
    at: datetime
    who: str  # survivor | advocate | harbour | notice
    text: str
    language: str | None = None
    translation: str | None = None  # machine translation, always shown marked
    translated_to: str | None = None
    quick_reply: str | None = None
    author: str | None = None
    channel: str = ""
    empty: bool = False  # nothing written: the text is a description, in English


@dataclass
class Timeline:
    entries: list[Entry]
    older: int | None  # the id to page back from, if there is more


async def load(
    uow: UnitOfWork,
    survivor_id: int,
    reader_language: str,
    before: int | None = None,
    survivor_language: str | None = None,
) -> Timeline:
    stmt = select(Message).where(Message.survivor_id == survivor_id)
    if before is not None:
        stmt = stmt.where(Message.id < before)
    rows = list(
        (await uow.session.execute(stmt.order_by(Message.id.desc()).limit(PAGE + 1))).scalars()
    )
    more = len(rows) > PAGE
    rows = list(reversed(rows[:PAGE]))
    if not rows:
        return Timeline([], None)
    outbox = await _outbox(uow, survivor_id, rows[0].created_at, rows[-1].created_at)
    if before is None:  # the newest page: notices since the last message too (an alert's rounds)
        for at, items in (await _notices_after(uow, survivor_id, rows[-1].created_at)).items():
            outbox.setdefault(at, []).extend(items)
    entries: list[Entry] = []
    for message in rows:
        body = uow.cipher.decrypt_text(message.body_enc, BODY) if message.body_enc else ""
        entry = _entry(message, body, outbox.get(message.created_at, []), reader_language)
        if entry.who == "survivor" and entry.language is None:
            entry.language = survivor_language  # what they chose; the relay had not detected
        entries.append(entry)
    notices = [
        Entry(-item_id, at, "notice", str(p.get("text", "")))
        for at, items in outbox.items()
        for item_id, kind, p in items
        if kind in NOTICE_KINDS and p.get("text")
    ]
    seen: set[str] = set()
    unique = []
    for notice in sorted(notices, key=lambda n: n.at):
        key = f"{notice.at.isoformat()}|{notice.text}"  # one per notice, not one per recipient
        if key not in seen:
            seen.add(key)
            unique.append(notice)
    merged = sorted([*entries, *unique], key=lambda e: (e.at, e.id if e.id > 0 else 1 << 60))
    return Timeline(merged, rows[0].id if more else None)


async def _outbox(
    uow: UnitOfWork, survivor_id: int, first: datetime, last: datetime
) -> dict[datetime, list[tuple[int, str, dict[str, Any]]]]:
    stmt = select(OutboxItem).where(
        OutboxItem.survivor_id == survivor_id,
        OutboxItem.created_at >= first,
        OutboxItem.created_at <= last,
        OutboxItem.kind.in_(("relay", "reply", *NOTICE_KINDS)),
        OutboxItem.payload_enc.is_not(None),
    )
    found: dict[datetime, list[tuple[int, str, dict[str, Any]]]] = {}
    for item in (await uow.session.execute(stmt.order_by(OutboxItem.id))).scalars():
        found.setdefault(item.created_at, []).append((item.id, item.kind, uow.outbox.payload(item)))
    return found


async def _notices_after(
    uow: UnitOfWork, survivor_id: int, after: datetime
) -> dict[datetime, list[tuple[int, str, dict[str, Any]]]]:
    """The latest staff notices about the case after its last message (at most NOTICES_LATER
    rows: an alert repeated for hours is many rows, and the alerts page has them all)."""
    stmt = (
        select(OutboxItem)
        .where(
            OutboxItem.survivor_id == survivor_id,
            OutboxItem.created_at > after,
            OutboxItem.kind.in_(NOTICE_KINDS),
            OutboxItem.payload_enc.is_not(None),
        )
        .order_by(OutboxItem.id.desc())
        .limit(NOTICES_LATER)
    )
    found: dict[datetime, list[tuple[int, str, dict[str, Any]]]] = {}
    for item in reversed(list((await uow.session.execute(stmt)).scalars())):
        found.setdefault(item.created_at, []).append((item.id, item.kind, uow.outbox.payload(item)))
    return found


def _entry(
    message: Message, body: str, queued: list[tuple[int, str, dict[str, Any]]], reader: str
) -> Entry:
    entry = Entry(message.id, message.created_at, "harbour", body, channel=message.channel)
    if message.direction == "in":
        entry.who = "survivor"
        if not body:  # a button press carries no words
            entry.text = "(pressed a button)" if message.navigation else "(no text)"
            entry.empty = True
            return entry
        relays = [p for _, kind, p in queued if kind == "relay" and p.get("original") == body]
        mine = [p for p in relays if p.get("staff_language") == reader] or relays
        if mine:
            entry.language = str(mine[0].get("language") or "") or None
            translation = mine[0].get("translation")
            if isinstance(translation, str) and translation and translation != body:
                entry.translation = translation
                entry.translated_to = str(mine[0].get("staff_language") or "")
        return entry
    replies = [p for _, kind, p in queued if kind == "reply" and p.get("original") == body]
    if replies:
        p = replies[0]
        entry.who = "advocate"
        entry.author = str(p.get("staff_name") or "") or None
        entry.language = str(p.get("survivor_language") or "") or None
        entry.quick_reply = str(p.get("quick_reply") or "") or None
        translation = p.get("translation")
        if isinstance(translation, str) and translation and not entry.quick_reply:
            entry.translation = translation
            entry.translated_to = entry.language
    return entry
