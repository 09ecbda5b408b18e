"""The access policy's views of the database: one place builds the Actor and the Case, so chat,
command line and console decide alike (bot/staff/access.py holds the rules).

    await case_access(uow, staff, survivor, "read_case", now) -> bool

Every call reads the rows afresh in the caller's transaction: a deactivation, a hand-over or
an erasure made by another process counts at once.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy import select

from bot.staff.access import Action, Actor, Case, SelfAction, allowed, allowed_self
from bot.store.escalation_models import Escalation
from bot.store.models import Staff, Survivor
from bot.store.uow import UnitOfWork

OPEN_ALERT = ("open", "acknowledged")


def is_away(staff: Staff, now: datetime) -> bool:
    return staff.away_until is not None and staff.away_until > now


def actor_of(staff: Staff, now: datetime) -> Actor:
    return Actor(staff.id, staff.role, staff.active, is_away(staff, now))


async def case_view(
    uow: UnitOfWork, survivor: Survivor, now: datetime, alerted: frozenset[int] = frozenset()
) -> Case:
    """The case as the policy sees it now. `alerted`: staff an open alert on it has reached."""
    advocate = await uow.people.staff(survivor.advocate_id) if survivor.advocate_id else None
    raised = await uow.session.execute(
        select(Escalation.id).where(
            Escalation.survivor_id == survivor.id, Escalation.status.in_(OPEN_ALERT)
        )
    )
    return Case(
        advocate_id=advocate.id if advocate else None,
        advocate_away=advocate is not None and advocate.active and is_away(advocate, now),
        cover_id=advocate.cover_id if advocate else None,
        escalation_open=raised.first() is not None,
        advocate_active=advocate is None or advocate.active,
        alerted=alerted,
    )


async def case_access(
    uow: UnitOfWork,
    staff: Staff,
    survivor: Survivor,
    action: Action,
    now: datetime,
    *,
    alerted: frozenset[int] = frozenset(),
    escalation_open: bool | None = None,
) -> bool:
    """May `staff` do `action` on this survivor's case now? Erased and merged cases: never.
    `escalation_open` overrides the lookup when the caller holds the escalation itself."""
    if survivor.status in ("erased", "merged"):
        return False
    case = await case_view(uow, survivor, now, alerted)
    if escalation_open is not None:
        case = replace(case, escalation_open=escalation_open)
    return allowed(actor_of(staff, now), action, case)


def self_access(staff: Staff, action: SelfAction, now: datetime) -> bool:
    """May `staff` do `action` for themselves (list their cases, say they are away)?"""
    return allowed_self(actor_of(staff, now), action)
