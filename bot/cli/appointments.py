"""`harbour appointment add|list|move|cancel|checkin`: appointments from the command line.

The same rules as the staff chat commands (bot/care/commands.py): times in
the survivor's zone, daylight-saving gaps and overlaps refused, reminders planned, moved or
withdrawn in the same transaction. Every change is audited with the actor "cli".
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.cli.common import EXIT_USAGE, OneLineParser
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.care.appointments import AppointmentBook
    from bot.store.models import Survivor
    from bot.store.uow import UnitOfWork

NAMES = ("appointment",)
ACTOR = "cli"


def add_parsers(commands: Any) -> None:
    appointment = commands.add_parser("appointment", help="manage appointments and check-ins")
    sub = appointment.add_subparsers(
        dest="appointment_command", required=True, parser_class=OneLineParser
    )
    add = sub.add_parser("add", help="a new appointment, in the survivor's local time")
    add.add_argument("case")
    add.add_argument("date", metavar="YYYY-MM-DD")
    add.add_argument("time", metavar="HH:MM")
    add.add_argument("type", help="solicitor, housing, gp, police, court, jobcentre, other")
    add.add_argument("--place", help="shown to the survivor only if discreet mode is off")
    listing = sub.add_parser("list", help="upcoming appointments (of one case, or all)")
    listing.add_argument("case", nargs="?")
    move = sub.add_parser("move", help="give an appointment a new time; reminders follow")
    move.add_argument("id", type=int)
    move.add_argument("date", metavar="YYYY-MM-DD")
    move.add_argument("time", metavar="HH:MM")
    sub.add_parser("cancel", help="cancel an appointment and its reminders").add_argument(
        "id", type=int
    )
    checkin = sub.add_parser("checkin", help="check-ins: daily HH:MM, weekly DAY HH:MM or off")
    checkin.add_argument("case")
    checkin.add_argument("frequency", choices=("daily", "weekly", "off"))
    checkin.add_argument("when", nargs="*", help="[DAY] HH:MM")


async def run(settings: Settings, args: argparse.Namespace) -> int:
    from bot.bootstrap import FLOWS_DIR, LOCALES_DIR
    from bot.care.appointments import AppointmentBook, AppointmentError, ReminderPolicy
    from bot.flows.files import load_bundle
    from bot.ports import SystemClock
    from bot.staff.texts import StaffTexts
    from bot.store.database import open_store
    from bot.store.uow import UnitOfWork

    texts = StaffTexts.load(LOCALES_DIR / "staff")
    policy = ReminderPolicy.parse(
        settings.reminder_offsets,
        settings.reminder_no_reply_alert,
        settings.reminder_late_grace_minutes,
        settings.reminder_min_lead_minutes,
    )
    book = AppointmentBook(load_bundle(FLOWS_DIR, LOCALES_DIR), policy)
    db, cipher = await open_store(settings)
    try:
        async with UnitOfWork(db, cipher) as uow:
            out = await _dispatch(book, uow, SystemClock().now(), args)
    except AppointmentError as exc:
        print(f"harbour: {texts.text(exc.key, 'en', **exc.params)}", file=sys.stderr)
        return EXIT_USAGE
    except LookupError as exc:
        print(f"harbour: {exc.args[0]}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        await db.close()
    print(out)
    return 0


async def _dispatch(
    book: AppointmentBook, uow: UnitOfWork, now: datetime, args: argparse.Namespace
) -> str:
    from bot.admin.operations import Table
    from bot.care.appointments import staff_when
    from bot.care.checkins import describe_plan, set_plan
    from bot.care.commands import reminder_times
    from bot.store.appointments import Appointments

    repo = Appointments(uow.session, uow.outbox.cipher)
    command = args.appointment_command
    if command == "add":
        survivor = await _case(uow, args.case)
        appointment = await book.create(
            uow, now, survivor, args.type, args.date, args.time, args.place, ACTOR
        )
        jobs = await repo.jobs_of(appointment.id)
        return (
            f"appointment {appointment.id} for case {survivor.case_code}: {appointment.kind}, "
            f"{staff_when(appointment)}; reminders: {reminder_times(appointment, jobs)}"
        )
    if command == "list":
        survivors = [await _case(uow, args.case)] if args.case else await uow.people.all_survivors()
        rows = []
        for survivor in survivors:
            for appointment in await repo.of_survivor(survivor.id, since=now):
                jobs = await repo.jobs_of(appointment.id)
                rows.append((
                    str(appointment.id), survivor.case_code, appointment.kind,
                    staff_when(appointment), appointment.reply or "-",
                    reminder_times(appointment, jobs),
                ))  # fmt: skip
        uow.audit.record(ACTOR, "appointment.list", now, count=len(rows))
        headers = ("id", "case", "type", "when", "reply", "reminders pending")
        return Table(headers, rows).render()
    if command == "checkin":
        survivor = await _case(uow, args.case)
        weekday = args.when[0] if len(args.when) == 2 else None
        at = args.when[-1] if args.when else None
        plan = await set_plan(uow, now, survivor, args.frequency, ACTOR, at, weekday)
        return f"check-ins for case {survivor.case_code}: {describe_plan(plan) if plan else 'off'}"
    found = await repo.get(args.id)
    owner = await uow.people.survivor(found.survivor_id) if found else None
    if found is None or owner is None:
        raise LookupError(f"no appointment {args.id}")
    appointment, survivor = found, owner
    if command == "move":
        await book.move(uow, now, appointment, survivor, args.date, args.time, ACTOR)
        jobs = await repo.jobs_of(appointment.id)
        return (
            f"appointment {appointment.id} moved to {staff_when(appointment)}; "
            f"reminders: {reminder_times(appointment, jobs)}"
        )
    await book.cancel(uow, now, appointment, survivor, ACTOR)
    return f"appointment {appointment.id} cancelled"


async def _case(uow: UnitOfWork, code: str) -> Survivor:
    survivor = await uow.people.survivor_by_code(code)
    if survivor is None or survivor.status in ("merged", "erased"):
        raise LookupError(f"no case {code!r}")
    return survivor
