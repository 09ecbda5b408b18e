"""Repository for appointments, their due jobs, check-in plans and the contact-loss watch.

Never commits: services own the transaction. Due rows are claimed atomically on both
databases, like the outbox: PostgreSQL locks them with `FOR UPDATE SKIP LOCKED` (another
worker skips them); SQLite (which ignores SKIP LOCKED without a word) uses a compare-and-set
UPDATE ... WHERE status = 'pending' RETURNING id, whose returned rows (its rowcount) are the
ones this worker won. The caller then does the work and marks
each row done in the same transaction, so a crash rolls both back together.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from typing import cast as typed

from sqlalchemy import (
    ARRAY,
    CursorResult,
    Integer,
    and_,
    any_,
    bindparam,
    cast,
    func,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.batch import table
from bot.store.crypto import Cipher
from bot.store.models import Appointment, AppointmentJob, CheckinPlan, ContactWatch, Survivor

PLACE = "appointment.place"
APPOINTMENTS, JOBS, SURVIVORS = table(Appointment), table(AppointmentJob), table(Survivor)
CLAIMED = "claimed"  # a job row taken by a worker inside its open transaction


@dataclass
class DueJob:
    """A claimed appointment_jobs row, and what the ticker decided to do with it."""

    id: int
    appointment_id: int
    purpose: str  # reminder | no_reply
    offset_minutes: int
    due_at: datetime
    status: str = CLAIMED
    outcome: str | None = None
    done_at: datetime | None = None
    outbox_id: int | None = None


@dataclass(frozen=True)
class BatchSurvivor:
    """What a reminder batch reads of a survivor (plain values: no ORM object per row)."""

    id: int
    case_code: str
    language: str | None
    timezone: str
    quiet_start: str | None
    quiet_end: str | None
    allowed_channels: tuple[str, ...]
    status: str
    advocate_id: int | None
    discreet: bool
    duress_word_enc: bytes | None


@dataclass
class BatchAppointment:
    """What a reminder batch reads of an appointment; `reminded_at` changes as it goes."""

    id: int
    survivor_id: int
    kind: str
    starts_at: datetime
    timezone: str
    place_enc: bytes | None
    status: str
    reply: str | None
    reminded_at: datetime | None
    survivor: BatchSurvivor | None


def _rowcount(result: object) -> int:
    return typed(CursorResult[Any], result).rowcount


class Appointments:
    def __init__(self, session: AsyncSession, cipher: Cipher) -> None:
        self.session = session
        self.cipher = cipher

    @property
    def _postgres(self) -> bool:
        return self.session.get_bind().dialect.name == "postgresql"

    # appointments -----------------------------------------------------------------------
    async def add(
        self,
        survivor_id: int,
        kind: str,
        starts_at: datetime,
        timezone: str,
        place: str | None,
        actor: str,
        now: datetime,
    ) -> Appointment:
        appointment = Appointment(
            survivor_id=survivor_id,
            kind=kind,
            starts_at=starts_at,
            timezone=timezone,
            place_enc=self.cipher.encrypt_text(place, PLACE) if place else None,
            status="scheduled",
            created_by=actor,
            created_at=now,
            updated_at=now,
        )
        self.session.add(appointment)
        await self.session.flush()
        return appointment

    def place(self, appointment: Appointment | BatchAppointment) -> str | None:
        if appointment.place_enc is None:
            return None
        return self.cipher.decrypt_text(appointment.place_enc, PLACE)

    async def get(self, appointment_id: int, lock: bool = False) -> Appointment | None:
        stmt = select(Appointment).where(Appointment.id == appointment_id)
        if lock and self._postgres:
            stmt = stmt.with_for_update()  # a move and a reminder never cross
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def of_survivor(
        self, survivor_id: int, since: datetime | None = None
    ) -> list[Appointment]:
        stmt = select(Appointment).where(
            Appointment.survivor_id == survivor_id, Appointment.status == "scheduled"
        )
        if since is not None:
            stmt = stmt.where(Appointment.starts_at >= since)
        return list((await self.session.execute(stmt.order_by(Appointment.starts_at))).scalars())

    async def awaiting_reply(self, survivor_id: int, since: datetime) -> Appointment | None:
        """The appointment the survivor was last reminded of, if it has not started yet."""
        stmt = (
            select(Appointment)
            .where(
                Appointment.survivor_id == survivor_id,
                Appointment.status == "scheduled",
                Appointment.reminded_at.is_not(None),
                Appointment.starts_at >= since,
            )
            .order_by(Appointment.reminded_at.desc(), Appointment.id.desc())
            .limit(1)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    # jobs -------------------------------------------------------------------------------
    def add_job(
        self,
        appointment_id: int,
        purpose: str,
        offset_minutes: int,
        due_at: datetime,
        now: datetime,
    ) -> AppointmentJob:
        job = AppointmentJob(
            appointment_id=appointment_id,
            purpose=purpose,
            offset_minutes=offset_minutes,
            due_at=due_at,
            status="pending",
            created_at=now,
        )
        self.session.add(job)
        return job

    async def jobs_of(self, appointment_id: int) -> list[AppointmentJob]:
        stmt = (
            select(AppointmentJob)
            .where(AppointmentJob.appointment_id == appointment_id)
            .order_by(AppointmentJob.due_at, AppointmentJob.id)
        )
        return list((await self.session.execute(stmt)).scalars())

    async def cancel_pending_jobs(self, appointment_id: int, now: datetime) -> int:
        stmt = (
            update(AppointmentJob)
            .where(
                AppointmentJob.appointment_id == appointment_id,
                AppointmentJob.status == "pending",
            )
            .values(status="cancelled", done_at=now)
        )
        return _rowcount(await self.session.execute(stmt))

    async def claim_due(self, now: datetime, limit: int) -> list[DueJob]:
        """Take up to `limit` due jobs for this transaction alone, earliest first, in one
        statement: the rows come back marked `claimed` (a rollback makes them pending again)."""
        jobs = JOBS.c
        due = select(jobs.id).where(jobs.status == "pending", jobs.due_at <= now).limit(limit)
        if self._postgres:
            # Locked rows are skipped: another worker holds them until it commits. In index
            # order (due_at, then insertion) with no sort, and the ids handed over as one
            # array, so claiming costs the same with 1,000 or 100,000 pending: `IN (subquery)`
            # made the planner sort every pending row and hash-join the whole table. The
            # status check repeats what the lock's recheck already guarantees.
            locked = due.order_by(jobs.due_at).with_for_update(skip_locked=True).subquery()
            picked = select(func.array_agg(locked.c.id)).scalar_subquery()
            chosen = and_(jobs.id == any_(cast(picked, ARRAY(Integer))), jobs.status == "pending")
        else:
            # A compare-and-set UPDATE as the transaction's first statement: it takes the write
            # lock before it reads, so a second worker waits, then finds the rows no longer
            # pending (reading first would leave it a stale snapshot it cannot write from).
            # The status is compared inside, under that lock; compared again outside, it made
            # SQLite walk every pending row instead of looking up the 500 by id. The
            # (status, due_at) index ends in the rowid, so this order needs no sort.
            chosen = jobs.id.in_(due.order_by(jobs.due_at, jobs.id).scalar_subquery())
        claim = (
            update(JOBS)
            .where(chosen)
            .values(status=CLAIMED)
            .returning(jobs.id, jobs.appointment_id, jobs.purpose, jobs.offset_minutes, jobs.due_at)
        )
        rows = (await self.session.execute(claim)).all()
        claimed = [
            DueJob(r.id, r.appointment_id, r.purpose, r.offset_minutes, r.due_at) for r in rows
        ]
        return sorted(claimed, key=lambda j: (j.due_at, j.id))

    async def load_batch(self, jobs: Sequence[DueJob]) -> dict[int, BatchAppointment]:
        """The jobs' appointments with their survivors, in one query, by appointment id.
        On PostgreSQL the appointments are locked, so a move or a reply waits for the batch."""
        ids = sorted({job.appointment_id for job in jobs})
        if not ids:
            return {}
        a, s = APPOINTMENTS.c, SURVIVORS.c
        stmt = (
            select(
                a.id, a.survivor_id, a.kind, a.starts_at, a.timezone, a.place_enc, a.status,
                a.reply, a.reminded_at, s.case_code, s.language, s.timezone.label("zone"),
                s.quiet_start, s.quiet_end, s.allowed_channels, s.status.label("survivor_status"),
                s.advocate_id, s.discreet, s.duress_word_enc,
            )
            .select_from(APPOINTMENTS.outerjoin(SURVIVORS))
            .where(a.id.in_(ids))
            .order_by(a.id)
        )  # fmt: skip
        if self._postgres:
            stmt = stmt.with_for_update(of=APPOINTMENTS)
        found: dict[int, BatchAppointment] = {}
        for r in await self.session.execute(stmt):
            survivor = None
            if r.case_code is not None:
                survivor = BatchSurvivor(
                    r.survivor_id, r.case_code, r.language, r.zone, r.quiet_start, r.quiet_end,
                    tuple(r.allowed_channels or ()), r.survivor_status, r.advocate_id,
                    bool(r.discreet), r.duress_word_enc,
                )  # fmt: skip
            found[r.id] = BatchAppointment(
                r.id, r.survivor_id, r.kind, r.starts_at, r.timezone, r.place_enc, r.status,
                r.reply, r.reminded_at, survivor,
            )  # fmt: skip
        return found

    async def reminders_still_due(
        self, appointment_ids: Collection[int], now: datetime
    ) -> dict[int, list[int]]:
        """The offsets of each appointment's due reminders that are still to do, including
        those outside this batch (the rest of a backlog, or held by another worker): a
        reminder with a later one due is superseded, wherever that one is."""
        if not appointment_ids:
            return {}
        jobs = JOBS.c
        stmt = select(jobs.appointment_id, jobs.offset_minutes).where(
            jobs.appointment_id.in_(sorted(appointment_ids)),
            jobs.purpose == "reminder",
            jobs.status.in_(("pending", CLAIMED)),
            jobs.due_at <= now,
        )
        found: dict[int, list[int]] = {}
        for r in await self.session.execute(stmt):
            found.setdefault(r.appointment_id, []).append(r.offset_minutes)
        return found

    async def finish_jobs(self, jobs: Sequence[DueJob]) -> None:
        """Write back what was done with each claimed job: one statement, many parameters."""
        if not jobs:
            return
        stmt = (
            update(JOBS)
            .where(JOBS.c.id == bindparam("job_id"))
            .values(
                status=bindparam("new_status"),
                outcome=bindparam("new_outcome"),
                due_at=bindparam("new_due_at"),
                done_at=bindparam("new_done_at"),
                outbox_id=bindparam("new_outbox_id"),
            )
        )
        rows = [
            {
                "job_id": j.id, "new_status": j.status, "new_outcome": j.outcome,
                "new_due_at": j.due_at, "new_done_at": j.done_at, "new_outbox_id": j.outbox_id,
            }
            for j in jobs
        ]  # fmt: skip
        await self.session.execute(stmt, rows)

    async def mark_reminded(self, reminded: Mapping[int, datetime]) -> None:
        """Record when each appointment's reminder went out (the reply is matched to it)."""
        if not reminded:
            return
        stmt = (
            update(APPOINTMENTS)
            .where(APPOINTMENTS.c.id == bindparam("appointment_id"))
            .values(reminded_at=bindparam("new_reminded_at"))
        )
        rows = [{"appointment_id": i, "new_reminded_at": at} for i, at in reminded.items()]
        await self.session.execute(stmt, rows)

    async def next_job_due(self) -> datetime | None:
        stmt = select(func.min(AppointmentJob.due_at)).where(AppointmentJob.status == "pending")
        due: datetime | None = (await self.session.execute(stmt)).scalar_one_or_none()
        return due

    # check-in plans -----------------------------------------------------------------------
    async def plan(self, survivor_id: int) -> CheckinPlan | None:
        return await self.session.get(CheckinPlan, survivor_id)

    async def claim_due_checkins(self, now: datetime, limit: int) -> list[CheckinPlan]:
        """Due plans, taken for this transaction alone (the caller moves next_due_at on)."""
        due = (
            select(CheckinPlan.survivor_id)
            .where(CheckinPlan.active.is_(True), CheckinPlan.next_due_at <= now)
            .order_by(CheckinPlan.next_due_at)
            .limit(limit)
        )
        if self._postgres:
            ids = list(
                (await self.session.execute(due.with_for_update(skip_locked=True))).scalars()
            )
        else:  # compare-and-set first, as for jobs: only a plan still due is taken
            cas = (
                update(CheckinPlan)
                .where(CheckinPlan.survivor_id.in_(due.scalar_subquery()))
                .where(CheckinPlan.active.is_(True), CheckinPlan.next_due_at <= now)
                .values(updated_at=now)
                .returning(CheckinPlan.survivor_id)
            )
            ids = list((await self.session.execute(cas)).scalars())
        if not ids:
            return []
        rows = select(CheckinPlan).where(CheckinPlan.survivor_id.in_(ids))
        fresh = {"populate_existing": True}
        return list((await self.session.execute(rows, execution_options=fresh)).scalars())

    async def next_checkin_due(self) -> datetime | None:
        stmt = select(func.min(CheckinPlan.next_due_at)).where(CheckinPlan.active.is_(True))
        due: datetime | None = (await self.session.execute(stmt)).scalar_one_or_none()
        return due

    # contact watch ------------------------------------------------------------------------
    async def watch(self, survivor_id: int, now: datetime) -> ContactWatch:
        found = await self.session.get(ContactWatch, survivor_id)
        if found is None:
            found = ContactWatch(
                survivor_id=survivor_id,
                score=0,
                level=0,
                reasons=[],
                alerted_level=0,
                checked_at=now,
            )
            self.session.add(found)
        return found

    async def count_jobs(self, statuses: Sequence[str]) -> int:
        stmt = select(func.count()).select_from(AppointmentJob)
        stmt = stmt.where(AppointmentJob.status.in_(statuses))
        return int((await self.session.execute(stmt)).scalar_one())
