"""A sender who floods is slowed down, and nothing they say is lost.

Past FLOOD_LIMIT messages a minute from one survivor, each message is still stored in their
history and still goes through the engine, so STOP, settings and safety words all work. What
is held back is only the non-urgent output: ordinary replies to them, and the one-by-one
relay to their advocate. Instead the advocate gets one notice per window saying the case is
flooding and that the messages are in the history (/case CODE). Escalations and urgent
replies (help now, emergency numbers) always go out: an urgent message always gets through.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import func, select

from bot.engine.effects import Effect, Relay, Say
from bot.services.staff_routing import PRIORITY_REPLY, notify_staff
from bot.staff_text import StaffTexts
from bot.store.models import AuditEvent, Message, Staff, Survivor
from bot.store.uow import UnitOfWork

FLOOD_WINDOW = timedelta(minutes=1)
FLOOD_LIMIT = 20  # far more than anyone types by hand in a minute


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


async def tell_staff_once(
    uow: UnitOfWork, now: datetime, survivor: Survivor, texts: StaffTexts
) -> None:
    """One notice per window: the case is flooding, its messages are in the history."""
    recent = select(AuditEvent.id).where(
        AuditEvent.survivor_id == survivor.id,
        AuditEvent.action == "flood.held",
        AuditEvent.at > now - FLOOD_WINDOW,
    )
    if (await uow.session.execute(recent.limit(1))).first() is not None:
        return

    def build(staff: Staff) -> str:
        return texts.text("staff.flood", staff.language, case=survivor.case_code)

    await notify_staff(uow, survivor, now, kind="alert", build=build, priority=PRIORITY_REPLY)
    uow.audit.record("system", "flood.held", now, survivor_id=survivor.id)
