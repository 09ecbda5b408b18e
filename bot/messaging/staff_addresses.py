"""A staff address that fails for good, and one the provider moved.

- Moved (Telegram turned a group into a supergroup): the sender followed it; the new chat id
  is stored, so everything after goes straight there.
- Failed for good (the bot blocked, the account deleted, the chat gone): the address is
  marked so and no longer used (bot/staff/routing.py passes over staff with no working
  address), the message that failed goes at once to whoever is responsible now (cover, the
  duty team, the admins), and the admins are told on an address that works, so someone can
  fix it. Writing to the bot again from that address makes it work again.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from bot.ports import SendResult
from bot.staff.routing import responsible_staff, staff_identity
from bot.staff.texts import StaffTexts
from bot.store.models import Identity
from bot.store.uow import UnitOfWork

log = logging.getLogger(__name__)

# Rows only the Telegram sender can carry out: re-routed as the text they came with.
TELEGRAM_ONLY = frozenset({"copy", "attach", "clear"})


async def address_moved(uow: UnitOfWork, now: datetime, identity_id: int, address: str) -> None:
    identity = await uow.session.get(Identity, identity_id)
    if identity is None:
        return
    moved = await uow.people.move_identity(identity, address)
    uow.audit.record(
        "system",
        "identity.moved" if moved else "identity.move_refused",
        now,
        survivor_id=identity.survivor_id,
        staff_id=identity.staff_id,
        channel=identity.channel,
    )


async def staff_address_failed(
    uow: UnitOfWork,
    now: datetime,
    identity: Identity,
    row: Mapping[str, Any],
    result: SendResult,
    texts: StaffTexts,
) -> None:
    """`row`: the failed row's kind, priority, survivor_id and payload (text, choices...)."""
    staff = await uow.people.staff(identity.staff_id or 0)
    if staff is None or result.permanent is None:
        return
    identity.status = result.permanent  # no longer used until they write from it again
    error = result.error or result.permanent
    uow.audit.record(
        "system",
        "staff.address_failed",
        now,
        staff_id=staff.id,
        channel=identity.channel,
        error=error,
    )
    log.warning("a staff address on %s failed for good (%s)", identity.channel, error)
    await _pass_on(uow, now, row)
    for admin in await uow.people.active_staff("admin"):
        to = await staff_identity(uow, admin)
        if to is None:
            continue
        text = texts.text(
            "staff.address_failed",
            admin.language,
            handle=staff.handle,
            channel=identity.channel,
            error=error,
        )
        uow.outbox.add(
            channel=to.channel, identity_id=to.id, payload={"text": text}, now=now, kind="alert"
        )


async def staff_send_gave_up(
    uow: UnitOfWork,
    now: datetime,
    identity: Identity,
    row: Mapping[str, Any],
    texts: StaffTexts,
) -> None:
    """A message to a staff member could not be sent for the whole retry window (an outage,
    not a refusal): the address stays in use, the message goes to whoever is responsible
    now on another address, and the admins are told, on another channel where they have one."""
    staff = await uow.people.staff(identity.staff_id or 0)
    if staff is None:
        return
    uow.audit.record(
        "system", "staff.send_gave_up", now, staff_id=staff.id, channel=identity.channel
    )
    log.warning("a message to a staff address on %s was given up", identity.channel)
    await _pass_on(uow, now, row, skip=identity.id)
    for admin in await uow.people.active_staff("admin"):
        to = await staff_identity(uow, admin, avoid=identity.channel)
        if to is None or to.id == identity.id:
            continue
        text = texts.text(
            "staff.address_failed",
            admin.language,
            handle=staff.handle,
            channel=identity.channel,
            error="gave_up",
        )
        uow.outbox.add(
            channel=to.channel, identity_id=to.id, payload={"text": text}, now=now, kind="alert"
        )


async def _pass_on(
    uow: UnitOfWork, now: datetime, row: Mapping[str, Any], skip: int | None = None
) -> None:
    """The failed message goes to whoever is responsible for that survivor now."""
    survivor_id = row.get("survivor_id")
    payload = dict(row.get("payload") or {})
    survivor = await uow.people.survivor(survivor_id) if isinstance(survivor_id, int) else None
    if survivor is None or not str(payload.get("text", "")).strip():
        return
    kind = str(row.get("kind", "relay"))
    taken_over = []
    for staff in await responsible_staff(uow, survivor, now):
        to = await staff_identity(uow, staff)
        if to is None or to.id == skip:
            continue
        as_text = kind in TELEGRAM_ONLY and to.channel != "telegram"
        uow.outbox.add(
            channel=to.channel,
            identity_id=to.id,
            payload={"text": payload["text"], "case": survivor.case_code} if as_text else payload,
            now=now,
            kind="relay" if as_text else kind,
            priority=int(row.get("priority", 0)),
            survivor_id=survivor.id,
        )
        taken_over.append(staff.handle)
    uow.audit.record("system", "staff.rerouted", now, survivor_id=survivor.id, alerted=taken_over)
    if not taken_over:
        log.error("no reachable staff member for case %s", survivor.case_code)
        uow.audit.record("system", "staff_unreachable", now, survivor_id=survivor.id, kind=kind)
