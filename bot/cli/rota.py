"""`harbour rota add|list|remove`: who is on call out of office hours."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.admin.operations import AdminError, Table
from bot.cli.common import EXIT_USAGE, OneLineParser
from bot.ports import SystemClock
from bot.settings import Settings
from bot.store.database import open_store
from bot.store.escalation_models import RotaShift
from bot.store.models import Staff
from bot.store.uow import UnitOfWork

NAMES = ("rota",)


def add_parsers(commands: Any) -> None:
    rota = commands.add_parser("rota", help="the out-of-hours on-call rota").add_subparsers(
        dest="rota_command", required=True, parser_class=OneLineParser
    )
    add = rota.add_parser("add", help="put someone on call for a period")
    add.add_argument("handle")
    add.add_argument("--from", dest="start", required=True, metavar="'YYYY-MM-DD HH:MM'")
    add.add_argument("--to", dest="end", required=True, metavar="'YYYY-MM-DD HH:MM'")
    rota.add_parser("list", help="current and future shifts")
    rota.add_parser("remove", help="remove a shift").add_argument("id", type=int)


def parse_local(text: str, zone: str) -> datetime:
    try:
        local = datetime.strptime(text, "%Y-%m-%d %H:%M")
    except ValueError:
        raise AdminError(f"{text!r}: use 'YYYY-MM-DD HH:MM' (office time)") from None
    return local.replace(tzinfo=ZoneInfo(zone))


async def rota_add(uow: UnitOfWork, now: datetime, settings: Settings, args: Any) -> str:
    staff = await uow.people.staff_by_handle(args.handle.lower())
    if staff is None or not staff.active or staff.role == "admin":
        raise AdminError(f"{args.handle!r} is not an active advocate or duty staff member")
    start = parse_local(args.start, settings.office_timezone)
    end = parse_local(args.end, settings.office_timezone)
    if end <= start or end <= now:
        raise AdminError("a shift must end after it starts, and in the future")
    uow.session.add(RotaShift(staff_id=staff.id, starts_at=start, ends_at=end, created_at=now))
    uow.audit.record("cli", "rota.added", now, handle=staff.handle)
    return f"{staff.handle} is on call from {args.start} to {args.end}"


async def rota_list(uow: UnitOfWork, now: datetime, settings: Settings) -> str:
    zone = ZoneInfo(settings.office_timezone)
    stmt = (
        select(RotaShift, Staff.handle)
        .join(Staff, Staff.id == RotaShift.staff_id)
        .where(RotaShift.ends_at > now)
        .order_by(RotaShift.starts_at)
    )
    rows = [
        (
            str(shift.id),
            handle,
            f"{shift.starts_at.astimezone(zone):%Y-%m-%d %H:%M}",
            f"{shift.ends_at.astimezone(zone):%Y-%m-%d %H:%M}",
        )
        for shift, handle in (await uow.session.execute(stmt)).all()
    ]
    return Table(("id", "on call", "from", "to"), rows).render()


async def run(settings: Settings, args: argparse.Namespace) -> int:
    db, cipher = await open_store(settings)
    now = SystemClock().now()
    try:
        async with UnitOfWork(db, cipher) as uow:
            if args.rota_command == "add":
                out = await rota_add(uow, now, settings, args)
            elif args.rota_command == "list":
                out = await rota_list(uow, now, settings)
            else:
                shift = await uow.session.get(RotaShift, args.id)
                if shift is None:
                    raise AdminError(f"no shift {args.id}")
                await uow.session.delete(shift)
                uow.audit.record("cli", "rota.removed", now, shift=args.id)
                out = f"removed shift {args.id}"
    except AdminError as exc:
        print(f"harbour: {exc}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        await db.close()
    print(out)
    return 0
