"""Staff commands about the caseload itself: /cases, /case, /away, /back and /handover.

`hand_over` is also the administrator's way to move a case (bot/admin/operations.py).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.engine import Bundle, render
from bot.engine.effects import Say
from bot.staff.case_access import self_access
from bot.staff.commands import StaffCommands, StaffRequest
from bot.staff.routing import PRIORITY_REPLY
from bot.store.models import Identity, Message, Staff, Survivor
from bot.store.uow import UnitOfWork

HISTORY_LINES = 12


def register(commands: StaffCommands) -> None:
    commands.register("cases", _cases)
    commands.register("case", _case)
    commands.register("away", _away)
    commands.register("back", _back)
    commands.register("handover", _handover)


async def _cases(
    commands: StaffCommands, request: StaffRequest, args: list[str], rest: str
) -> None:
    uow, staff = request.uow, request.staff
    if not self_access(staff, "list_cases", request.now):
        request.refuse("list_cases", None)
        return
    covered = [s.id for s in await uow.people.staff_covered_by(staff.id, request.now)]
    survivors = await uow.people.caseload([staff.id, *covered])
    if staff.role == "duty":  # the duty team answers the cases nobody else is responsible for
        survivors += await uow.people.unassigned_cases()
    lines = []
    for survivor in survivors:
        seen = _ago(survivor.last_inbound_at, request.now)
        mine = "" if survivor.advocate_id == staff.id else " (cover)"
        if staff.role == "duty":
            mine = " (duty)"
        language = survivor.language or "?"
        lines.append(f"{survivor.case_code} · {language} · {survivor.status} · {seen}{mine}")
    uow.audit.record(request.actor, "case.list", request.now, count=len(lines))
    request.say("staff.cases", count=str(len(lines)), lines="\n".join(lines) or "—")


async def _case(commands: StaffCommands, request: StaffRequest, args: list[str], rest: str) -> None:
    if len(args) != 1:
        request.say("staff.help")
        return
    survivor = await commands.permitted(request, args[0], "read_case")
    if survivor is None:
        return
    history = await request.uow.messages.recent(survivor.id, limit=HISTORY_LINES)
    lines = [
        f"{m.created_at:%d %b %H:%M} {'→' if m.direction == 'out' else '←'} {body}"
        for m, body in history
    ]
    request.uow.audit.record(request.actor, "case.read", request.now, survivor_id=survivor.id)
    request.say(
        "staff.case", case=survivor.case_code, lines="\n".join(lines) or "—", sensitive=True
    )


async def _away(commands: StaffCommands, request: StaffRequest, args: list[str], rest: str) -> None:
    staff, until = request.staff, datetime.max.replace(tzinfo=UTC)
    if not self_access(staff, "set_away", request.now):
        request.refuse("set_away", None)
        return
    cover: Staff | None = None
    for arg in args:
        try:
            until = datetime.strptime(arg, "%Y-%m-%d").replace(tzinfo=UTC) + timedelta(days=1)
            continue
        except ValueError:
            pass
        cover = await request.uow.people.staff_by_handle(arg)
        if cover is None or not may_cover(cover, staff):
            request.say("staff.no_such_colleague")
            return
    staff.away_until = until
    if cover is not None:
        staff.cover_id = cover.id
    request.uow.audit.record(
        request.actor, "staff.away", request.now, cover=cover.handle if cover else None
    )
    request.say("staff.away_done")


async def _back(commands: StaffCommands, request: StaffRequest, args: list[str], rest: str) -> None:
    if not self_access(request.staff, "set_away", request.now):
        request.refuse("set_away", None)
        return
    # Back means the cover ends too: a cover left set would let the colleague back in the
    # moment this advocate is away (or deactivated) again.
    request.staff.away_until = None
    request.staff.cover_id = None
    request.uow.audit.record(request.actor, "staff.back", request.now)
    request.say("staff.back_done")


async def _handover(
    commands: StaffCommands, request: StaffRequest, args: list[str], rest: str
) -> None:
    if len(args) != 2:
        request.say("staff.help")
        return
    survivor = await commands.permitted(request, args[0], "handover")
    if survivor is None:
        return
    new = await request.uow.people.staff_by_handle(args[1])
    if new is None or new.role != "advocate" or not new.active:
        request.say("staff.no_such_colleague")
        return
    await hand_over(request.uow, request.now, survivor, new, request.actor, commands.bundle)
    request.say("staff.handover_done", case=survivor.case_code, to=new.handle)


async def hand_over(
    uow: UnitOfWork, now: datetime, survivor: Survivor, new: Staff, actor: str, bundle: Bundle
) -> None:
    """Give the case to `new` and send the survivor a warm introduction in their language
    (not to a closed case: nothing more is planned with them)."""
    old = survivor.advocate_id
    survivor.advocate_id = new.id
    if survivor.status == "intake":
        survivor.status = "active"  # someone who went on without a code is now linked
    uow.audit.record(
        actor, "case.handover", now, survivor_id=survivor.id, to=new.handle, from_staff=old
    )
    target = await survivor_identity(uow, survivor)
    if target is None or survivor.status == "closed":
        return
    language = survivor.language or "en"
    style = "telegram" if target.channel == "telegram" else "sms"
    rendered = render(bundle, Say("handover.intro", {"name": new.handle}), language, style)
    uow.outbox.add(
        channel=target.channel,
        identity_id=target.id,
        now=now,
        kind="message",
        priority=PRIORITY_REPLY,
        survivor_id=survivor.id,
        payload={"text": rendered.text},
    )


async def survivor_identity(uow: UnitOfWork, survivor: Survivor) -> Identity | None:
    """Where to reach a survivor: the channel they last wrote on, if it is still open."""
    identities = [
        i for i in await uow.people.identities_of_survivor(survivor.id) if i.status == "active"
    ]
    if not identities:
        return None
    stmt = (
        select(Message.channel)
        .where(Message.survivor_id == survivor.id, Message.direction == "in")
        .order_by(Message.id.desc())
        .limit(1)
    )
    last = (await uow.session.execute(stmt)).scalar_one_or_none()
    return next((i for i in identities if i.channel == last), identities[0])


def may_cover(cover: Staff, absent: Staff) -> bool:
    """Who can cover an absent colleague: another active advocate or duty staff member."""
    return cover.id != absent.id and cover.active and cover.role in ("advocate", "duty")


def _ago(when: datetime | None, now: datetime) -> str:
    if when is None:
        return "no messages yet"
    hours = int((now - when).total_seconds() // 3600)
    return f"{hours // 24}d ago" if hours >= 48 else f"{hours}h ago"
