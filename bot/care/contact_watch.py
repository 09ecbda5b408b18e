"""Contact-loss watch: going quiet is a risk signal, never a mere unsubscribe.

Every WATCH_INTERVAL each survivor in a caseload gets a score from what the database shows
over the last WINDOW:

| signal                                             | points            |
|----------------------------------------------------|-------------------|
| a reminder that went out and was never answered     | 1 each (max 3)    |
| a message to them that failed or was undelivered    | 1 each (max 3)    |
| Telegram blocked / the number opted out             | 3                 |
| STOP after they had been in contact                 | 2                 |
| check-ins unanswered in a row                       | 1 each (max 3)    |
| silence beyond their own rhythm (3x / 6x the usual) | 2 / 3             |

Levels: 2+ watch, 4+ concern, 6+ high. The advocate (or cover, or duty) is told when the
level rises, with the reasons and the channels on file. Nothing ever goes to the survivor.
"""

from __future__ import annotations

import itertools
import statistics
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select

from bot.staff.routing import PRIORITY_REPLY, PRIORITY_URGENT, notify_staff
from bot.staff.texts import StaffTexts
from bot.store.appointments import Appointments
from bot.store.crypto import Cipher
from bot.store.database import Database
from bot.store.models import Appointment, Identity, Message, OutboxItem, Staff, Survivor
from bot.store.uow import UnitOfWork

WATCH_INTERVAL = timedelta(hours=1)
WINDOW = timedelta(days=30)
RHYTHM_WINDOW = timedelta(days=60)
MIN_SILENCE = timedelta(days=3)
LEVELS = ((6, 3), (4, 2), (2, 1))
WATCHED_STATUSES = ("active", "paused", "stopped")


@dataclass
class Score:
    points: int = 0
    reasons: list[tuple[str, dict[str, str]]] = field(default_factory=list)  # (key, params)

    def add(self, points: int, key: str, **params: str) -> None:
        if points > 0:
            self.points += points
            self.reasons.append((key, params))

    @property
    def level(self) -> int:
        return next((level for floor, level in LEVELS if self.points >= floor), 0)


def usual_gap(times: list[datetime]) -> timedelta | None:
    """The survivor's normal rhythm: the median gap between their messages (3 or more)."""
    if len(times) < 3:
        return None
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(times)]
    return timedelta(seconds=max(statistics.median(gaps), 3600.0))


def silence_points(silent: timedelta, usual: timedelta | None) -> int:
    usual = usual or timedelta(days=2)
    if silent > max(6 * usual, 2 * MIN_SILENCE):
        return 3
    if silent > max(3 * usual, MIN_SILENCE):
        return 2
    return 0


class ContactWatchService:
    def __init__(self, db: Database, cipher: Cipher, texts: StaffTexts) -> None:
        self.db = db
        self.cipher = cipher
        self.texts = texts
        self._next_run: datetime | None = None

    async def tick(self, now: datetime) -> datetime | None:
        if self._next_run is not None and now < self._next_run:
            return self._next_run
        async with UnitOfWork(self.db, self.cipher) as uow:
            stmt = select(Survivor).where(
                Survivor.status.in_(WATCHED_STATUSES), Survivor.advocate_id.is_not(None)
            )
            for survivor in list((await uow.session.execute(stmt)).scalars()):
                await self.check(uow, survivor, now)
        self._next_run = now + WATCH_INTERVAL
        return self._next_run

    async def score(self, uow: UnitOfWork, survivor: Survivor, now: datetime) -> Score:
        score, since, session = Score(), now - WINDOW, uow.session
        missed = await session.scalar(
            select(func.count()).select_from(Appointment).where(
                Appointment.survivor_id == survivor.id, Appointment.status == "scheduled",
                Appointment.reminded_at.is_not(None), Appointment.reply.is_(None),
                Appointment.starts_at <= now, Appointment.starts_at >= since,
            )
        )  # fmt: skip
        score.add(min(int(missed or 0), 3), "staff.watch.missed_confirmations", count=str(missed))
        failed = await session.scalar(
            select(func.count()).select_from(OutboxItem)
            .join(Identity, Identity.id == OutboxItem.identity_id)
            .where(
                Identity.survivor_id == survivor.id, OutboxItem.created_at >= since,
                OutboxItem.status.in_(("failed", "undelivered")),
            )
        )  # fmt: skip
        score.add(min(int(failed or 0), 3), "staff.watch.failed_sends", count=str(failed))
        identities = await uow.people.identities_of_survivor(survivor.id)
        blocked = [i.channel for i in identities if i.status in ("blocked", "opted_out")]
        score.add(3 if blocked else 0, "staff.watch.blocked", channels=", ".join(blocked))
        stopped = [i.channel for i in identities if i.status == "stopped"]
        engaged = survivor.last_inbound_at is not None
        score.add(
            2 if stopped and engaged else 0, "staff.watch.stopped", channels=", ".join(stopped)
        )
        plan = await Appointments(session, self.cipher).plan(survivor.id)
        unanswered = plan.unanswered if plan is not None and plan.active else 0
        score.add(min(unanswered, 3), "staff.watch.unanswered_checkins", count=str(unanswered))
        if survivor.last_inbound_at is not None:
            times = list(
                (
                    await session.execute(
                        select(Message.created_at)
                        .where(
                            Message.survivor_id == survivor.id, Message.direction == "in",
                            Message.created_at >= now - RHYTHM_WINDOW,
                        )
                        .order_by(Message.created_at)
                    )
                ).scalars()
            )  # fmt: skip
            usual = usual_gap(times)
            silent = now - survivor.last_inbound_at
            score.add(
                silence_points(silent, usual), "staff.watch.silence",
                days=str(silent.days), usual=_span(usual) if usual else "?",
            )  # fmt: skip
        return score

    async def check(self, uow: UnitOfWork, survivor: Survivor, now: datetime) -> Score:
        score = await self.score(uow, survivor, now)
        watch = await Appointments(uow.session, self.cipher).watch(survivor.id, now)
        watch.score, watch.level, watch.checked_at = score.points, score.level, now
        watch.reasons = [key.rsplit(".", 1)[-1] for key, _ in score.reasons]
        if score.level > watch.alerted_level:
            await self._alert(uow, survivor, score, now)
            watch.alerted_level, watch.alerted_at = score.level, now
        elif score.level < watch.alerted_level:
            watch.alerted_level = score.level  # a later rise is told again
        return score

    async def _alert(
        self, uow: UnitOfWork, survivor: Survivor, score: Score, now: datetime
    ) -> None:
        identities = await uow.people.identities_of_survivor(survivor.id)
        channels = ", ".join(f"{i.channel} ({i.status})" for i in identities) or "none"

        def build(staff: Staff) -> str:
            language = staff.language
            reasons = "\n".join(self.texts.text(k, language, **p) for k, p in score.reasons)
            return self.texts.text(
                "staff.watch_alert", language, case=survivor.case_code, score=str(score.points),
                level=self.texts.text(f"staff.watch_level.{score.level}", language),
                reasons=reasons, channels=channels,
            )  # fmt: skip

        priority = PRIORITY_URGENT if score.level >= 3 else PRIORITY_REPLY
        await notify_staff(
            uow, survivor, now, kind="alert", build=build, priority=priority,
            extra={"reason": "contact_watch", "level": score.level},
        )  # fmt: skip
        uow.audit.record(
            "system", "contact_watch.alert", now, survivor_id=survivor.id,
            level=score.level, score=score.points, reasons=[k for k, _ in score.reasons],
        )  # fmt: skip


def _span(gap: timedelta) -> str:
    hours = gap.total_seconds() / 3600
    return f"{hours / 24:.0f} days" if hours >= 36 else f"{hours:.0f} hours"
