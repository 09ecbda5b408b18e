"""Optional check-ins: daily or weekly, at a local time that is safe for the survivor.

The advocate sets them with /checkin (or the CLI); the survivor can change how often, or
stop them, from any check-in. Each answer (a scale, or free text, which is relayed as well)
reaches the advocate. A check-in that was not answered by the time the next is due counts
towards the contact-loss watch. A check-in found due more than CHECKIN_GRACE late (the
service was down) is not sent at an odd hour: the next one is planned instead.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.care.appointments import AppointmentError, quiet_of, reachable_identity
from bot.care.quiet_hours import (
    in_quiet_hours,
    lenient_local,
    parse_hhmm,
    safe_before,
    zone,
)
from bot.engine.effects import Record
from bot.engine.events import SystemEvent
from bot.staff.routing import PRIORITY_BACKGROUND, PRIORITY_REPLY, notify_staff
from bot.staff.texts import StaffTexts
from bot.store.appointments import Appointments
from bot.store.crypto import Cipher
from bot.store.database import Database
from bot.store.models import CheckinPlan, Staff, Survivor
from bot.store.uow import UnitOfWork

if TYPE_CHECKING:
    from bot.messaging.conversation import ConversationService

log = logging.getLogger(__name__)

CHECKIN_GRACE = timedelta(hours=2)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_TIME = "18:00"


def next_checkin(after: datetime, plan: CheckinPlan, survivor: Survivor) -> datetime:
    """The first planned moment after `after`, moved before quiet hours if it falls in them."""
    tz, quiet, at = zone(survivor.timezone), quiet_of(survivor), parse_hhmm(plan.local_time)
    day = after.astimezone(tz).date()
    for _ in range(16):
        if plan.frequency == "daily" or day.weekday() == plan.weekday:
            due = safe_before(lenient_local(day, at, tz), quiet, tz)
            if due > after:
                return due
        day += timedelta(days=1)
    raise AssertionError("a daily or weekly plan always has a next moment")


def describe_plan(plan: CheckinPlan) -> str:
    if not plan.active:
        return "off"
    if plan.frequency == "daily":
        return f"daily at {plan.local_time}"
    return f"weekly on {WEEKDAYS[plan.weekday]} at {plan.local_time}"


async def set_plan(
    uow: UnitOfWork,
    now: datetime,
    survivor: Survivor,
    frequency: str,
    actor: str,
    local_time: str | None = None,
    weekday: str | None = None,
) -> CheckinPlan | None:
    """Start, change or stop (frequency "off") a survivor's check-ins."""
    repo = Appointments(uow.session, uow.outbox.cipher)
    plan = await repo.plan(survivor.id)
    if frequency == "off":
        if plan is not None:
            plan.active, plan.updated_at, plan.chosen_by = False, now, actor
        uow.audit.record(actor, "checkin.off", now, survivor_id=survivor.id)
        return plan
    if frequency not in ("daily", "weekly"):
        raise AppointmentError("staff.checkin_usage")
    try:
        at = local_time or (plan.local_time if plan else DEFAULT_TIME)
        parse_hhmm(at)
        day = WEEKDAYS.index(weekday.lower()[:3]) if weekday else (plan.weekday if plan else 0)
    except ValueError:
        raise AppointmentError("staff.checkin_usage") from None
    if plan is None:
        plan = CheckinPlan(survivor_id=survivor.id, unanswered=0, next_due_at=now)
        uow.session.add(plan)
    plan.frequency, plan.local_time, plan.weekday = frequency, at, day
    plan.active, plan.chosen_by, plan.updated_at = True, actor, now
    plan.next_due_at = next_checkin(now, plan, survivor)
    uow.audit.record(actor, "checkin.set", now, survivor_id=survivor.id, plan=describe_plan(plan))
    return plan


class CheckinService:
    def __init__(
        self,
        db: Database,
        cipher: Cipher,
        conversations: ConversationService,
        texts: StaffTexts,
        batch: int = 200,
    ) -> None:
        self.db = db
        self.cipher = cipher
        self.conversations = conversations
        self.texts = texts
        self.batch = batch

    async def tick(self, now: datetime) -> datetime | None:
        async with UnitOfWork(self.db, self.cipher) as uow:
            repo = Appointments(uow.session, self.cipher)
            for plan in await repo.claim_due_checkins(now, self.batch):
                survivor = await uow.people.survivor(plan.survivor_id)
                if survivor is None or survivor.status in ("merged", "erased", "closed"):
                    plan.active = False
                    continue
                await self._ask(uow, plan, survivor, now)
        async with UnitOfWork(self.db, self.cipher) as uow:
            return await Appointments(uow.session, self.cipher).next_checkin_due()

    async def _ask(
        self, uow: UnitOfWork, plan: CheckinPlan, survivor: Survivor, now: datetime
    ) -> None:
        due = plan.next_due_at
        plan.next_due_at = next_checkin(max(now, due), plan, survivor)
        if plan.asked_at is not None and (
            plan.answered_at is None or plan.answered_at < plan.asked_at
        ):
            plan.unanswered += 1  # the last one was never answered
        quiet, tz = quiet_of(survivor), zone(survivor.timezone)
        if now - due > CHECKIN_GRACE or in_quiet_hours(now, quiet, tz):
            return  # not at an odd hour: the next one is planned
        if survivor.status == "paused":
            return
        identity = await reachable_identity(uow, survivor)
        if identity is None or identity.channel not in self.conversations.channels:
            return
        queued = await self.conversations.system_turn(
            uow, now, survivor, identity, SystemEvent("checkin"), PRIORITY_BACKGROUND
        )
        if queued:
            plan.asked_at = now
            uow.audit.record("system", "checkin.asked", now, survivor_id=survivor.id)

    # -- answers (a ConversationService record hook) --------------------------------------
    async def on_record(
        self, uow: UnitOfWork, now: datetime, survivor: Survivor, record: Record
    ) -> None:
        if record.kind == "checkin_answer":
            plan = await Appointments(uow.session, self.cipher).plan(survivor.id)
            if plan is not None:
                plan.answered_at, plan.unanswered = now, 0
            answer = f"staff.checkin_answer.{record.value}"
            await self._tell(uow, survivor, now, "staff.checkin_answer", answer=answer)
            uow.audit.record(
                "survivor", "checkin.answered", now, survivor_id=survivor.id, answer=record.value
            )
        elif record.kind == "checkin_frequency":
            plan = await set_plan(uow, now, survivor, record.value, "survivor")
            described = describe_plan(plan) if plan is not None else "off"
            await self._tell(uow, survivor, now, "staff.checkin_changed", plan=described)

    async def _tell(
        self, uow: UnitOfWork, survivor: Survivor, now: datetime, key: str, **params: str
    ) -> None:
        def build(staff: Staff) -> str:
            words = {
                k: self.texts.text(v, staff.language) if v.startswith("staff.") else v
                for k, v in params.items()
            }
            return self.texts.text(key, staff.language, case=survivor.case_code, **words)

        await notify_staff(uow, survivor, now, kind="alert", build=build, priority=PRIORITY_REPLY)
