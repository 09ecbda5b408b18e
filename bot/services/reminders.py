"""Sending appointment reminders exactly once, and telling the advocate what happened.

Each tick claims the due jobs (atomically: see bot/store/appointments.py) and, in the same
transaction, writes the reminder to the outbox and marks the job sent. A crash before the
commit undoes both, so the next tick (in this process or another) does the job once.

The late-send rule, for a reminder found due later than planned (the service was down, or
quiet hours changed):
1. an appointment that has started, or that the survivor said they cannot make, gets no
   reminder (the advocate already knows);
2. when a later reminder of the same appointment is also due, only the latest one is sent;
3. in quiet hours nothing is sent: the reminder waits for them to end if that is still at
   least `min_lead` before the start, otherwise it is dropped and the advocate is told;
4. a reminder more than `late_grace` late is sent only if the start is at least `min_lead`
   away; otherwise it is dropped and the advocate is told, so they can phone instead.
The "no reply" check tells the advocate when a reminder went out and no answer came.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.engine.effects import Record
from bot.engine.events import SystemEvent
from bot.services.appointments import (
    AppointmentBook,
    ReminderPolicy,
    describe,
    quiet_of,
    reachable_identity,
    staff_when,
)
from bot.services.quiet_hours import QuietHours, in_quiet_hours, next_safe, zone
from bot.services.staff_routing import PRIORITY_BACKGROUND, PRIORITY_REPLY, notify_staff
from bot.staff_text import StaffTexts
from bot.store.appointments import Appointments
from bot.store.crypto import Cipher
from bot.store.database import Database
from bot.store.models import Appointment, AppointmentJob, OutboxItem, Staff, Survivor
from bot.store.uow import UnitOfWork

if TYPE_CHECKING:
    from bot.services.conversation import ConversationService

log = logging.getLogger(__name__)

BATCH = 500
CLOSED = ("merged", "erased", "closed")


@dataclass(frozen=True)
class Decision:
    action: str  # send | defer | skip | supersede | drop
    reason: str = ""
    at: datetime | None = None  # defer: the new due time


def decide(
    job: AppointmentJob,
    appointment: Appointment,
    later_due: bool,
    now: datetime,
    quiet: QuietHours | None,
    survivor_zone: str,
    policy: ReminderPolicy,
) -> Decision:
    """The late-send rule for one due reminder (pure; see the module docstring)."""
    starts = appointment.starts_at
    if starts <= now:
        return Decision("skip", "too_late")
    if appointment.reply == "cannot":
        return Decision("drop", "cannot")
    if later_due:
        return Decision("supersede")
    tz = zone(survivor_zone)
    if in_quiet_hours(now, quiet, tz):
        safe = next_safe(now, quiet, tz)
        if safe <= starts - policy.min_lead:
            return Decision("defer", at=safe)
        return Decision("skip", "quiet")
    if now - job.due_at > policy.late_grace and starts - now < policy.min_lead:
        return Decision("skip", "too_late")
    return Decision("send")


class ReminderService:
    """The reminders ticker, and the hook that hears the survivor's answer."""

    def __init__(
        self,
        db: Database,
        cipher: Cipher,
        conversations: ConversationService,
        book: AppointmentBook,
        texts: StaffTexts,
        batch: int = BATCH,
    ) -> None:
        self.db = db
        self.cipher = cipher
        self.conversations = conversations
        self.book = book
        self.texts = texts
        self.batch = batch
        self._queued: dict[int, OutboxItem] = {}

    @property
    def policy(self) -> ReminderPolicy:
        return self.book.policy

    async def tick(self, now: datetime) -> datetime | None:
        while await self.run_batch(now) >= self.batch:
            pass
        async with UnitOfWork(self.db, self.cipher) as uow:
            return await Appointments(uow.session, self.cipher).next_job_due()

    async def run_batch(self, now: datetime) -> int:
        """Claim up to one batch of due jobs and do them, all in one transaction. If one job
        fails, the batch is done again job by job, so one bad row holds back no other."""
        try:
            return await self._batch(now, careful=False)
        except Exception:
            log.warning("an appointment job failed; doing the batch one job at a time")
            return await self._batch(now, careful=True)

    async def _batch(self, now: datetime, careful: bool) -> int:
        async with UnitOfWork(self.db, self.cipher) as uow:
            repo = Appointments(uow.session, self.cipher)
            jobs = await repo.claim_due_jobs(now, self.batch)
            await repo.load_for_jobs(jobs)  # appointments and survivors in two queries
            for job in jobs:
                if not careful:
                    await self._run(uow, repo, job, jobs, now)
                    continue
                try:
                    async with uow.session.begin_nested():
                        await self._run(uow, repo, job, jobs, now)
                except Exception:
                    log.exception("appointment job %d failed; left for a person to check", job.id)
                    job.status, job.outcome, job.done_at = "error", "exception", now
            await uow.session.flush()
            for job in jobs:
                if self._queued.get(job.id) is not None:
                    job.outbox_id = self._queued.pop(job.id).id
            self._queued.clear()
            return len(jobs)

    async def _run(
        self,
        uow: UnitOfWork,
        repo: Appointments,
        job: AppointmentJob,
        batch: list[AppointmentJob],
        now: datetime,
    ) -> None:
        appointment = await uow.session.get(Appointment, job.appointment_id)
        survivor = await uow.people.survivor(appointment.survivor_id) if appointment else None
        if appointment is None or survivor is None or appointment.status != "scheduled":
            job.status, job.done_at = "cancelled", now
            return
        if survivor.status in CLOSED:
            job.status, job.outcome, job.done_at = "cancelled", survivor.status, now
            return
        if job.purpose == "no_reply":
            await self._no_reply(uow, job, appointment, survivor, now)
            return
        later_due = any(
            other.appointment_id == job.appointment_id
            and other.purpose == "reminder"
            and other.offset_minutes < job.offset_minutes
            and other.status in ("pending", "claimed")
            for other in batch
        )
        decision = decide(
            job, appointment, later_due, now, quiet_of(survivor), survivor.timezone, self.policy
        )
        if decision.action == "send":
            decision = await self._send(uow, job, appointment, survivor, now)
        if decision.action == "defer":
            assert decision.at is not None
            job.status, job.due_at = "pending", decision.at
            return
        job.done_at = now
        if decision.action in ("supersede", "drop"):
            job.status, job.outcome = "superseded", decision.reason or "later_reminder"
        elif decision.action == "skip":
            job.status, job.outcome = "skipped", decision.reason
            await self._tell_not_sent(uow, appointment, survivor, decision.reason, now)

    async def _send(
        self,
        uow: UnitOfWork,
        job: AppointmentJob,
        appointment: Appointment,
        survivor: Survivor,
        now: datetime,
    ) -> Decision:
        if survivor.status == "paused":
            return Decision("skip", "paused")
        identity = await reachable_identity(uow, survivor)
        if identity is None or identity.channel not in self.conversations.channels:
            return Decision("skip", "no_channel")
        repo = Appointments(uow.session, self.cipher)
        params = describe(self.book.bundle, appointment, survivor, repo.place(appointment))
        event = SystemEvent("reminder", tuple(params.items()))
        queued = await self.conversations.system_turn(
            uow, now, survivor, identity, event, PRIORITY_BACKGROUND
        )
        if not queued:
            return Decision("skip", "stopped")
        job.status = "sent"
        self._queued[job.id] = queued[0]  # its outbox id is known after the batch's flush
        appointment.reminded_at = now
        late = int((now - job.due_at).total_seconds())
        uow.audit.record(
            "system", "appointment.reminded", now, survivor_id=survivor.id,
            appointment=appointment.id, job=job.id, late_seconds=late,
        )  # fmt: skip
        return Decision("sent")

    async def _no_reply(
        self,
        uow: UnitOfWork,
        job: AppointmentJob,
        appointment: Appointment,
        survivor: Survivor,
        now: datetime,
    ) -> None:
        job.done_at = now
        if appointment.reply is not None or appointment.reminded_at is None:
            job.status, job.outcome = "done", "replied" if appointment.reply else "not_reminded"
            return
        job.status = "sent"
        await self._tell(uow, survivor, appointment, now, "staff.appt_no_reply", PRIORITY_REPLY)
        uow.audit.record(
            "system", "appointment.no_reply", now, survivor_id=survivor.id,
            appointment=appointment.id,
        )  # fmt: skip

    async def _tell_not_sent(
        self,
        uow: UnitOfWork,
        appointment: Appointment,
        survivor: Survivor,
        reason: str,
        now: datetime,
    ) -> None:
        await self._tell(
            uow, survivor, appointment, now, "staff.appt_not_sent", PRIORITY_REPLY,
            reason=f"staff.appt_skip.{reason}",
        )  # fmt: skip
        uow.audit.record(
            "system", "appointment.reminder_skipped", now, survivor_id=survivor.id,
            appointment=appointment.id, reason=reason,
        )  # fmt: skip

    async def _tell(
        self,
        uow: UnitOfWork,
        survivor: Survivor,
        appointment: Appointment,
        now: datetime,
        key: str,
        priority: int,
        **text_keys: str,
    ) -> None:
        """Tell the responsible staff, each in their language; values in `text_keys` are
        staff-text keys themselves."""

        def build(staff: Staff) -> str:
            words = {k: self.texts.text(v, staff.language) for k, v in text_keys.items()}
            return self.texts.text(
                key, staff.language, case=survivor.case_code, what=appointment.kind,
                when=staff_when(appointment), **words,
            )  # fmt: skip

        await notify_staff(
            uow, survivor, now, kind="alert", build=build, priority=priority,
            extra={"appointment": appointment.id},
        )  # fmt: skip

    # -- the survivor's answer (a ConversationService record hook) ------------------------
    async def on_record(
        self, uow: UnitOfWork, now: datetime, survivor: Survivor, record: Record
    ) -> None:
        if record.kind != "appointment_reply":
            return
        repo = Appointments(uow.session, self.cipher)
        appointment = await repo.awaiting_reply(survivor.id, now - timedelta(hours=1))
        if appointment is None:
            return
        appointment.reply, appointment.replied_at = record.value, now
        await self._tell(
            uow, survivor, appointment, now, "staff.appt_reply", PRIORITY_REPLY,
            answer=f"staff.appt_answer.{record.value}",
        )  # fmt: skip
        uow.audit.record(
            "survivor", "appointment.replied", now, survivor_id=survivor.id,
            appointment=appointment.id, reply=record.value,
        )  # fmt: skip
