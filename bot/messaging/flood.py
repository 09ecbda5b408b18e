"""A sender who floods is never silenced, and nothing they say is lost.

Only what a survivor writes is counted: button presses and steps through the menus are not
(`Message.navigation`), so tapping through the information pages never trips the limit.
Past FLOOD_LIMIT written messages a minute, each message is still stored in their history,
still goes through the engine and is still passed on to their advocate. What is held back is
only the bot's own routine answer to each one ("Sent to your advocate"): instead the
survivor gets one short notice per window ("I've passed your messages on. Give me a
minute."), and the advocate one notice that the case is writing a lot. Escalations, urgent
replies and STOP/START are never limited.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime, timedelta

from sqlalchemy import func, select

from bot.engine.effects import ChannelState, Effect, Escalate, Relay, Say
from bot.staff.routing import PRIORITY_REPLY, notify_staff
from bot.staff.texts import StaffTexts
from bot.store.models import AuditEvent, Message, Staff, Survivor
from bot.store.uow import UnitOfWork

FLOOD_WINDOW = timedelta(minutes=1)
FLOOD_LIMIT = 20  # far more than anyone types by hand in a minute
NOTICE = "flood.notice"  # "I've passed your messages on. Give me a minute."
MISSES = frozenset({"common.reprompt", "common.offer_person"})  # text that was not understood
# In the transaction's session: survivors looked up, and those whose advocate was told.
_LOOKED_AT, _TOLD = "flood_notices_looked_up", "flood_notices_told"


async def over_limit(uow: UnitOfWork, survivor_id: int, now: datetime) -> bool:
    """Whether this survivor already sent FLOOD_LIMIT messages within the window."""
    stmt = select(func.count()).where(
        Message.survivor_id == survivor_id,
        Message.direction == "in",
        Message.navigation.is_(False),
        Message.created_at > now - FLOOD_WINDOW,
    )
    return int((await uow.session.execute(stmt)).scalar_one()) >= FLOOD_LIMIT


def is_navigation(effects: Sequence[Effect], pressed: bool) -> bool:
    """A button press, or typed text that only moved through the menus: nothing passed on
    and nothing misunderstood."""
    if pressed:
        return True
    for effect in effects:
        if isinstance(effect, Relay) or (isinstance(effect, Say) and effect.key in MISSES):
            return False
    return True


def hold_back(effects: Sequence[Effect], flooding: bool) -> tuple[list[Effect], bool]:
    """The effects that still happen, and whether anything was held back: past the limit,
    only the bot's routine replies wait; relays, alarms, urgent replies and STOP/START go."""
    if not flooding or any(isinstance(e, Escalate | ChannelState) for e in effects):
        return list(effects), False
    kept: list[Effect] = [e for e in effects if not isinstance(e, Say) or e.urgent]
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


async def tell_once(uow: UnitOfWork, now: datetime, survivor: Survivor, texts: StaffTexts) -> bool:
    """One notice per window to the advocate (the case is writing a lot, everything is
    passed on). True when this is the first in the window: the survivor is told then too."""
    if survivor.id not in uow.session.info.get(_LOOKED_AT, ()):
        await look_up_notices(uow, [survivor.id], now)
    told = uow.session.info[_TOLD]
    if survivor.id in told:
        return False
    told.add(survivor.id)

    def build(staff: Staff) -> str:
        return texts.text("staff.flood", staff.language, case=survivor.case_code)

    await notify_staff(uow, survivor, now, kind="alert", build=build, priority=PRIORITY_REPLY)
    uow.audit.record("system", "flood.held", now, survivor_id=survivor.id)
    return True
