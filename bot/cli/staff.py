"""`harbour staff ...`: argument parsing for the staff half of bot/admin/operations.py."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from typing import Any

from bot.cli.common import EXIT_USAGE, OneLineParser
from bot.cli.transaction import in_transaction
from bot.settings import Settings
from bot.store.uow import UnitOfWork

NAMES = ("staff",)


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
    deactivate = staff.add_parser(
        "deactivate", help="deactivate a staff member at once and move their cases"
    )
    deactivate.add_argument("handle")
    where = deactivate.add_mutually_exclusive_group()
    where.add_argument("--to", metavar="HANDLE", help="the advocate who takes their cases")
    where.add_argument("--to-duty", action="store_true", help="their cases go to the duty team")
    staff.add_parser("reactivate", help="let a deactivated staff member work again").add_argument(
        "handle"
    )
    password = staff.add_parser(
        "set-password", help="set a console password (read from stdin unless a terminal)"
    )
    password.add_argument("handle")
    password.add_argument(
        "--totp", action="store_true", help="also make a new TOTP secret and print its URI"
    )
    away = staff.add_parser("away", help="mark a staff member away, with cover")
    away.add_argument("handle")
    away.add_argument("--until", required=True, metavar="YYYY-MM-DD", help="last day away")
    away.add_argument("--cover", metavar="HANDLE", help="the colleague who covers")


async def run(settings: Settings, args: argparse.Namespace) -> int:
    from bot.admin import operations as admin

    command = args.staff_command
    if command == "set-password":
        return await set_password(settings, args.handle, args.totp)

    async def work(uow: UnitOfWork, now: datetime) -> str:
        if command == "add":
            return await admin.staff_add(
                uow, now, args.handle, args.role, args.language, args.telegram, args.phone
            )
        if command == "deactivate":
            from bot.bootstrap import FLOWS_DIR, LOCALES_DIR
            from bot.flows.files import load_bundle

            bundle = load_bundle(FLOWS_DIR, LOCALES_DIR)
            return await admin.staff_deactivate(
                uow, now, args.handle, args.to, args.to_duty, bundle
            )
        if command == "reactivate":
            return await admin.staff_reactivate(uow, now, args.handle)
        if command == "away":
            return await admin.staff_away(uow, now, args.handle, args.until, args.cover)
        return await admin.staff_list(uow, now)

    code = await in_transaction(settings, work, attempted=f"staff {command}")
    if code == 0 and command == "add":
        for line in channel_warnings(settings, args.telegram, args.phone):
            print(f"harbour: warning: {line}", file=sys.stderr)
    return code


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


def read_password() -> str | None:
    """Prompted twice on a terminal; otherwise the first line of stdin. None: no password."""
    if sys.stdin.isatty():
        import getpass

        first = getpass.getpass("New console password: ")
        if getpass.getpass("Again: ") != first:
            print("harbour: the two passwords differ", file=sys.stderr)
            return None
        return first
    line = sys.stdin.readline().rstrip("\r\n")
    return line or None


async def set_password(settings: Settings, handle: str, totp: bool) -> int:
    from bot.admin.operations import AdminError
    from bot.staff import credentials

    password = read_password()
    if password is None:
        print("harbour: no password given", file=sys.stderr)
        return EXIT_USAGE
    try:
        credentials.check_strength(password)
    except credentials.PasswordRejected as exc:
        print(f"harbour: {exc}", file=sys.stderr)
        return EXIT_USAGE

    async def work(uow: UnitOfWork, now: datetime) -> str:
        staff = await uow.people.staff_by_handle(handle)
        if staff is None:
            raise AdminError(f"no staff member {handle!r}")
        await credentials.set_password(uow, staff, password, now)
        if not totp:
            return f"console password set for {handle}"
        secret = await credentials.set_totp(uow, staff, now)
        uri = credentials.provisioning_uri(secret, handle)
        return f"console password and TOTP set for {handle}; add to an authenticator app:\n{uri}"

    return await in_transaction(settings, work, attempted="staff set-password")
