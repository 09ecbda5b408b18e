"""`harbour staff ...` and `harbour survivor ...`: argument parsing for bot/admin/operations.py."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from bot.cli.common import EXIT_REFUSED, EXIT_USAGE, OneLineParser
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
    _add_privacy_parsers(survivor)


def _add_privacy_parsers(survivor: Any) -> None:
    export = survivor.add_parser("export", help="write a subject access export (JSON and text)")
    export.add_argument("case")
    export.add_argument("--by", required=True, metavar="HANDLE", help="the admin doing this")
    export.add_argument("--out", default=".", metavar="DIR", help="where to write the files")
    erase = survivor.add_parser("erase", help="delete everything about a survivor, for good")
    erase.add_argument("case")
    erase.add_argument("--by", required=True, metavar="HANDLE", help="the admin doing this")
    erase.add_argument("--yes", action="store_true", help="do not ask (for scripts)")


def confirm_erasure(case: str, assume_yes: bool) -> bool:
    """Say plainly that erasure cannot be undone, then ask for the case code back."""
    print(
        f"Erasing case {case.upper()} deletes everything Harbour holds about this survivor: "
        "messages, contacts, reminders, escalations, consent records and audit details.\n"
        "THIS CANNOT BE UNDONE. Only the case code and today's date are kept.",
        file=sys.stderr,
    )
    if assume_yes:
        return True
    print("Type the case code to confirm: ", end="", file=sys.stderr, flush=True)
    try:
        answer = input()
    except EOFError:
        answer = ""
    return answer.strip().upper() == case.strip().upper()


async def run(settings: Settings, args: argparse.Namespace) -> int:
    from bot.admin import operations as admin
    from bot.bootstrap import FLOWS_DIR, LOCALES_DIR
    from bot.flows.files import load_bundle
    from bot.ports import SystemClock
    from bot.staff.texts import StaffTexts
    from bot.store.database import open_store
    from bot.store.uow import UnitOfWork

    if args.command == "survivor" and args.survivor_command == "erase":
        if not confirm_erasure(args.case, args.yes):
            print("harbour: nothing was erased", file=sys.stderr)
            return 1
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
            elif command == "survivor export":
                out = await admin.survivor_export(uow, now, args.case, args.by, Path(args.out))
            elif command == "survivor erase":
                texts = StaffTexts.load(LOCALES_DIR / "staff")
                out = await admin.survivor_erase(uow, now, args.case, args.by, texts)
            else:
                out = await admin.survivor_list(uow, now)
    except admin.AccessRefused as exc:
        async with UnitOfWork(db, cipher) as uow:  # the refusal is kept, in its own transaction
            uow.audit.record(f"cli:{args.by}"[:64], "access.denied", now, attempted=command)
        print(f"harbour: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    except admin.AdminError as exc:
        print(f"harbour: {exc}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        await db.close()
    print(out)
    if command == "staff add":
        for line in channel_warnings(settings, args.telegram, args.phone):
            print(f"harbour: warning: {line}", file=sys.stderr)
    return 0


def channel_warnings(settings: Settings, telegram: str | None, phone: str | None) -> list[str]:
    """Said at once: an address on a channel this deployment does not send on would never
    be used (staff are reached only on enabled channels), so nothing waits on it unseen."""
    given = [("Telegram", telegram, settings.telegram_enabled, "HARBOUR_TELEGRAM_TOKEN")]
    given.append(("SMS", phone, settings.sms_enabled, "HARBOUR_TWILIO_* settings"))
    warnings = [
        f"{name} is not enabled here ({needs} not set): that address is kept but not used"
        for name, address, enabled, needs in given
        if address is not None and not enabled
    ]
    if not settings.local_mode and not any(enabled for _n, a, enabled, _s in given if a):
        warnings.append("no address on an enabled channel: alerts for them go to cover or duty")
    return warnings
