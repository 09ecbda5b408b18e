"""The `harbour` command line.

    harbour run [--no-chat]          the service (local mode: chat in the terminal)
    harbour simulate [--database URL] a scriptable conversation driver (JSON lines)
    harbour db upgrade               apply database migrations
    harbour flows check              check flows and catalogues before they reach anyone
    harbour translations export|import|status               native-speaker review of texts
    harbour staff add|list|deactivate|reactivate|away       advocates, duty staff and admins
    harbour staff set-password HANDLE [--totp]              a console password (stdin or prompt)
    harbour survivor enrol|assign|list|close|reopen|code    survivors and their cases
    harbour survivor export|erase                           subject access and erasure

Every failure is one line on stderr, never a traceback. Exit codes are in bot/cli/common.py.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import TYPE_CHECKING

from bot.cli.common import EXIT_FAILED, EXIT_KEY, EXIT_USAGE, OneLineParser

if TYPE_CHECKING:
    from bot.settings import Settings

# Everything heavier is imported inside the functions, so that Ctrl-C while Harbour is still
# loading is caught in main() too, not printed as a traceback from an import.
INTERRUPTED = 130  # Ctrl-C during any command but `harbour run`, where it is the way out


def command_modules() -> list[ModuleType]:
    """Modules that add their own subcommands: NAMES, add_parsers(commands), run(settings, args).
    Each area of the product keeps its commands next to its code."""
    from bot.cli import appointments as appointments_cli
    from bot.cli import privacy as privacy_cli
    from bot.cli import rota as rota_cli
    from bot.cli import staff as staff_cli
    from bot.cli import survivor as survivor_cli

    return [staff_cli, survivor_cli, appointments_cli, rota_cli, privacy_cli]


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
    from bot.cli import translations

    translations.add_parsers(commands)
    for module in command_modules():
        module.add_parsers(commands)
    return parser


def _settings() -> Settings:
    from bot.logs import setup_logging
    from bot.settings import load_settings

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
    from bot.cli import translations
    from bot.logs import setup_logging

    if args.command == "flows":
        from bot.bootstrap import FLOWS_DIR, LOCALES_DIR
        from bot.cli.flows import run_check

        return run_check(FLOWS_DIR, LOCALES_DIR, sys.stdout)
    if args.command == "translations":
        from bot.bootstrap import LOCALES_DIR

        return translations.run_translations(args, LOCALES_DIR)
    if args.command == "simulate":
        from bot.cli.simulate import main_simulate

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
    for module in command_modules():
        if args.command in module.NAMES:
            code: int = asyncio.run(module.run(settings, args))
            return code
    from bot.bootstrap import LOCALES_DIR
    from bot.cli.run import serve, stdin_is_chat

    translations.check_review_policy(settings.unreviewed_safety_text, LOCALES_DIR)

    return asyncio.run(serve(settings, chat=not args.no_chat and stdin_is_chat()))


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _main(argv)
    except KeyboardInterrupt:
        # Ctrl-C ends local mode (and a foreground `harbour run`) cleanly at any moment,
        # even while it is still starting: that is an exit 0, not an error.
        words = list(sys.argv[1:] if argv is None else argv)
        return 0 if words[:1] == ["run"] else INTERRUPTED


def _main(argv: Sequence[str] | None) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from bot.flows.files import FlowError
    from bot.settings import ConfigError
    from bot.store.database import KeyRefused

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
        return EXIT_KEY
    except BrokenPipeError:  # the reader went away (`| head`): nothing more to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no noise at exit
        return EXIT_FAILED
    except (OSError, SQLAlchemyError) as exc:
        # Most often the database cannot be reached. The URL is not printed: it may hold a
        # password. The class name says enough to start looking.
        print(f"harbour: {describe_failure(exc)}", file=sys.stderr)
        return EXIT_FAILED


def describe_failure(exc: BaseException) -> str:
    """One line about an unexpected failure, without content, numbers or secrets."""
    from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

    if isinstance(exc, OperationalError | InterfaceError | ConnectionError | TimeoutError):
        cause = type(getattr(exc, "orig", None) or exc).__name__
        return f"cannot reach the database (HARBOUR_DATABASE_URL): {cause}"
    if isinstance(exc, OSError) and exc.filename:
        return f"{exc.filename}: {exc.strerror or type(exc).__name__}"
    if isinstance(exc, DBAPIError):
        return f"the database refused this: {type(exc.orig or exc).__name__}"
    return f"failed: {type(exc).__name__}"


if __name__ == "__main__":
    sys.exit(main())
