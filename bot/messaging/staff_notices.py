"""What staff receive about a survivor: urgent alerts, relayed messages and warnings.

Everything is queued in the outbox inside the caller's unit of work. Staff see the case code,
never a name or a number. Escalations go ahead of everything else in the outbox.
"""

from __future__ import annotations

from datetime import datetime

from bot.engine.effects import Escalate, Record
from bot.privacy.consent import translation_allowed
from bot.safety.escalation import Escalations
from bot.staff.routing import PRIORITY_REPLY, PRIORITY_URGENT, notify_staff
from bot.staff.texts import StaffTexts
from bot.store.models import Staff, Survivor
from bot.store.uow import UnitOfWork


class StaffNotices:
    def __init__(self, texts: StaffTexts, escalations: Escalations) -> None:
        self.texts = texts
        self.escalations = escalations

    async def escalate(
        self, uow: UnitOfWork, now: datetime, survivor: Survivor, escalation: Escalate
    ) -> None:
        """Reach a person first; everything else can wait (see bot/safety/escalation.py)."""
        await self.escalations.raise_(uow, now, survivor, escalation.reason, escalation.silent)

    async def relay(self, uow: UnitOfWork, now: datetime, survivor: Survivor, text: str) -> bool:
        """Queue the survivor's words for their advocate. The row waits as 'preparing' until
        bot.messaging.relay has detected the language and translated it (or given up).
        False: nobody on the staff side can be reached, so nobody will read it yet."""

        def build(staff: Staff) -> str:  # what is sent if preparation never improves on it
            return self.texts.text(
                "staff.relay_untranslated",
                staff.language,
                case=survivor.case_code,
                language=survivor.language or "?",
                original=text,
            )

        translate = await translation_allowed(uow.session, survivor.id)  # consent, read now

        def extra(staff: Staff) -> dict[str, object]:
            return {
                "original": text,
                "language": survivor.language or "",
                "staff_language": staff.language,
                "direction": "to_staff",
                "translate": translate,
            }

        notified = await notify_staff(
            uow,
            survivor,
            now,
            kind="relay",
            build=build,
            priority=PRIORITY_REPLY,
            per_staff=extra,
            status="preparing",
        )
        uow.audit.record("system", "relay.to_staff", now, survivor_id=survivor.id)
        return bool(notified)

    async def new_contact(
        self, uow: UnitOfWork, now: datetime, survivor: Survivor, channel: str
    ) -> None:
        def build(staff: Staff) -> str:
            return self.texts.text(
                "staff.new_contact", staff.language, case=survivor.case_code, channel=channel
            )

        await notify_staff(uow, survivor, now, kind="alert", build=build)

    async def contact_loss(
        self,
        uow: UnitOfWork,
        now: datetime,
        survivor: Survivor,
        reason: str,
        channel: str,
        error: str = "",
    ) -> None:
        """Going quiet is a risk signal, never a mere opt-out: tell the advocate."""

        def build(staff: Staff) -> str:
            words = self.texts.reason(reason, staff.language, channel=channel, error=error)
            return self.texts.text(
                "staff.contact_loss", staff.language, case=survivor.case_code, reason=words
            )

        await notify_staff(
            uow,
            survivor,
            now,
            kind="alert",
            build=build,
            priority=PRIORITY_URGENT,
            extra={"reason": reason},
        )
        uow.audit.record(
            "system",
            "contact_loss.signal",
            now,
            survivor_id=survivor.id,
            reason=reason,
            channel=channel,
        )

    async def record(
        self, uow: UnitOfWork, now: datetime, survivor: Survivor, record: Record
    ) -> None:
        """Requests staff must act on (such as erasure) are passed on, without content."""
        key = f"staff.what.{record.kind}"
        if key not in self.texts.keys():
            return

        def build(staff: Staff) -> str:
            what = self.texts.text(key, staff.language)
            return self.texts.text(
                "staff.record", staff.language, case=survivor.case_code, what=what
            )

        await notify_staff(uow, survivor, now, kind="alert", build=build)
