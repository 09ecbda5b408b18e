"""The `harbour` command line.

    harbour run [--no-chat]          the service (local mode: chat in the terminal)
    harbour simulate [--database URL] a scriptable conversation driver (JSON lines)
    harbour db upgrade               apply database migrations
    harbour flows check              check flows and catalogues before they reach anyone
    harbour staff add|list|deactivate|away     manage advocates, duty staff and admins
    harbour survivor enrol|assign|list         enrol survivors and manage caseloads

A bad argument prints one line and exits 2. A bad setting names the setting and exits 2.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from bot.flowfiles import FlowError
from bot.logs import setup_logging
from bot.settings import ConfigError, Settings, load_settings
from bot.store.database import KeyRefused

EXIT_USAGE = 2
EXIT_REFUSED = 3


class OneLineParser(argparse.ArgumentParser):
    """argparse, but an error is one line (and exit code 2), not a usage dump."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"harbour: {message} (see 'harbour --help')\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="harbour", description="Harbour: keeps survivors in touch with their advocate."
    )
    commands = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)

    run = commands.add_parser("run", help="run the service")
    run.add_argument("--no-chat", action="store_true", help="local mode: do not read the terminal")

    sim = commands.add_parser("simulate", help="drive conversations with JSON lines on stdin")
    sim.add_argument("--database", metavar="URL", help="use this database instead of a fresh one")

    db = commands.add_parser("db", help="database administration")
    db_commands = db.add_subparsers(dest="db_command", required=True, parser_class=OneLineParser)
    db_commands.add_parser("upgrade", help="apply migrations")

    flows = commands.add_parser("flows", help="conversation flows")
    flow_commands = flows.add_subparsers(
        dest="flows_command", required=True, parser_class=OneLineParser
    )
    flow_commands.add_parser("check", help="check flows and catalogues, print a summary")
    _admin_parsers(commands)
    return parser


def _admin_parsers(commands: Any) -> None:
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


def _settings() -> Settings:
    settings = load_settings()
    secrets = [
        s.get_secret_value()
        for s in (
            settings.secret_key,
            settings.telegram_token,
            settings.telegram_webhook_secret,
            settings.twilio_auth_token,
            settings.libretranslate_api_key,
        )
        if s is not None
    ]
    setup_logging(settings.log_level, secrets)
    return settings


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "flows":
        from bot.bootstrap import FLOWS_DIR, LOCALES_DIR
        from bot.flows_check import run_check

        return run_check(FLOWS_DIR, LOCALES_DIR, sys.stdout)
    if args.command == "simulate":
        from bot.simulate import main_simulate

        setup_logging("WARNING")
        return main_simulate(args.database)
    settings = _settings()
    if args.command == "db":
        from bot.store.database import open_store

        async def upgrade() -> None:
            db, _cipher = await open_store(settings)
            await db.close()

        asyncio.run(upgrade())
        print("database is up to date")
        return 0
    if args.command in ("staff", "survivor"):
        return asyncio.run(_admin(settings, args))
    from bot.serve import serve, stdin_is_chat

    return asyncio.run(serve(settings, chat=not args.no_chat and stdin_is_chat()))


async def _admin(settings: Settings, args: argparse.Namespace) -> int:
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


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return _dispatch(args)
    except ConfigError as exc:
        print(f"harbour: configuration error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except FlowError as exc:
        print(f"harbour: the flows or catalogues are broken: {exc}", file=sys.stderr)
        return 1
    except KeyRefused as exc:
        print(f"harbour: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
