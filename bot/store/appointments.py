"""Repository for appointments, their due jobs, check-in plans and the contact-loss watch.

Never commits: services own the transaction. Due rows are claimed atomically on both
databases, like the outbox: PostgreSQL locks them with `FOR UPDATE SKIP LOCKED` (another
worker skips them); SQLite (which ignores SKIP LOCKED without a word) uses a compare-and-set
UPDATE ... WHERE status = 'pending' RETURNING id, whose returned rows (its rowcount) are the
ones this worker won. The caller then does the work and marks
each row done in the same transaction, so a crash rolls both back together.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.crypto import Cipher
from bot.store.models import Appointment, AppointmentJob, CheckinPlan, ContactWatch, Survivor

PLACE = "appointment.place"
CLAIMED = "claimed"  # a job row taken by a worker inside its open transaction


def _rowcount(result: object) -> int:
    return cast(CursorResult[Any], result).rowcount


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

    def place(self, appointment: Appointment) -> str | None:
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

    async def claim_due_jobs(self, now: datetime, limit: int) -> list[AppointmentJob]:
        """Take up to `limit` due jobs for this transaction alone, earliest first."""
        due = (
            select(AppointmentJob.id)
            .where(AppointmentJob.status == "pending", AppointmentJob.due_at <= now)
            .order_by(AppointmentJob.due_at, AppointmentJob.id)
            .limit(limit)
        )
        if self._postgres:
            ids = list(
                (await self.session.execute(due.with_for_update(skip_locked=True))).scalars()
            )
        else:
            # One compare-and-set UPDATE as the transaction's first statement: it takes SQLite's
            # write lock before reading, so a second worker waits, then finds the rows no longer
            # pending (reading first would leave it a stale snapshot it cannot write from).
            cas = (
                update(AppointmentJob)
                .where(AppointmentJob.id.in_(due.scalar_subquery()))
                .where(AppointmentJob.status == "pending")
                .values(status=CLAIMED)
                .returning(AppointmentJob.id)
            )
            ids = list((await self.session.execute(cas)).scalars())
        if not ids:
            return []
        rows = select(AppointmentJob).where(AppointmentJob.id.in_(ids))
        fresh = {"populate_existing": True}
        jobs = list((await self.session.execute(rows, execution_options=fresh)).scalars())
        return sorted(jobs, key=lambda j: (j.due_at, j.id))

    async def load_for_jobs(self, jobs: Sequence[AppointmentJob]) -> None:
        """Bring the jobs' appointments (locked on PostgreSQL, so a move waits) and their
        survivors into the session at once, instead of one query per job."""
        ids = {job.appointment_id for job in jobs}
        if not ids:
            return
        stmt = select(Appointment).where(Appointment.id.in_(ids))
        if self._postgres:
            stmt = stmt.with_for_update()
        found = list((await self.session.execute(stmt)).scalars())
        owners = {a.survivor_id for a in found}
        await self.session.execute(select(Survivor).where(Survivor.id.in_(owners)))

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
