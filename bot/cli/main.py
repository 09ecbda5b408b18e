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
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import TYPE_CHECKING

from bot.cli.common import EXIT_REFUSED, EXIT_USAGE, OneLineParser

if TYPE_CHECKING:
    from bot.settings import Settings

# Everything heavier is imported inside main(), so that Ctrl-C while Harbour is still
# loading is caught there too, not printed as a traceback from an import.
INTERRUPTED = 130  # Ctrl-C during any command but `harbour run`, where it is the way out


def command_modules() -> list[ModuleType]:
    """Modules that add their own subcommands: NAMES, add_parsers(commands), run(settings, args).
    Each area of the product keeps its commands next to its code."""
    from bot.cli import appointments as appointments_cli
    from bot.cli import privacy as privacy_cli
    from bot.cli import rota as rota_cli
    from bot.cli import staff as admin_cli

    return [admin_cli, appointments_cli, rota_cli, privacy_cli]


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
    import asyncio

    if args.command == "flows":
        from bot.bootstrap import FLOWS_DIR, LOCALES_DIR
        from bot.cli.flows import run_check

        return run_check(FLOWS_DIR, LOCALES_DIR, sys.stdout)
    if args.command == "simulate":
        from bot.cli.simulate import main_simulate
        from bot.logs import setup_logging

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
    from bot.cli.run import serve, stdin_is_chat

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
        return EXIT_REFUSED


if __name__ == "__main__":
    sys.exit(main())
