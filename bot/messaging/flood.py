"""A sender who floods is slowed down, and nothing they say is lost.

Past FLOOD_LIMIT messages a minute from one survivor, each message is still stored in their
history and still goes through the engine, so STOP, settings and safety words all work. What
is held back is only the non-urgent output: ordinary replies to them, and the one-by-one
relay to their advocate. Instead the advocate gets one notice per window saying the case is
flooding and that the messages are in the history (/case CODE). Escalations and urgent
replies (help now, emergency numbers) always go out: an urgent message always gets through.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime, timedelta

from sqlalchemy import func, select

from bot.engine.effects import Effect, Relay, Say
from bot.staff.routing import PRIORITY_REPLY, notify_staff
from bot.staff.texts import StaffTexts
from bot.store.models import AuditEvent, Message, Staff, Survivor
from bot.store.uow import UnitOfWork

FLOOD_WINDOW = timedelta(minutes=1)
FLOOD_LIMIT = 20  # far more than anyone types by hand in a minute
# In the transaction's session: survivors looked up, and those whose advocate was told.
_LOOKED_AT, _TOLD = "flood_notices_looked_up", "flood_notices_told"


async def over_limit(uow: UnitOfWork, survivor_id: int, now: datetime) -> bool:
    """Whether this survivor already sent FLOOD_LIMIT messages within the window."""
    stmt = select(func.count()).where(
        Message.survivor_id == survivor_id,
        Message.direction == "in",
        Message.created_at > now - FLOOD_WINDOW,
    )
    return int((await uow.session.execute(stmt)).scalar_one()) >= FLOOD_LIMIT


def hold_back(effects: Sequence[Effect], flooding: bool) -> tuple[list[Effect], bool]:
    """The effects that still happen, and whether anything was held back."""
    if not flooding:
        return list(effects), False
    kept: list[Effect] = [
        e for e in effects if not isinstance(e, Relay | Say) or (isinstance(e, Say) and e.urgent)
    ]
    return kept, len(kept) != len(effects)


async def look_up_notices(uow: UnitOfWork, survivor_ids: Collection[int], now: datetime) -> None:
    """For a batch of messages: with one query, which of these survivors' advocates were
    already told within the window, so `tell_staff_once` need not ask for each."""
    wanted = set(survivor_ids) - uow.session.info.get(_LOOKED_AT, set())
    if not wanted:
        return
    told = select(AuditEvent.survivor_id).where(
        AuditEvent.survivor_id.in_(sorted(wanted)),
        AuditEvent.action == "flood.held",
        AuditEvent.at > now - FLOOD_WINDOW,
    )
    found = set((await uow.session.execute(told.distinct())).scalars())
    uow.session.info.setdefault(_LOOKED_AT, set()).update(wanted)
    uow.session.info.setdefault(_TOLD, set()).update(found)


async def tell_staff_once(
    uow: UnitOfWork, now: datetime, survivor: Survivor, texts: StaffTexts
) -> None:
    """One notice per window: the case is flooding, its messages are in the history."""
    if survivor.id not in uow.session.info.get(_LOOKED_AT, ()):
        await look_up_notices(uow, [survivor.id], now)
    told = uow.session.info[_TOLD]
    if survivor.id in told:
        return
    told.add(survivor.id)

    def build(staff: Staff) -> str:
        return texts.text("staff.flood", staff.language, case=survivor.case_code)

    await notify_staff(uow, survivor, now, kind="alert", build=build, priority=PRIORITY_REPLY)
    uow.audit.record("system", "flood.held", now, survivor_id=survivor.id)
