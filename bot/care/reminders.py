"""Sending appointment reminders exactly once, and telling the advocate what happened.

Each tick claims a batch of due jobs (atomically: see bot/store/appointments.py) and, in the
same transaction, writes the reminders to the outbox and marks the jobs sent. A crash before
the commit undoes both, so the next tick (in this process or another) does each job once.
The survivor-facing writes of a batch are grouped (bot/care/reminder_batch.py).

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

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from bot.care.appointments import (
    AppointmentBook,
    ReminderPolicy,
    describe,
    quiet_of,
    staff_when,
)
from bot.care.quiet_hours import QuietHours, in_quiet_hours, next_safe, zone
from bot.care.reminder_batch import ReminderBatch
from bot.engine.effects import Record
from bot.staff.routing import PRIORITY_REPLY, notify_staff
from bot.staff.texts import StaffTexts
from bot.store.appointments import (
    CLAIMED,
    Appointments,
    BatchAppointment,
    BatchSurvivor,
    DueJob,
)
from bot.store.crypto import Cipher
from bot.store.database import Database
from bot.store.models import Appointment, Staff, Survivor
from bot.store.uow import UnitOfWork

if TYPE_CHECKING:
    from bot.messaging.conversation import ConversationService

log = logging.getLogger(__name__)

BATCH = 500
LANES = 2  # batches side by side on PostgreSQL (see ReminderService.drain)
CLOSED = ("merged", "erased", "closed")


@dataclass(frozen=True)
class Decision:
    action: str  # send | defer | skip | supersede | drop
    reason: str = ""
    at: datetime | None = None  # defer: the new due time


class Pending(Protocol):
    @property
    def due_at(self) -> datetime: ...


class Starting(Protocol):
    @property
    def starts_at(self) -> datetime: ...
    @property
    def reply(self) -> str | None: ...


def decide(
    job: Pending,
    appointment: Starting,
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


@dataclass
class Batch:
    """One claimed batch: its jobs in due order, their appointments, and the writer."""

    uow: UnitOfWork
    jobs: list[DueJob]
    appointments: dict[int, BatchAppointment]
    reminders: ReminderBatch
    still_due: dict[int, list[int]]  # appointment id -> offsets of reminders still to do
    reminded: dict[int, datetime] = field(default_factory=dict)  # appointment id -> when
    by_appointment: dict[int, list[DueJob]] = field(default_factory=dict)

    def later_reminder_due(self, job: DueJob) -> bool:
        """A later reminder of the same appointment is due and still to do: in this batch
        (as it stands now) or outside it (as it stood when the batch began)."""
        here = self.by_appointment.get(job.appointment_id, [])
        ours = {other.offset_minutes for other in here}
        inside = any(
            other.purpose == "reminder"
            and other.offset_minutes < job.offset_minutes
            and other.status in ("pending", CLAIMED)
            for other in here
        )
        outside = any(
            offset < job.offset_minutes and offset not in ours
            for offset in self.still_due.get(job.appointment_id, ())
        )
        return inside or outside


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

    @property
    def policy(self) -> ReminderPolicy:
        return self.book.policy

    async def tick(self, now: datetime) -> datetime | None:
        await self.drain(now)
        async with UnitOfWork(self.db, self.cipher) as uow:
            return await Appointments(uow.session, self.cipher).next_job_due()

    async def drain(self, now: datetime) -> int:
        """Do batches until nothing is due; returns how many jobs were done. On PostgreSQL
        two batches run side by side (their claims skip each other's rows), so one renders
        while the other waits for the database; SQLite has one writer, so one at a time."""

        async def lane() -> int:
            done = 0
            while (handled := await self.run_batch(now)) > 0:
                done += handled
                if handled < self.batch:
                    break
            return done

        lanes = 1 if self.db.is_sqlite else LANES
        return sum(await asyncio.gather(*(lane() for _ in range(lanes))))

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
            jobs = await repo.claim_due(now, self.batch)
            if not jobs:
                return 0
            appointments = await repo.load_batch(jobs)  # with their survivors, in one query
            reminders = ReminderBatch(uow, self.conversations, now)
            await reminders.prepare({a.survivor_id for a in appointments.values()})
            due = await repo.reminders_still_due(appointments.keys(), now)
            batch = Batch(uow, jobs, appointments, reminders, due)
            for job in jobs:
                batch.by_appointment.setdefault(job.appointment_id, []).append(job)
            for job in jobs:
                if not careful:
                    await self._run(batch, job, now)
                    continue
                appointment = appointments.get(job.appointment_id)
                reminded_before = appointment.reminded_at if appointment else None
                try:
                    async with uow.session.begin_nested():
                        await self._run(batch, job, now)
                        await reminders.write()
                except Exception:
                    log.exception("appointment job %d failed; left for a person to check", job.id)
                    job.status, job.outcome, job.done_at = "error", "exception", now
                    if appointment is not None:
                        appointment.reminded_at = reminded_before
                        batch.reminded.pop(appointment.id, None)
                        reminders.forget(appointment.survivor_id)
            await reminders.write()
            await repo.finish_jobs(jobs)
            await repo.mark_reminded(batch.reminded)
            return len(jobs)

    async def _run(self, batch: Batch, job: DueJob, now: datetime) -> None:
        appointment = batch.appointments.get(job.appointment_id)
        survivor = appointment.survivor if appointment else None
        if appointment is None or survivor is None or appointment.status != "scheduled":
            job.status, job.done_at = "cancelled", now
            return
        if survivor.status in CLOSED:
            job.status, job.outcome, job.done_at = "cancelled", survivor.status, now
            return
        if job.purpose == "no_reply":
            await self._no_reply(batch.uow, job, appointment, survivor, now)
            return
        decision = decide(
            job, appointment, batch.later_reminder_due(job), now, quiet_of(survivor),
            survivor.timezone, self.policy,
        )  # fmt: skip
        if decision.action == "send":
            decision = await self._send(batch, job, appointment, survivor, now)
        if decision.action == "defer":
            assert decision.at is not None
            job.status, job.due_at = "pending", decision.at
            return
        job.done_at = now
        if decision.action in ("supersede", "drop"):
            job.status, job.outcome = "superseded", decision.reason or "later_reminder"
        elif decision.action == "skip":
            job.status, job.outcome = "skipped", decision.reason
            await self._tell_not_sent(batch.uow, appointment, survivor, decision.reason, now)

    async def _send(
        self,
        batch: Batch,
        job: DueJob,
        appointment: BatchAppointment,
        survivor: BatchSurvivor,
        now: datetime,
    ) -> Decision:
        if survivor.status == "paused":
            return Decision("skip", "paused")
        identity = batch.reminders.identity(survivor)
        if identity is None or identity.channel not in self.conversations.channels:
            return Decision("skip", "no_channel")
        place = Appointments(batch.uow.session, self.cipher).place(appointment)
        params = describe(self.book.bundle, appointment, survivor, place)
        if not await batch.reminders.remind(job, survivor, identity, params):
            return Decision("skip", "stopped")
        job.status = "sent"  # its outbox id is known once the batch is written
        appointment.reminded_at = batch.reminded[appointment.id] = now
        late = int((now - job.due_at).total_seconds())
        batch.reminders.audit(
            "appointment.reminded", survivor.id, appointment=appointment.id, job=job.id,
            late_seconds=late,
        )  # fmt: skip
        return Decision("sent")

    async def _no_reply(
        self,
        uow: UnitOfWork,
        job: DueJob,
        appointment: BatchAppointment,
        survivor: BatchSurvivor,
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
        appointment: BatchAppointment,
        survivor: BatchSurvivor,
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
        survivor: BatchSurvivor | Survivor,
        appointment: BatchAppointment | Appointment,
        now: datetime,
        key: str,
        priority: int,
        **text_keys: str,
    ) -> None:
        """Tell the responsible staff, each in their language; values in `text_keys` are
        staff-text keys themselves."""
        person = survivor if isinstance(survivor, Survivor) else None
        person = person or await uow.people.survivor(survivor.id)
        assert person is not None  # read in this transaction

        def build(staff: Staff) -> str:
            words = {k: self.texts.text(v, staff.language) for k, v in text_keys.items()}
            return self.texts.text(
                key, staff.language, case=survivor.case_code, what=appointment.kind,
                when=staff_when(appointment), **words,
            )  # fmt: skip

        await notify_staff(
            uow, person, now, kind="alert", build=build, priority=priority,
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
