"""Reminders by time travel, on SQLite and PostgreSQL: 24 h and 2 h before, in the survivor's
zone (Europe/London across both daylight-saving changes, and New York), quiet hours, a move
after the first reminder, cancellation, the late-send rule and the survivor's replies."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from bot.bootstrap import Harbour
from bot.care.reminders import ReminderService
from bot.cli.simulate import advance
from bot.ports import ManualClock
from bot.settings import Settings
from bot.store.models import AppointmentJob, Survivor
from bot.store.uow import UnitOfWork
from tests.harness import Recorder, add_advocate, enrol, onboard, say, start

ADVOCATE = "advocate:amira"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


async def harbour_at(settings: Settings, when: datetime) -> tuple[Harbour, Recorder, ManualClock]:
    clock = ManualClock(when)
    harbour, sent = await start(settings, clock=clock)
    return harbour, sent, clock


async def survivor(
    harbour: Harbour,
    address: str,
    advocate_id: int,
    language: str = "en",
    timezone: str = "Europe/London",
    quiet: tuple[str, str] | None = None,
) -> str:
    case = await enrol(harbour, address, advocate_id, language=language)
    async with UnitOfWork(harbour.db, harbour.cipher) as uow:
        found = await uow.people.survivor_by_code(case)
        assert found is not None
        found.timezone = timezone
        found.quiet_start, found.quiet_end = quiet or (None, None)
    await onboard(harbour, address)
    return case


async def travel(harbour: Harbour, clock: ManualClock, until: datetime) -> None:
    """Move the clock to `until`, stopping at each due moment, as `harbour simulate` does."""
    await advance(harbour, clock, until - clock.now())


def texts(sent: Recorder, address: str) -> list[str]:
    return [m.text for m in sent.to(address)]


def reminders(sent: Recorder, address: str) -> list[str]:
    return [t for t in texts(sent, address) if "Reminder" in t or "Przypomnienie" in t]


async def jobs(harbour: Harbour) -> list[AppointmentJob]:
    async with UnitOfWork(harbour.db, harbour.cipher) as uow:
        stmt = select(AppointmentJob).order_by(AppointmentJob.id)
        return list((await uow.session.execute(stmt)).scalars())


def ticker(harbour: Harbour) -> ReminderService:
    return next(t for t in harbour.pacemaker.tickers if isinstance(t, ReminderService))


async def test_reminders_24h_and_2h_before_once_each_and_replies_reach_the_advocate(
    settings: Settings,
) -> None:
    harbour, sent, clock = await harbour_at(settings, utc(2026, 12, 1, 9, 0))
    try:
        case = await survivor(harbour, "s1", await add_advocate(harbour))
        await say(harbour, ADVOCATE, f"/appt {case} 2026-12-03 14:30 solicitor 12 High St")
        assert "Reminders planned: Wed 02 Dec 14:30, Thu 03 Dec 12:30" in texts(sent, ADVOCATE)[-1]
        await travel(harbour, clock, utc(2026, 12, 2, 14, 29))
        assert reminders(sent, "s1") == []
        await travel(harbour, clock, utc(2026, 12, 2, 14, 31))
        assert reminders(sent, "s1") == ["Reminder: Solicitor, Thu 3 Dec at 14:30."]
        assert "12 High St" not in texts(sent, "s1")[-1], "discreet mode hides the place"
        (reminder,) = [m for m in sent.to("s1") if m.text.startswith("Reminder")]
        assert [label for _, label in reminder.choices] == [
            "I'll be there",
            "I can't make it",
            "Help getting there",
        ]
        await harbour.run_due()
        await harbour.run_due()
        assert len(reminders(sent, "s1")) == 1, "never twice"
        await say(harbour, "s1", "3")  # need help getting there, by number
        assert "HELP GETTING THERE" in texts(sent, ADVOCATE)[-1]
        assert case in texts(sent, ADVOCATE)[-1]
        assert texts(sent, "s1")[-1].startswith("Thank you. Your advocate will be in touch")
        await say(harbour, "s1", "menu")  # back where they were: the menu works as before
        assert texts(sent, "s1")[-1].startswith("How can I help?")
        await travel(harbour, clock, utc(2026, 12, 3, 13, 0))
        assert len(reminders(sent, "s1")) == 2
        alerts = [t for t in texts(sent, ADVOCATE) if "not replied" in t]
        assert alerts == [], "they replied: no 'no reply' alert"
    finally:
        await harbour.close()


async def test_polish_word_reply_and_cannot_drops_the_later_reminder(settings: Settings) -> None:
    harbour, sent, clock = await harbour_at(settings, utc(2026, 12, 1, 9, 0))
    try:
        case = await survivor(harbour, "s1", await add_advocate(harbour), language="pl")
        await say(harbour, ADVOCATE, f"/appt {case} 2026-12-03 10:00 housing")
        await travel(harbour, clock, utc(2026, 12, 2, 10, 1))
        assert reminders(sent, "s1") == ["Przypomnienie: Mieszkanie, czw. 3 gru o 10:00."]
        await say(harbour, "s1", "nie mogę")
        assert "CANNOT" in texts(sent, ADVOCATE)[-1]
        await travel(harbour, clock, utc(2026, 12, 3, 11, 0))
        assert len(reminders(sent, "s1")) == 1, "no reminder for what they cannot make"
        outcomes = {(j.purpose, j.status, j.outcome) for j in await jobs(harbour)}
        assert ("reminder", "superseded", "cannot") in outcomes
        assert ("no_reply", "done", "replied") in outcomes
    finally:
        await harbour.close()


async def test_london_march_change_keeps_reminders_on_the_local_clock(settings: Settings) -> None:
    # Clocks go forward at 01:00 UTC on Sunday 29 March 2026.
    harbour, sent, clock = await harbour_at(settings, utc(2026, 3, 27, 12, 0))
    try:
        case = await survivor(harbour, "s1", await add_advocate(harbour))
        await say(harbour, ADVOCATE, f"/appt {case} 2026-03-29 01:30 gp")
        assert "does not exist in Europe/London" in texts(sent, ADVOCATE)[-1]
        await say(harbour, ADVOCATE, f"/appt {case} 2026-03-30 10:00 gp")  # 09:00 UTC
        due = sorted(j.due_at for j in await jobs(harbour) if j.purpose == "reminder")
        assert due == [utc(2026, 3, 29, 9, 0), utc(2026, 3, 30, 7, 0)]  # 10:00 and 08:00 BST
        await travel(harbour, clock, utc(2026, 3, 29, 8, 59))
        assert reminders(sent, "s1") == []
        await travel(harbour, clock, utc(2026, 3, 29, 9, 0))
        assert reminders(sent, "s1") == ["Reminder: Doctor (GP), Mon 30 Mar at 10:00."]
    finally:
        await harbour.close()


async def test_london_october_change(settings: Settings) -> None:
    # Clocks go back at 01:00 UTC on Sunday 25 October 2026.
    harbour, sent, clock = await harbour_at(settings, utc(2026, 10, 23, 12, 0))
    try:
        case = await survivor(harbour, "s1", await add_advocate(harbour))
        await say(harbour, ADVOCATE, f"/appt {case} 2026-10-25 01:30 court")
        assert "happens twice in Europe/London" in texts(sent, ADVOCATE)[-1]
        await say(harbour, ADVOCATE, f"/appt {case} 2026-10-25 11:00 court")  # 11:00 UTC
        due = sorted(j.due_at for j in await jobs(harbour) if j.purpose == "reminder")
        assert due == [utc(2026, 10, 24, 11, 0), utc(2026, 10, 25, 9, 0)]  # 12:00 BST, 09:00 GMT
        await travel(harbour, clock, utc(2026, 10, 25, 9, 1))
        # Court is named only as "Appointment" in discreet mode.
        assert reminders(sent, "s1") == ["Reminder: Appointment, Sun 25 Oct at 11:00."] * 2
    finally:
        await harbour.close()


async def test_new_york_survivor_with_quiet_hours(settings: Settings) -> None:
    harbour, sent, clock = await harbour_at(settings, utc(2026, 12, 1, 15, 0))
    try:
        case = await survivor(
            harbour, "s1", await add_advocate(harbour), timezone="America/New_York",
            quiet=("22:00", "08:00"),
        )  # fmt: skip
        await say(harbour, ADVOCATE, f"/appt {case} 2026-12-03 09:00 jobcentre")  # 14:00 UTC
        # The 2 h reminder (07:00 local) is in quiet hours: it goes at 21:50 the evening before.
        due = sorted(j.due_at for j in await jobs(harbour) if j.purpose == "reminder")
        assert due == [utc(2026, 12, 2, 14, 0), utc(2026, 12, 3, 2, 50)]
        await travel(harbour, clock, utc(2026, 12, 3, 2, 49))
        assert len(reminders(sent, "s1")) == 1
        await travel(harbour, clock, utc(2026, 12, 3, 2, 51))
        assert reminders(sent, "s1")[-1] == "Reminder: Jobcentre, Thu 3 Dec at 09:00."
        await travel(harbour, clock, utc(2026, 12, 3, 15, 0))
        assert len(reminders(sent, "s1")) == 2
    finally:
        await harbour.close()


async def test_moved_after_the_first_reminder(settings: Settings) -> None:
    harbour, sent, clock = await harbour_at(settings, utc(2026, 12, 1, 9, 0))
    try:
        case = await survivor(harbour, "s1", await add_advocate(harbour))
        await say(harbour, ADVOCATE, f"/appt {case} 2026-12-03 14:30 solicitor")
        await travel(harbour, clock, utc(2026, 12, 2, 15, 0))
        await say(harbour, "s1", "1")  # confirmed the old time
        await say(harbour, ADVOCATE, "/move 1 2026-12-04 11:00")
        assert "moved to Fri 04 Dec 2026 11:00" in texts(sent, ADVOCATE)[-1]
        assert (
            texts(sent, "s1")[-1] == "Your appointment has changed: Solicitor, Fri 4 Dec at 11:00."
        )
        await travel(harbour, clock, utc(2026, 12, 3, 10, 59))  # past the old 2 h reminder
        assert len(reminders(sent, "s1")) == 1, "the old 2 h reminder was withdrawn"
        await travel(harbour, clock, utc(2026, 12, 4, 10, 0))
        assert reminders(sent, "s1")[1:] == ["Reminder: Solicitor, Fri 4 Dec at 11:00."] * 2
        # The old confirmation does not count for the new time: no reply, so the advocate hears.
        assert any("has not replied" in t for t in texts(sent, ADVOCATE))
    finally:
        await harbour.close()


async def test_cancellation_before_and_after_a_reminder(settings: Settings) -> None:
    harbour, sent, clock = await harbour_at(settings, utc(2026, 12, 1, 9, 0))
    try:
        case = await survivor(harbour, "s1", await add_advocate(harbour))
        await say(harbour, ADVOCATE, f"/appt {case} 2026-12-03 14:30 gp")
        await say(harbour, ADVOCATE, f"/appt {case} 2026-12-05 14:30 gp")
        await say(harbour, ADVOCATE, "/cancel 1")
        assert "cancelled" in texts(sent, ADVOCATE)[-1]
        before = len(texts(sent, "s1"))
        await travel(harbour, clock, utc(2026, 12, 4, 15, 0))
        assert len(texts(sent, "s1")) == before + 1  # only appointment 2's first reminder
        await say(harbour, ADVOCATE, "/cancel 2")
        assert texts(sent, "s1")[-1] == "Your appointment on Sat 5 Dec at 14:30 is cancelled."
        await travel(harbour, clock, utc(2026, 12, 6, 0, 0))
        assert len(reminders(sent, "s1")) == 1
        assert {j.status for j in await jobs(harbour)} == {"cancelled", "sent"}
        await say(harbour, ADVOCATE, "/cancel 2")
        assert "already cancelled" in texts(sent, ADVOCATE)[-1]
    finally:
        await harbour.close()


async def test_late_send_rule_after_the_service_was_down(settings: Settings) -> None:
    harbour, sent, clock = await harbour_at(settings, utc(2026, 12, 1, 9, 0))
    try:
        advocate = await add_advocate(harbour)
        first = await survivor(harbour, "s1", advocate)
        second = await survivor(harbour, "s2", advocate)
        await say(harbour, ADVOCATE, f"/appt {first} 2026-12-03 14:30 gp")
        await say(harbour, ADVOCATE, f"/appt {second} 2026-12-03 13:20 gp")
        # Down from before the first reminders until 13:00 on the day: one run catches up.
        clock.set(utc(2026, 12, 3, 13, 0))
        await harbour.run_due()
        # s1 (start in 90 min): the 24 h reminder is superseded by the 2 h one, sent late.
        assert reminders(sent, "s1") == ["Reminder: Doctor (GP), Thu 3 Dec at 14:30."]
        # s2 (start in 20 min): too late to be useful; the advocate is told instead.
        assert reminders(sent, "s2") == []
        (told,) = [t for t in texts(sent, ADVOCATE) if "was not sent" in t]
        assert second in told and "too close to the appointment" in told
        statuses = sorted((j.status, j.outcome or "") for j in await jobs(harbour))
        assert ("superseded", "later_reminder") in statuses and ("skipped", "too_late") in statuses
    finally:
        await harbour.close()


async def test_paused_survivor_gets_no_reminder_and_the_advocate_knows(settings: Settings) -> None:
    harbour, sent, clock = await harbour_at(settings, utc(2026, 12, 1, 9, 0))
    try:
        case = await survivor(harbour, "s1", await add_advocate(harbour))
        await say(harbour, ADVOCATE, f"/appt {case} 2026-12-03 14:30 gp")
        async with UnitOfWork(harbour.db, harbour.cipher) as uow:
            found = await uow.session.scalar(select(Survivor).where(Survivor.case_code == case))
            assert found is not None
            found.status = "paused"
        await travel(harbour, clock, utc(2026, 12, 2, 15, 0))
        assert reminders(sent, "s1") == []
        assert any("paused the conversation" in t for t in texts(sent, ADVOCATE))
    finally:
        await harbour.close()
