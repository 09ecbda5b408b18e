"""Running one administrator command in one transaction, with the command line's error rules:
a bad argument exits 2, a refused person exits 4 (the refusal audited in its own
transaction), and what the command returns is printed only once it is committed."""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from datetime import datetime

from bot.admin.operations import AccessRefused, AdminError
from bot.cli.common import EXIT_NOT_PERMITTED, EXIT_USAGE
from bot.ports import SystemClock
from bot.settings import Settings
from bot.store.database import open_store
from bot.store.uow import UnitOfWork

Work = Callable[[UnitOfWork, datetime], Awaitable[str]]


async def in_transaction(
    settings: Settings, work: Work, *, attempted: str, by: str | None = None
) -> int:
    db, cipher = await open_store(settings)
    now = SystemClock().now()
    try:
        async with UnitOfWork(db, cipher) as uow:
            out = await work(uow, now)
    except AccessRefused as exc:
        async with UnitOfWork(db, cipher) as uow:  # the refusal is kept, in its own transaction
            actor = f"cli:{by}" if by else "cli"
            uow.audit.record(actor[:64], "access.denied", now, attempted=attempted)
        print(f"harbour: {exc}", file=sys.stderr)
        return EXIT_NOT_PERMITTED
    except AdminError as exc:
        print(f"harbour: {exc}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        await db.close()
    print(out)
    return 0
