"""`harbour survivor ...`: argument parsing for bot/admin/operations.py and bot/admin/cases.py."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.cli.common import OneLineParser
from bot.cli.transaction import in_transaction
from bot.settings import Settings
from bot.store.uow import UnitOfWork

NAMES = ("survivor",)


def add_parsers(commands: Any) -> None:
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
    listing = survivor.add_parser("list", help="list survivors")
    listing.add_argument(
        "--erased", action="store_true", help="list erasure tombstones (case code and date)"
    )
    survivor.add_parser(
        "close", help="close a case (erased after the retention period)"
    ).add_argument("case")
    survivor.add_parser("reopen", help="reopen a closed case").add_argument("case")
    survivor.add_parser(
        "code", help="issue a new one-time code; the old ones stop working"
    ).add_argument("case")
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
    from bot.admin import cases
    from bot.admin import operations as admin
    from bot.bootstrap import FLOWS_DIR, LOCALES_DIR, code_settings
    from bot.flows.files import load_bundle
    from bot.staff.texts import StaffTexts

    command = args.survivor_command
    if command == "erase" and not confirm_erasure(args.case, args.yes):
        print("harbour: nothing was erased", file=sys.stderr)
        return 1

    async def work(uow: UnitOfWork, now: datetime) -> str:
        if command == "enrol":
            codes = code_settings(settings)
            return await admin.survivor_enrol(
                uow,
                now,
                args.advocate,
                args.language,
                args.timezone,
                codes.valid_hours,
                codes.bot_username,
                codes.sms_number,
            )
        if command == "assign":
            bundle = load_bundle(FLOWS_DIR, LOCALES_DIR)
            return await admin.survivor_assign(uow, now, args.case, args.advocate, bundle)
        if command == "close":
            return await cases.survivor_close(
                uow, now, args.case, settings.retention_closed_case_days
            )
        if command == "reopen":
            return await cases.survivor_reopen(uow, now, args.case)
        if command == "code":
            return await cases.survivor_code(uow, now, args.case, code_settings(settings))
        if command == "export":
            catalogue = load_bundle(FLOWS_DIR, LOCALES_DIR).catalogue
            return await admin.survivor_export(
                uow, now, args.case, args.by, Path(args.out), catalogue
            )
        if command == "erase":
            texts = StaffTexts.load(LOCALES_DIR / "staff")
            return await admin.survivor_erase(uow, now, args.case, args.by, texts)
        if args.erased:
            return await cases.survivor_erased(uow, now)
        return await admin.survivor_list(uow, now)

    by = getattr(args, "by", None)
    return await in_transaction(settings, work, attempted=f"survivor {command}", by=by)
