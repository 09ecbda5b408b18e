"""Escalation: every urgent message reaches a person who acknowledges it.

Tiers, in order: the assigned advocate, their cover, whoever is on call, the manager (admins).
The first alert goes to the first tier that has someone available. Each time the timeout passes
without an acknowledgement the alert is repeated to everyone already told, and the next tier is
added. At the last tier it keeps repeating: Harbour never stops chasing an open escalation.
Alerts jump every queue in the outbox and never wait for translation. The audit trail records
who was alerted and when, who acknowledged, and how it was resolved.
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta

from sqlalchemy import func, select, update

from bot.safety.rota import OfficeHours, on_call
from bot.staff.case_access import case_access
from bot.staff.routing import PRIORITY_URGENT, is_available, staff_identity
from bot.staff.texts import StaffTexts
from bot.store.crypto import Cipher
from bot.store.database import Database
from bot.store.escalation_models import Escalation
from bot.store.models import Staff, Survivor
from bot.store.sealing import RESOLUTION
from bot.store.uow import UnitOfWork

log = logging.getLogger(__name__)

TIERS = ("advocate", "cover", "on_call", "manager")
LAST_TIER = len(TIERS) - 1
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


class Escalations:
    def __init__(self, texts: StaffTexts, office: OfficeHours, timeout: timedelta) -> None:
        self.texts = texts
        self.office = office
        self.timeout = timeout

    # -- raising ----------------------------------------------------------------------------
    async def raise_(
        self, uow: UnitOfWork, now: datetime, survivor: Survivor, reason: str, silent: bool
    ) -> Escalation:
        escalation = Escalation(
            code=await self._new_code(uow),
            survivor_id=survivor.id,
            reason=reason[:64],
            silent=silent,
            status="open",
            tier=0,
            alerts_sent=0,
            created_at=now,
        )
        uow.session.add(escalation)
        await uow.session.flush()
        uow.audit.record(
            "system",
            "escalation.raised",
            now,
            survivor_id=survivor.id,
            code=escalation.code,
            reason=escalation.reason,
            silent=silent,
        )
        await self.alert_round(uow, escalation, survivor, now, first=True)
        return escalation

    async def _new_code(self, uow: UnitOfWork) -> str:
        while True:
            code = "E" + "".join(secrets.choice(CODE_ALPHABET) for _ in range(4))
            taken = await uow.session.execute(select(Escalation.id).where(Escalation.code == code))
            if taken.first() is None:
                return code

    # -- who --------------------------------------------------------------------------------
    async def tier_members(
        self, uow: UnitOfWork, survivor: Survivor, tier: int, now: datetime
    ) -> list[Staff]:
        advocate = await uow.people.staff(survivor.advocate_id) if survivor.advocate_id else None
        if TIERS[tier] == "advocate":
            return [advocate] if advocate is not None and is_available(advocate, now) else []
        if TIERS[tier] == "cover":
            if advocate is None or not advocate.active or advocate.cover_id is None:
                return []  # a deactivated advocate's cases were moved: no cover applies
            cover = await uow.people.staff(advocate.cover_id)
            return [cover] if cover is not None and is_available(cover, now) else []
        if TIERS[tier] == "on_call":
            return await on_call(uow, now, self.office)
        return [s for s in await uow.people.active_staff("admin") if is_available(s, now)]

    async def recipients(
        self, uow: UnitOfWork, survivor: Survivor, upto: int, now: datetime
    ) -> list[Staff]:
        """Everyone in tiers 0..upto, each once."""
        found: dict[int, Staff] = {}
        for tier in range(upto + 1):
            for staff in await self.tier_members(uow, survivor, tier, now):
                found.setdefault(staff.id, staff)
        return list(found.values())

    # -- alerting ---------------------------------------------------------------------------
    async def alert_round(
        self,
        uow: UnitOfWork,
        escalation: Escalation,
        survivor: Survivor,
        now: datetime,
        first: bool,
    ) -> None:
        tier = 0 if first else min(escalation.tier + 1, LAST_TIER)
        while tier < LAST_TIER and not await self.tier_members(uow, survivor, tier, now):
            tier += 1  # an empty tier costs no waiting time
        escalation.tier = tier
        escalation.alerts_sent += 1
        escalation.next_alert_at = now + self.timeout
        told = []
        for staff in await self.recipients(uow, survivor, tier, now):
            if await self._send_alert(uow, escalation, survivor, staff, now):
                told.append(staff.handle)
        uow.audit.record(
            "system",
            "escalation.alerted",
            now,
            survivor_id=survivor.id,
            code=escalation.code,
            tier=TIERS[tier],
            round=escalation.alerts_sent,
            alerted=told,
        )
        if not told:
            log.error(
                "escalation %s: nobody could be alerted; check staff and rota", escalation.code
            )
            uow.audit.record(
                "system", "staff_unreachable", now, survivor_id=survivor.id, code=escalation.code
            )

    async def _send_alert(
        self,
        uow: UnitOfWork,
        escalation: Escalation,
        survivor: Survivor,
        staff: Staff,
        now: datetime,
    ) -> bool:
        identity = await staff_identity(uow, staff)
        if identity is None:
            return False
        lang = staff.language
        reason = self.texts.reason(escalation.reason, lang)
        text = self.texts.text(
            "staff.escalation", lang, case=survivor.case_code, reason=reason, code=escalation.code
        )
        if escalation.alerts_sent > 1:
            text = (
                self.texts.text("staff.escalation_repeat", lang, round=str(escalation.alerts_sent))
                + "\n"
                + text
            )
        button = (f"ack:{escalation.code}", self.texts.text("staff.ack_button", lang))
        uow.outbox.add(
            channel=identity.channel,
            identity_id=identity.id,
            now=now,
            kind="escalation",
            priority=PRIORITY_URGENT,
            survivor_id=survivor.id,
            payload={
                "text": text,
                "choices": [list(button)],
                "case": survivor.case_code,
                "code": escalation.code,
                "reason": escalation.reason,
                "silent": escalation.silent,
                "sensitive": True,
            },
        )
        return True

    # -- acknowledging ----------------------------------------------------------------------
    async def acknowledge(self, uow: UnitOfWork, now: datetime, staff: Staff, code: str) -> str:
        """Returns the staff text key to answer with. An unknown code and someone else's alert
        get the same refusal, audited, so nobody learns which codes are open."""
        escalation, survivor = await self._handled(uow, now, staff, code, "acknowledge")
        if escalation is None or survivor is None:
            return "staff.denied"
        if escalation.status != "open":
            return "staff.ack_unknown"
        escalation.status, escalation.next_alert_at = "acknowledged", None
        escalation.acknowledged_by, escalation.acknowledged_at = staff.id, now
        uow.audit.record(
            f"staff:{staff.handle}",
            "escalation.acknowledged",
            now,
            survivor_id=survivor.id,
            code=escalation.code,
            after_seconds=int((now - escalation.created_at).total_seconds()),
        )
        for other in await self.recipients(uow, survivor, escalation.tier, now):
            if other.id != staff.id:
                await self._tell(
                    uow,
                    now,
                    other,
                    survivor,
                    "staff.acknowledged_by",
                    code=escalation.code,
                    by=staff.handle,
                )
        return "staff.ack_done"

    async def resolve(
        self, uow: UnitOfWork, now: datetime, staff: Staff, code: str, outcome: str
    ) -> str:
        escalation, survivor = await self._handled(uow, now, staff, code, "resolve")
        if escalation is None or survivor is None:
            return "staff.denied"
        if escalation.status == "resolved":
            return "staff.ack_unknown"
        escalation.status, escalation.resolved_at = "resolved", now
        escalation.resolution_enc = uow.cipher.encrypt_text(outcome or "resolved", RESOLUTION)
        escalation.next_alert_at = None
        uow.audit.record(
            f"staff:{staff.handle}",
            "escalation.resolved",
            now,
            survivor_id=survivor.id,
            code=escalation.code,
        )
        return "staff.resolve_done"

    async def _handled(
        self, uow: UnitOfWork, now: datetime, staff: Staff, code: str, attempted: str
    ) -> tuple[Escalation | None, Survivor | None]:
        """The escalation and its survivor if this staff member may handle it; otherwise
        (None, None) after auditing the refusal, whether the code exists or not."""
        stmt = select(Escalation).where(Escalation.code == code.strip().upper()[:8])
        escalation = (await uow.session.execute(stmt)).scalar_one_or_none()
        survivor = await uow.people.survivor(escalation.survivor_id) if escalation else None
        if escalation is not None and survivor is not None:
            if await self._may_handle(uow, escalation, survivor, staff, now):
                return escalation, survivor
        uow.audit.record(
            f"staff:{staff.handle}",
            "access.denied",
            now,
            survivor_id=survivor.id if survivor else None,
            attempted=attempted,
        )
        return None, None

    async def _may_handle(
        self,
        uow: UnitOfWork,
        escalation: Escalation,
        survivor: Survivor,
        staff: Staff,
        now: datetime,
    ) -> bool:
        """The access policy, told who this alert has reached (a resolved alert is open to
        nobody but those the case itself lets act)."""
        still_open = escalation.status != "resolved"
        alerted = await self.recipients(uow, survivor, escalation.tier, now) if still_open else []
        return await case_access(
            uow,
            staff,
            survivor,
            "acknowledge",
            now,
            alerted=frozenset(s.id for s in alerted),
            escalation_open=still_open,
        )

    async def _tell(
        self,
        uow: UnitOfWork,
        now: datetime,
        staff: Staff,
        survivor: Survivor,
        key: str,
        **params: str,
    ) -> None:
        identity = await staff_identity(uow, staff)
        if identity is None:
            return
        text = self.texts.text(key, staff.language, case=survivor.case_code, **params)
        uow.outbox.add(
            channel=identity.channel,
            identity_id=identity.id,
            now=now,
            kind="alert",
            priority=PRIORITY_URGENT,
            survivor_id=survivor.id,
            payload={"text": text, "case": survivor.case_code},
        )


class EscalationTicker:
    """Re-alerts open escalations whose timeout has passed. Safe with several workers: each
    due escalation is claimed by moving its next_alert_at with a compare-and-set."""

    def __init__(self, db: Database, cipher: Cipher, escalations: Escalations) -> None:
        self.db = db
        self.cipher = cipher
        self.escalations = escalations

    async def tick(self, now: datetime) -> datetime | None:
        async with UnitOfWork(self.db, self.cipher) as uow:
            stmt = select(Escalation).where(
                Escalation.status == "open", Escalation.next_alert_at <= now
            )
            for escalation in list((await uow.session.execute(stmt)).scalars()):
                claim = (
                    update(Escalation)
                    .where(
                        Escalation.id == escalation.id,
                        Escalation.next_alert_at == escalation.next_alert_at,
                    )
                    .values(next_alert_at=now + self.escalations.timeout)
                )
                if (await uow.session.execute(claim)).rowcount != 1:  # type: ignore[attr-defined]
                    continue  # another worker took it
                await uow.session.refresh(escalation)
                survivor = await uow.people.survivor(escalation.survivor_id)
                if survivor is not None:
                    await self.escalations.alert_round(uow, escalation, survivor, now, first=False)
        async with UnitOfWork(self.db, self.cipher) as uow:
            stmt2 = select(func.min(Escalation.next_alert_at)).where(Escalation.status == "open")
            due: datetime | None = (await uow.session.execute(stmt2)).scalar_one_or_none()
            return due
