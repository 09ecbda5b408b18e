"""Exactly once: a process killed with SIGKILL while a reminder is being written or delivered,
a restart, and two workers claiming 1,000 due reminders between them."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from bot.care.appointments import AppointmentBook
from bot.engine.events import SystemEvent
from bot.ports import ManualClock
from bot.settings import Settings
from bot.store.appointments import Appointments
from bot.store.models import AppointmentJob, OutboxItem
from bot.store.uow import UnitOfWork
from tests.harness import add_advocate, enrol, start
from tests.integration.test_reminders import reminders, ticker

START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
DUE = datetime(2026, 12, 2, 14, 31, tzinfo=UTC)  # just after the 24 h reminder of 14:30

# The child process: a Harbour at DUE, with one point where it kills itself.
CHILD = textwrap.dedent(
    """
    import asyncio, os, signal, sys
    from datetime import datetime, UTC
    from bot.ports import ManualClock
    from bot.settings import load_settings
    from bot.care.reminder_batch import ReminderBatch
    from tests.harness import start

    async def die(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGKILL)

    async def main(where):
        clock = ManualClock(datetime.fromisoformat(sys.argv[2]))
        harbour, _ = await start(load_settings(), clock=clock)
        if where == "while-writing":
            # The batch's outbox rows are written, the transaction not yet committed.
            original = ReminderBatch.write
            async def write_then_die(self, *args, **kwargs):
                await original(self, *args, **kwargs)
                await die()
            ReminderBatch.write = write_then_die
            await harbour.run_due()
        else:
            # Committed and claimed by the sender; killed inside the channel's send.
            harbour.channels["local"].send = die
            await harbour.run_due()

    asyncio.run(main(sys.argv[1]))
    """
)


async def make_appointment(settings: Settings) -> None:
    harbour, _ = await start(settings, clock=ManualClock(START))
    try:
        case = await enrol(harbour, "s1", await add_advocate(harbour))
        async with UnitOfWork(harbour.db, harbour.cipher) as uow:
            survivor = await uow.people.survivor_by_code(case)
            assert survivor is not None
            book = AppointmentBook(harbour.bundle, ticker(harbour).policy)
            await book.create(uow, START, survivor, "gp", "2026-12-03", "14:30", None, "test")
    finally:
        await harbour.close()


async def run_child(settings: Settings, where: str) -> None:
    assert settings.secret_key is not None
    env = {
        **os.environ,
        "HARBOUR_DATABASE_URL": settings.async_database_url,
        "HARBOUR_SECRET_KEY": settings.secret_key.get_secret_value(),
        "HARBOUR_DATA_DIR": str(settings.data_dir),
    }
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-c", CHILD, where, DUE.isoformat()],
        capture_output=True,
        timeout=120,
        env=env,
    )
    assert done.returncode == -9, done.stderr.decode()[-800:]


async def reminder_rows(harbour: object) -> int:
    async with UnitOfWork(harbour.db, harbour.cipher) as uow:  # type: ignore[attr-defined]
        stmt = select(func.count()).select_from(OutboxItem).where(OutboxItem.kind == "message")
        stmt = stmt.where(OutboxItem.priority == 0)
        return int((await uow.session.execute(stmt)).scalar_one())


async def test_killed_while_writing_the_reminder_loses_nothing(settings: Settings) -> None:
    await make_appointment(settings)
    await run_child(settings, "while-writing")
    harbour, sent = await start(settings, clock=ManualClock(DUE))
    try:
        assert await reminder_rows(harbour) == 0, "the killed transaction left nothing behind"
        await harbour.run_due()
        await harbour.run_due()
        assert len(reminders(sent, "s1")) == 1
        assert await reminder_rows(harbour) == 1
    finally:
        await harbour.close()


async def test_killed_during_delivery_sends_once_after_restart(settings: Settings) -> None:
    await make_appointment(settings)
    await run_child(settings, "during-delivery")
    clock = ManualClock(DUE)
    harbour, sent = await start(settings, clock=clock)
    try:
        assert await reminder_rows(harbour) == 1, "committed with its job before delivery"
        await harbour.run_due()
        assert reminders(sent, "s1") == [], "still leased to the dead process"
        clock.set(DUE + timedelta(minutes=3))  # the lease runs out
        await harbour.start_background()  # a restart: expired claims are released first
        for _ in range(50):
            if reminders(sent, "s1"):
                break
            await asyncio.sleep(0.1)
        await harbour.run_due()
        assert len(reminders(sent, "s1")) == 1
        assert await reminder_rows(harbour) == 1, "the job was not done a second time"
    finally:
        await harbour.close()


async def test_two_workers_claim_a_thousand_due_reminders_exactly_once(settings: Settings) -> None:
    count = 1000
    first, _ = await start(settings, clock=ManualClock(START))
    second, _ = await start(settings, clock=ManualClock(START))
    try:
        advocate = await add_advocate(first)
        async with UnitOfWork(first.db, first.cipher) as uow:
            repo = Appointments(uow.session, first.cipher)
            for number in range(count):
                survivor = await uow.people.new_survivor(
                    START, status="active", language="en", advocate_id=advocate
                )
                await uow.people.add_identity("local", f"s{number}", START, survivor=survivor)
                appointment = await repo.add(
                    survivor.id, "gp", START + timedelta(hours=3), "Europe/London", None, "t", START
                )
                repo.add_job(appointment.id, "reminder", 120, START + timedelta(hours=1), START)
        due = START + timedelta(hours=1)
        workers = [ticker(first), ticker(second)]
        for worker in workers:
            worker.batch = 50  # many small transactions, interleaved
        done = [0, 0]

        async def work(index: int) -> None:
            while (handled := await workers[index].run_batch(due)) > 0:
                done[index] += handled
                # SQLite has one writer at a time and no fair queue: a pause between batches
                # lets the other worker's busy wait win sometimes. PostgreSQL needs none.
                await asyncio.sleep(0.15 if first.db.is_sqlite else 0)

        await asyncio.gather(work(0), work(1))
        assert sum(done) == count and min(done) > 0, done
        assert await workers[0].tick(due) is None, "nothing left pending"
        async with UnitOfWork(first.db, first.cipher) as uow:
            rows = (
                await uow.session.execute(
                    select(OutboxItem.identity_id, func.count())
                    .where(OutboxItem.priority == 0)
                    .group_by(OutboxItem.identity_id)
                )
            ).all()
            statuses = (
                await uow.session.execute(
                    select(AppointmentJob.status, func.count()).group_by(AppointmentJob.status)
                )
            ).all()
        assert len(rows) == count and {n for _, n in rows} == {1}
        assert dict(statuses) == {"sent": count}
    finally:
        await first.close()
        await second.close()


async def test_system_turn_fills_the_text_from_the_event(settings: Settings) -> None:
    harbour, sent = await start(settings, clock=ManualClock(START))
    try:
        await enrol(harbour, "s1", await add_advocate(harbour))
        async with UnitOfWork(harbour.db, harbour.cipher) as uow:
            identity = await uow.people.identity("local", "s1")
            assert identity is not None and identity.survivor_id is not None
            survivor = await uow.people.survivor(identity.survivor_id)
            assert survivor is not None
            data = (("what", "X"), ("day", "Mon"), ("time", "10:00"), ("place", ""))
            queued = await harbour.conversations.system_turn(
                uow, START, survivor, identity, SystemEvent("reminder", data), 0
            )
            assert len(queued) == 1 and queued[0].priority == 0
        await harbour.drain()
        assert reminders(sent, "s1") == ["Reminder: X, Mon at 10:00."]
    finally:
        await harbour.close()
