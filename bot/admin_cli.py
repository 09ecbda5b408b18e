"""`harbour staff ...` and `harbour survivor ...`: argument parsing for bot/admin.py."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from bot.cli_common import EXIT_USAGE, OneLineParser
from bot.settings import Settings

NAMES = ("staff", "survivor")


def add_parsers(commands: Any) -> None:
    staff = commands.add_parser("staff", help="manage staff").add_subparsers(
        dest="staff_command", required=True, parser_class=OneLineParser
    )
    add = staff.add_parser("add", help="add a staff member")
    add.add_argument("handle")
    add.add_argument("--role", required=True, help="advocate, duty or admin")
    add.add_argument("--language", default="en", help="the language they read (default en)")
    add.add_argument("--telegram", metavar="CHAT_ID", help="their Telegram chat id")
    add.add_argument("--phone", help="their mobile number, for SMS")
    staff.add_parser("list", help="list staff")
    staff.add_parser("deactivate", help="deactivate a staff member").add_argument("handle")
    away = staff.add_parser("away", help="mark a staff member away, with cover")
    away.add_argument("handle")
    away.add_argument("--until", required=True, metavar="YYYY-MM-DD", help="last day away")
    away.add_argument("--cover", metavar="HANDLE", help="the colleague who covers")

    survivor = commands.add_parser("survivor", help="manage survivors").add_subparsers(
        dest="survivor_command", required=True, parser_class=OneLineParser
    )
    enrol = survivor.add_parser("enrol", help="enrol a survivor; prints a one-time code")
    enrol.add_argument("--advocate", required=True, metavar="HANDLE")
    enrol.add_argument("--language", required=True, help="en pl ro sq vi uk ar fa")
    enrol.add_argument("--timezone", default="Europe/London")
    assign = survivor.add_parser("assign", help="give a case to another advocate")
    assign.add_argument("case")
    assign.add_argument("--advocate", required=True, metavar="HANDLE")
    survivor.add_parser("list", help="list survivors")


async def run(settings: Settings, args: argparse.Namespace) -> int:
    from bot import admin
    from bot.bootstrap import FLOWS_DIR, LOCALES_DIR
    from bot.flowfiles import load_bundle
    from bot.ports import SystemClock
    from bot.store.database import open_store
    from bot.store.uow import UnitOfWork

    db, cipher = await open_store(settings)
    now = SystemClock().now()
    try:
        async with UnitOfWork(db, cipher) as uow:
            command = f"{args.command} {getattr(args, args.command + '_command')}"
            if command == "staff add":
                out = await admin.staff_add(
                    uow, now, args.handle, args.role, args.language, args.telegram, args.phone
                )
            elif command == "staff list":
                out = await admin.staff_list(uow, now)
            elif command == "staff deactivate":
                out = await admin.staff_deactivate(uow, now, args.handle)
            elif command == "staff away":
                out = await admin.staff_away(uow, now, args.handle, args.until, args.cover)
            elif command == "survivor enrol":
                out = await admin.survivor_enrol(
                    uow,
                    now,
                    args.advocate,
                    args.language,
                    args.timezone,
                    settings.enrolment_code_hours,
                    settings.telegram_bot_username,
                    settings.twilio_from,
                )
            elif command == "survivor assign":
                bundle = load_bundle(FLOWS_DIR, LOCALES_DIR)
                out = await admin.survivor_assign(uow, now, args.case, args.advocate, bundle)
            else:
                out = await admin.survivor_list(uow, now)
    except admin.AdminError as exc:
        print(f"harbour: {exc}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        await db.close()
    print(out)
    return 0
