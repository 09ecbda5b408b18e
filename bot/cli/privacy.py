"""`harbour purge --dry-run|--apply` and `harbour keys rotate`.

Both print counts only, never content. (Export and erasure of one survivor are
`harbour survivor export|erase`, in bot/cli/staff.py.)
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from bot.cli.common import EXIT_REFUSED, OneLineParser
from bot.settings import Settings

NAMES = ("purge", "keys")


def add_parsers(commands: Any) -> None:
    purge = commands.add_parser("purge", help="delete data past its retention period")
    mode = purge.add_mutually_exclusive_group(required=True)
    mode.add_argument("--dry-run", action="store_true", help="only count what would go")
    mode.add_argument("--apply", action="store_true", help="delete it")
    keys = commands.add_parser("keys", help="encryption keys").add_subparsers(
        dest="keys_command", required=True, parser_class=OneLineParser
    )
    keys.add_parser(
        "rotate",
        help="add a new key, re-encrypt everything (resumable), retire the old key when unused",
    )


async def run(settings: Settings, args: argparse.Namespace) -> int:
    if args.command == "purge":
        return await _purge(settings, apply=bool(args.apply))
    return await _rotate(settings)


async def _purge(settings: Settings, *, apply: bool) -> int:
    from bot.ports import SystemClock
    from bot.privacy.retention import Periods, purge
    from bot.store.database import open_store

    db, cipher = await open_store(settings)
    try:
        periods = Periods.from_settings(settings)
        counts = await purge(db, cipher, SystemClock().now(), periods, apply=apply)
    finally:
        await db.close()
    print(("deleted" if apply else "would delete (dry run, nothing changed)") + ":")
    for line in counts.lines():
        print(f"  {line}")
    return 0


async def _rotate(settings: Settings) -> int:
    from bot.ports import SystemClock
    from bot.privacy.key_rotation import RotationError, check_settings, rotate
    from bot.store.database import open_store

    path = check_settings(settings)
    db, _cipher = await open_store(settings)  # refuses a wrong key before anything changes
    try:
        report = await rotate(db, path, SystemClock().now())
    except RotationError as exc:
        print(f"harbour: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    finally:
        await db.close()
    print(report.summary())
    return 0
