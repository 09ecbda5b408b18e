"""What staff receive about a survivor: urgent alerts, relayed messages and warnings.

Everything is queued in the outbox inside the caller's unit of work. Staff see the case code,
never a name or a number. Escalations go ahead of everything else in the outbox.
"""

from __future__ import annotations

from datetime import datetime

from bot.engine.effects import Escalate, Record
from bot.ports import InboundMessage
from bot.services.staff_routing import PRIORITY_REPLY, PRIORITY_URGENT, notify_staff
from bot.staff_text import StaffTexts
from bot.store.models import Identity, Staff, Survivor
from bot.store.uow import UnitOfWork


class StaffNotices:
    def __init__(self, texts: StaffTexts) -> None:
        self.texts = texts

    async def escalate(
        self, uow: UnitOfWork, now: datetime, survivor: Survivor, escalation: Escalate
    ) -> None:
        """Reach a person first; everything else can wait."""

        def build(staff: Staff) -> str:
            reason = self.texts.reason(escalation.reason, staff.language)
            return self.texts.text(
                "staff.escalation", staff.language, case=survivor.case_code, reason=reason
            )

        notified = await notify_staff(
            uow,
            survivor,
            now,
            kind="escalation",
            build=build,
            priority=PRIORITY_URGENT,
            extra={"reason": escalation.reason, "silent": escalation.silent},
        )
        uow.audit.record(
            "system",
            "escalation.raised",
            now,
            survivor_id=survivor.id,
            reason=escalation.reason,
            silent=escalation.silent,
            alerted=[s.handle for s in notified],
        )

    async def relay(self, uow: UnitOfWork, now: datetime, survivor: Survivor, text: str) -> None:
        def build(staff: Staff) -> str:
            return self.texts.text(
                "staff.relay",
                staff.language,
                case=survivor.case_code,
                language=survivor.language or "?",
                text=text,
            )

        await notify_staff(
            uow,
            survivor,
            now,
            kind="relay",
            build=build,
            priority=PRIORITY_REPLY,
            extra={"original": text, "language": survivor.language or ""},
        )
        uow.audit.record("system", "relay.to_staff", now, survivor_id=survivor.id)

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

    async def staff_message(
        self, uow: UnitOfWork, now: datetime, identity: Identity, inbound: InboundMessage
    ) -> None:
        """A message from a staff member. Advocate commands arrive with the advocate-link work;
        until then staff get a plain answer, and nothing they send reaches a survivor."""
        staff = await uow.people.staff(identity.staff_id or 0)
        language = staff.language if staff else "en"
        uow.outbox.add(
            channel=identity.channel,
            identity_id=identity.id,
            now=now,
            kind="message",
            priority=PRIORITY_REPLY,
            payload={"text": self.texts.text("staff.not_understood", language)},
        )
        uow.audit.record(f"staff:{staff.handle if staff else '?'}", "staff.message", now)
