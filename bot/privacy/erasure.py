"""Erasing everything about one survivor, in every table, leaving only a tombstone.

What is "about the survivor" is worked out from the schema, so tables added later are covered
without touching this file:
- every row with a foreign key to the survivor (identities, messages, outbox, conversations,
  consent records, audit events, appointments, reminders, escalations...);
- every row with a foreign key to a row being erased (an outbox row to their identity, a
  reminder of their appointment...);
- raw inbox payloads, which have no survivor column: those their history points at, those
  sent from one of their addresses, and staff commands that name their case code;
- staff-side outbox rows that name the case code (a /case read-out, "reply queued").
A test checks that every table is either reached this way or listed in NOT_ABOUT_SURVIVORS.

Intake records merged into this survivor at enrolment are erased with them. What stays is an
ErasureTombstone (the case code and the date) and an audit event saying who erased it, when.
It cannot be undone: there is no copy anywhere in the database afterwards.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Table, delete, false, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.channels.telegram.parse import parse_update
from bot.staff.routing import PRIORITY_REPLY, responsible_staff, staff_identity
from bot.staff.texts import StaffTexts
from bot.store.models import (
    Base,
    ErasureTombstone,
    Identity,
    InboxItem,
    Message,
    OutboxItem,
    Survivor,
)
from bot.store.uow import UnitOfWork

# Tables that hold nothing about any one survivor.
NOT_ABOUT_SURVIVORS = frozenset(
    {"meta", "staff", "rota_shifts", "erasure_tombstones", "key_rotation_progress"}
    # The console's sign-in tables are about staff (0008_19); case notes are reached by key.
    | {"staff_credentials", "console_sessions", "login_failures"}
)
# Tables without a survivor link whose rows are found by looking inside them.
FOUND_BY_CONTENT = frozenset({"inbox"})
SCAN_BATCH = 500


@dataclass
class ErasureReport:
    case_code: str
    erased_on: str
    rows: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.rows.values())


class NoSuchCase(Exception):
    """No survivor has that case code (or it was already erased)."""


def unreached_tables() -> list[str]:
    """Tables neither reached from survivors by foreign keys nor declared: must be empty."""
    reached = {"survivors"}
    for table in Base.metadata.sorted_tables:
        if any(fk.column.table.name in reached for fk in table.foreign_keys):
            reached.add(table.name)
    declared = reached | NOT_ABOUT_SURVIVORS | FOUND_BY_CONTENT
    return sorted(t.name for t in Base.metadata.sorted_tables if t.name not in declared)


def _tokens(text: str) -> set[str]:
    """Upper-case alphanumeric words: how a case code is found inside a command or payload."""
    words, current = set(), []
    for ch in text.upper():
        if ch.isascii() and ch.isalnum():
            current.append(ch)
        elif current:
            words.add("".join(current))
            current = []
    if current:
        words.add("".join(current))
    return words


def sender_of(channel: str, payload: dict[str, Any]) -> str | None:
    """The address a raw inbound payload came from, per channel."""
    if channel == "telegram":
        parsed = parse_update(payload)
        return parsed.address if parsed is not None else None
    for key in ("From", "from"):
        value = payload.get(key)
        if isinstance(value, str):
            return value
    return None


async def _related_survivors(session: AsyncSession, survivor: Survivor) -> set[int]:
    """The survivor and the intake records merged into them (found through the identities
    they shared: an intake's outbox rows went to the identity that is now the survivor's)."""
    ids = {survivor.id}
    own_identities = select(Identity.id).where(Identity.survivor_id == survivor.id)
    stmt = (
        select(Survivor.id)
        .join(OutboxItem, OutboxItem.survivor_id == Survivor.id)
        .where(Survivor.status == "merged", OutboxItem.identity_id.in_(own_identities))
    )
    ids.update((await session.execute(stmt)).scalars())
    return ids


async def _inbox_rows(
    uow: UnitOfWork, ids: set[int], addresses: set[tuple[str, str]], code: str
) -> set[int]:
    found = set(
        (
            await uow.session.execute(
                select(Message.inbox_id).where(
                    Message.survivor_id.in_(ids), Message.inbox_id.is_not(None)
                )
            )
        ).scalars()
    )
    last = 0
    while True:
        stmt = select(InboxItem).where(InboxItem.id > last).order_by(InboxItem.id)
        batch = list((await uow.session.execute(stmt.limit(SCAN_BATCH))).scalars())
        if not batch:
            break
        for item in batch:
            last = item.id
            if item.payload_enc is None or item.id in found:
                continue
            payload = uow.inbox.payload(item)
            sender = sender_of(item.channel, payload)
            if sender is not None and (item.channel, sender) in addresses:
                found.add(item.id)
            elif item.processed_at is not None and code in _tokens(json.dumps(payload)):
                found.add(item.id)  # a staff command naming the case
    return {i for i in found if i is not None}


async def _staff_outbox_rows(uow: UnitOfWork, code: str) -> set[int]:
    found: set[int] = set()
    last = 0
    while True:
        stmt = (
            select(OutboxItem)
            .where(OutboxItem.id > last, OutboxItem.survivor_id.is_(None))
            .order_by(OutboxItem.id)
        )
        batch = list((await uow.session.execute(stmt.limit(SCAN_BATCH))).scalars())
        if not batch:
            return found
        for item in batch:
            last = item.id
            if code in _tokens(json.dumps(uow.outbox.payload(item))):
                found.add(item.id)


def _selections(
    ids: set[int], inbox_ids: set[int], outbox_ids: set[int]
) -> list[tuple[Table, ColumnElement[bool]]]:
    """For each table, in dependency order, which rows are about the survivor."""
    chosen: dict[str, ColumnElement[bool]] = {}
    order: list[tuple[Table, ColumnElement[bool]]] = []
    for table in Base.metadata.sorted_tables:
        clauses: list[ColumnElement[bool]] = []
        if table.name == "survivors":
            clauses.append(table.c.id.in_(ids))
        if table.name == "inbox":
            clauses.append(table.c.id.in_(inbox_ids))
        if table.name == "outbox":
            clauses.append(table.c.id.in_(outbox_ids))
        for fk in table.foreign_keys:
            parent = fk.column.table
            if parent.name == "survivors":
                clauses.append(fk.parent.in_(ids))
            elif parent.name in chosen and parent.name != table.name:
                rows = select(fk.column).where(chosen[parent.name])
                clauses.append(fk.parent.in_(rows))
        if clauses:
            chosen[table.name] = or_(false(), *clauses)
            order.append((table, chosen[table.name]))
    return order


async def erase(
    uow: UnitOfWork,
    now: datetime,
    survivor: Survivor,
    *,
    actor: str,
    texts: StaffTexts | None = None,
    keep_identity: Identity | None = None,
    farewell: str | None = None,
) -> ErasureReport:
    """Delete everything about `survivor`, in the caller's transaction.

    `keep_identity` (chat erasure) is detached from the case and scrambled instead, so the
    `farewell` can still be delivered; the purge deletes it once that send has finished."""
    session = uow.session
    await session.flush()
    code = survivor.case_code
    ids = await _related_survivors(session, survivor)
    identities = list(
        (await session.execute(select(Identity).where(Identity.survivor_id.in_(ids)))).scalars()
    )
    addresses = {(i.channel, uow.people.address_of(i)) for i in identities}
    identity_ids = {i.id for i in identities}
    inbox_ids = await _inbox_rows(uow, ids, addresses, code)
    outbox_ids = await _staff_outbox_rows(uow, code)
    outbox_ids.update(
        (
            await session.execute(
                select(OutboxItem.id).where(
                    or_(OutboxItem.survivor_id.in_(ids), OutboxItem.identity_id.in_(identity_ids))
                )
            )
        ).scalars()
    )
    tell = await _staff_to_tell(uow, now, survivor) if texts is not None else []
    if keep_identity is not None:
        await session.execute(
            update(Identity)
            .where(Identity.id == keep_identity.id)
            .values(survivor_id=None, status="erased", address_hash=_scrambled())
        )
    report = ErasureReport(code, now.date().isoformat())
    for table, where in reversed(_selections(ids, inbox_ids, outbox_ids)):
        if table.name == "identities" and keep_identity is not None:
            where = where & (table.c.id != keep_identity.id)
        result = await session.execute(delete(table).where(where))
        count = int(getattr(result, "rowcount", 0) or 0)
        if count:
            report.rows[table.name] = count
    session.expunge_all()  # the deleted rows must never be flushed back
    session.add(ErasureTombstone(case_code=code, erased_on=report.erased_on))
    uow.audit.record(actor, "survivor.erased", now, case=code, rows=report.total)
    if keep_identity is not None and farewell:
        uow.outbox.add(
            channel=keep_identity.channel,
            identity_id=keep_identity.id,
            payload={"text": farewell},
            now=now,
            kind="message",
            priority=PRIORITY_REPLY,
        )
    if texts is not None:
        for staff_language, identity in tell:
            text = texts.text("staff.erased", staff_language, case=code)
            uow.outbox.add(
                channel=identity.channel,
                identity_id=identity.id,
                payload={"text": text, "case": code},
                now=now,
                kind="alert",
                priority=PRIORITY_REPLY,
            )
    return report


async def _staff_to_tell(
    uow: UnitOfWork, now: datetime, survivor: Survivor
) -> list[tuple[str, Identity]]:
    found = []
    for staff in await responsible_staff(uow, survivor, now):
        identity = await staff_identity(uow, staff)
        if identity is not None:
            found.append((staff.language, identity))
    return found


def _scrambled() -> str:
    """A hash no address can have, so the detached identity is never found again."""
    return "erased:" + secrets.token_hex(16)


async def erase_by_code(
    uow: UnitOfWork, now: datetime, case_code: str, *, actor: str, texts: StaffTexts | None
) -> ErasureReport:
    survivor = await uow.people.survivor_by_code(case_code)
    if survivor is None or survivor.status in ("merged", "erased"):
        raise NoSuchCase(case_code)
    return await erase(uow, now, survivor, actor=actor, texts=texts)


async def sweep_detached(uow: UnitOfWork) -> int:
    """Delete identities left by a chat erasure once their last message has been sent."""
    busy = select(OutboxItem.identity_id).where(
        OutboxItem.status.in_(("pending", "sending", "preparing"))
    )
    stmt = select(Identity.id).where(
        Identity.status == "erased",
        Identity.survivor_id.is_(None),
        Identity.staff_id.is_(None),
        Identity.id.not_in(busy),
    )
    done = list((await uow.session.execute(stmt)).scalars())
    if done:
        await uow.session.execute(delete(OutboxItem).where(OutboxItem.identity_id.in_(done)))
        await uow.session.execute(delete(Identity).where(Identity.id.in_(done)))
    return len(done)


async def tombstones(session: AsyncSession, case_code: str) -> list[str]:
    stmt = select(ErasureTombstone.erased_on).where(
        ErasureTombstone.case_code == case_code.strip().upper()
    )
    return list((await session.execute(stmt)).scalars())
