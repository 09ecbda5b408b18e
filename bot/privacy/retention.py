"""Retention: each kind of data is kept for its configured period, then its content goes.

| kind                   | after the period                                            |
|------------------------|-------------------------------------------------------------|
| message bodies         | the text is deleted; the row (when, which way) stays        |
| raw inbox payloads     | deleted once processed; the row stays for deduplication     |
| finished outbox rows   | deleted (sent, delivered, undelivered, failed, cancelled)   |
| audit details          | the detail and note are emptied; who, what and when stay    |
| closed cases           | erased like an erasure request, leaving a tombstone         |

A purge keeps counts, never content: what it reports, logs and audits are numbers.
It runs nightly (RetentionTicker, through the scheduler) and by hand with
`harbour purge --dry-run|--apply`. Each tick also deletes identities detached by a chat
erasure once their farewell has been sent.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.sql.expression import ColumnElement

from bot.privacy.erasure import erase, sweep_detached
from bot.settings import Settings
from bot.store.crypto import Cipher
from bot.store.database import Database
from bot.store.models import AuditEvent, InboxItem, Message, OutboxItem, Survivor
from bot.store.uow import UnitOfWork

log = logging.getLogger(__name__)

FINISHED = ("sent", "delivered", "undelivered", "failed", "cancelled")
CLOSED = ("closed", "merged")
PURGE_AT = time(3, 0)  # UTC: the quietest hour
BATCH = 500


@dataclass(frozen=True)
class Periods:
    message_bodies: timedelta
    inbox_payloads: timedelta
    outbox_rows: timedelta
    audit_details: timedelta
    closed_cases: timedelta

    @classmethod
    def from_settings(cls, settings: Settings) -> Periods:
        return cls(
            message_bodies=timedelta(days=settings.retention_message_body_days),
            inbox_payloads=timedelta(days=settings.retention_inbox_payload_days),
            outbox_rows=timedelta(days=settings.retention_outbox_days),
            audit_details=timedelta(days=settings.retention_audit_detail_days),
            closed_cases=timedelta(days=settings.retention_closed_case_days),
        )


@dataclass
class PurgeCounts:
    message_bodies: int = 0
    inbox_payloads: int = 0
    outbox_rows: int = 0
    audit_details: int = 0
    closed_cases: int = 0

    def lines(self) -> list[str]:
        return [f"{name.replace('_', ' ')}: {count}" for name, count in asdict(self).items()]


async def _count(uow: UnitOfWork, model: type, *where: ColumnElement[bool]) -> int:
    stmt = select(func.count()).select_from(model).where(*where)
    return int((await uow.session.execute(stmt)).scalar_one())


async def _purge_rows(uow: UnitOfWork, now: datetime, periods: Periods, apply: bool) -> PurgeCounts:
    counts = PurgeCounts()
    bodies = (Message.created_at < now - periods.message_bodies, Message.body_enc.is_not(None))
    inbox = (
        InboxItem.received_at < now - periods.inbox_payloads,
        InboxItem.processed_at.is_not(None),  # never a message still waiting to be handled
        InboxItem.payload_enc.is_not(None),
    )
    outbox = (OutboxItem.created_at < now - periods.outbox_rows, OutboxItem.status.in_(FINISHED))
    counts.message_bodies = await _count(uow, Message, *bodies)
    counts.inbox_payloads = await _count(uow, InboxItem, *inbox)
    counts.outbox_rows = await _count(uow, OutboxItem, *outbox)
    old_audit = select(AuditEvent.id).where(
        AuditEvent.at < now - periods.audit_details, AuditEvent.detail_enc.is_not(None)
    )
    detailed = list((await uow.session.execute(old_audit)).scalars())
    counts.audit_details = len(detailed)
    if apply:
        session = uow.session
        await session.execute(update(Message).where(*bodies).values(body_enc=None))
        await session.execute(update(InboxItem).where(*inbox).values(payload_enc=None))
        await session.execute(delete(OutboxItem).where(*outbox))
        for start in range(0, len(detailed), BATCH):
            ids = detailed[start : start + BATCH]
            await session.execute(
                update(AuditEvent).where(AuditEvent.id.in_(ids)).values(detail_enc=None)
            )
    return counts


async def _closed_cases(uow: UnitOfWork, now: datetime, period: timedelta) -> list[int]:
    """Closed (and merged intake) cases with no activity of any kind within the period."""
    cutoff = now - period
    last_event = (
        select(func.max(AuditEvent.at))
        .where(AuditEvent.survivor_id == Survivor.id)
        .scalar_subquery()
    )
    stmt = select(Survivor.id).where(
        Survivor.status.in_(CLOSED),
        Survivor.created_at < cutoff,
        (Survivor.last_inbound_at.is_(None)) | (Survivor.last_inbound_at < cutoff),
        (last_event.is_(None)) | (last_event < cutoff),
    )
    return list((await uow.session.execute(stmt)).scalars())


async def purge(
    db: Database,
    cipher: Cipher,
    now: datetime,
    periods: Periods,
    *,
    apply: bool,
) -> PurgeCounts:
    """Delete what is past its period (apply) or only count it (dry run)."""
    async with UnitOfWork(db, cipher) as uow:
        counts = await _purge_rows(uow, now, periods, apply)
        closed = await _closed_cases(uow, now, periods.closed_cases)
        counts.closed_cases = len(closed)
    if apply:
        for survivor_id in closed:  # one transaction each: a failure spoils only that case
            async with UnitOfWork(db, cipher) as uow:
                survivor = await uow.people.survivor(survivor_id)
                if survivor is not None:
                    await erase(uow, now, survivor, actor="retention", texts=None)
        async with UnitOfWork(db, cipher) as uow:
            uow.audit.record("retention", "retention.purged", now, **asdict(counts))
    log.info("retention %s: %s", "purge" if apply else "dry run", "; ".join(counts.lines()))
    return counts


def next_run_after(now: datetime) -> datetime:
    today = datetime.combine(now.date(), PURGE_AT, tzinfo=now.tzinfo)
    return today if today > now else today + timedelta(days=1)


class RetentionTicker:
    """The nightly purge, and the sweep of identities detached by a chat erasure."""

    def __init__(self, db: Database, cipher: Cipher, periods: Periods) -> None:
        self.db = db
        self.cipher = cipher
        self.periods = periods
        self.next_purge: datetime | None = None  # None: purge at the first tick (start-up)

    async def tick(self, now: datetime) -> datetime | None:
        async with UnitOfWork(self.db, self.cipher) as uow:
            await sweep_detached(uow)
        if self.next_purge is None or now >= self.next_purge:
            await purge(self.db, self.cipher, now, self.periods, apply=True)
            self.next_purge = next_run_after(now)
        return self.next_purge
