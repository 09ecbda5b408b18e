"""Who on the staff side hears about a survivor, and putting the notice in the outbox.

The assigned advocate first; their named cover while they are away; otherwise the duty team;
and if there is no duty staff at all, the admins. Nothing about a survivor is ever dropped
because nobody was found: that is logged loudly and audited.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from bot.store.models import Identity, Staff, Survivor
from bot.store.uow import UnitOfWork

log = logging.getLogger(__name__)

# Higher goes first. Escalations jump every queue; replies beat reminders.
PRIORITY_URGENT = 100
PRIORITY_REPLY = 10
PRIORITY_BACKGROUND = 0

# The channel staff are reached on, in order of preference.
STAFF_CHANNEL_ORDER = ("telegram", "sms", "local")


def is_available(staff: Staff, now: datetime) -> bool:
    return staff.active and (staff.away_until is None or staff.away_until <= now)


async def responsible_staff(uow: UnitOfWork, survivor: Survivor, now: datetime) -> list[Staff]:
    """The people who should hear about this survivor right now and can be reached: an
    advocate whose only address failed (blocked bot, deleted account) is passed over for
    their cover or the duty team. Empty only when nobody at all can be reached."""
    if survivor.advocate_id is not None:
        advocate = await uow.people.staff(survivor.advocate_id)
        if advocate is not None and await _reachable(uow, advocate, now):
            return [advocate]
        if advocate is not None and advocate.active and advocate.cover_id is not None:
            cover = await uow.people.staff(advocate.cover_id)
            if cover is not None and await _reachable(uow, cover, now):
                return [cover]
    for role in ("duty", "admin"):
        team = [s for s in await uow.people.active_staff(role) if await _reachable(uow, s, now)]
        if team:
            return team
    return []


async def _reachable(uow: UnitOfWork, staff: Staff, now: datetime) -> bool:
    return is_available(staff, now) and await staff_identity(uow, staff) is not None


async def staff_identity(
    uow: UnitOfWork, staff: Staff, avoid: str | None = None
) -> Identity | None:
    """Where to reach a staff member: their preferred working address on a channel this
    process sends on (an address that failed for good is no longer "active"). `avoid`: a
    channel to use only when they have no other (one that is out, for instance)."""
    enabled = uow.channels
    identities = [
        i
        for i in await uow.people.identities_of_staff(staff.id)
        if i.status == "active" and (enabled is None or i.channel in enabled)
    ]
    identities.sort(key=lambda i: (i.channel == avoid, _preference(i.channel)))
    return identities[0] if identities else None


def _preference(channel: str) -> int:
    return STAFF_CHANNEL_ORDER.index(channel) if channel in STAFF_CHANNEL_ORDER else 99


async def notify_staff(
    uow: UnitOfWork,
    survivor: Survivor,
    now: datetime,
    *,
    kind: str,
    build: Any,
    priority: int = PRIORITY_REPLY,
    extra: Mapping[str, Any] | None = None,
    per_staff: Callable[[Staff], Mapping[str, Any]] | None = None,
    status: str = "pending",
) -> list[Staff]:
    """Queue a notice for each responsible staff member. `build(staff)` returns its text,
    so each person gets it in their own language. Returns who was notified."""
    notified: list[Staff] = []
    for staff in await responsible_staff(uow, survivor, now):
        identity = await staff_identity(uow, staff)
        if identity is None:
            continue
        payload = {"text": build(staff), "case": survivor.case_code, **(extra or {})}
        if per_staff is not None:
            payload.update(per_staff(staff))
        uow.outbox.add(
            channel=identity.channel,
            identity_id=identity.id,
            payload=payload,
            now=now,
            kind=kind,
            priority=priority,
            survivor_id=survivor.id,
            status=status,
        )
        notified.append(staff)
    if not notified:
        log.error(
            "no reachable staff member for case %s (%s): check the rota", survivor.case_code, kind
        )
        uow.audit.record("system", "staff_unreachable", now, survivor_id=survivor.id, kind=kind)
    return notified
