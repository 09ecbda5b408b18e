"""What staff can say to Harbour, on any channel.

    (reply to a relayed message)   Telegram: answers that survivor
    #CODE text                     answers survivor CODE (SMS, or anywhere)
    /cases                         my caseload and the cases I cover
    /case CODE                     recent history of a case (audited)
    /away [YYYY-MM-DD] [cover]     I am away (until a date, with a named cover)
    /back                          I am back
    /handover CODE TO              hand a case to another advocate
    /wipe CODE                     the survivor's phone is lost: delete the bot's chat on it
    ACK E1234 (or the Ack button)  I have this urgent alert; stop chasing
    RESOLVE E1234 [outcome]        the urgent situation is dealt with
    /appt /appts /move /cancel /checkin   appointments and check-ins (appointment_commands.py)

Every decision goes through bot.services.access (deny by default); a denied attempt gets a
neutral answer and an audit event. Staff answers are never machine-translated.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.engine import Bundle
from bot.ports import InboundMessage
from bot.services.access import Action, Actor, Case, allowed
from bot.services.appointment_commands import COMMANDS as APPOINTMENT_COMMANDS
from bot.services.appointment_commands import AppointmentCommands
from bot.services.consent import translation_allowed
from bot.services.escalation import Escalations
from bot.services.staff_routing import PRIORITY_REPLY, is_available
from bot.services.telegram_safety import wipe_survivor_chat
from bot.services.text_input import clean_text
from bot.staff_text import StaffTexts
from bot.store.escalation_models import Escalation
from bot.store.models import Identity, Message, OutboxItem, Staff, Survivor
from bot.store.uow import UnitOfWork

HISTORY_LINES = 12


class StaffCommands:
    def __init__(self, texts: StaffTexts, bundle: Bundle, escalations: Escalations) -> None:
        self.texts = texts
        self.bundle = bundle
        self.escalations = escalations
        self.appointments: AppointmentCommands | None = None  # set by bot/bootstrap.py

    async def handle(
        self,
        uow: UnitOfWork,
        now: datetime,
        identity: Identity,
        staff: Staff,
        inbound: InboundMessage,
    ) -> None:
        text = clean_text(inbound.text)
        words = text.split()
        command = words[0].lower() if words else ""
        reply = _Reply(uow, now, identity, staff, self.texts)
        if inbound.choice and inbound.choice.startswith("ack:"):  # the Ack button
            reply.say(await self.escalations.acknowledge(uow, now, staff, inbound.choice[4:]))
        elif command == "ack" and len(words) == 2:
            reply.say(await self.escalations.acknowledge(uow, now, staff, words[1]))
        elif command == "resolve" and len(words) >= 2:
            outcome = " ".join(words[2:])
            reply.say(await self.escalations.resolve(uow, now, staff, words[1], outcome))
        elif command.startswith("#") and len(command) > 1:
            await self._answer(reply, command[1:], text[len(words[0]) :].strip())
        elif inbound.meta.get("reply_to") and not command.startswith("/"):
            survivor = await self._replied_case(uow, identity, str(inbound.meta["reply_to"]))
            await self._answer(reply, survivor.case_code if survivor else "", text)
        elif command == "/cases":
            await self._cases(reply)
        elif command == "/case" and len(words) == 2:
            await self._case(reply, words[1])
        elif command == "/away":
            await self._away(reply, words[1:])
        elif command == "/back":
            staff.away_until = None
            uow.audit.record(f"staff:{staff.handle}", "staff.back", now)
            reply.say("staff.back_done")
        elif command == "/handover" and len(words) == 3:
            await self._handover(reply, words[1], words[2])
        elif command == "/wipe" and len(words) == 2:  # the survivor's phone is lost or taken
            survivor = await self._permitted(reply, words[1], "wipe")
            if survivor is not None:
                await wipe_survivor_chat(uow, now, survivor, staff, self.texts)
        elif self.appointments is not None and command.lstrip("/") in APPOINTMENT_COMMANDS:
            await self.appointments.handle(self, reply, command.lstrip("/"), words[1:])
        else:
            reply.say("staff.help")

    # -- access ---------------------------------------------------------------------------
    async def case_view(self, uow: UnitOfWork, survivor: Survivor, now: datetime) -> Case:
        advocate = await uow.people.staff(survivor.advocate_id) if survivor.advocate_id else None
        raised = await uow.session.execute(
            select(Escalation.id).where(
                Escalation.survivor_id == survivor.id,
                Escalation.status.in_(("open", "acknowledged")),
            )
        )
        return Case(
            advocate_id=survivor.advocate_id,
            advocate_away=advocate is not None and not is_available(advocate, now),
            cover_id=advocate.cover_id if advocate else None,
            escalation_open=raised.first() is not None,
        )

    async def _permitted(self, reply: _Reply, code: str, action: Action) -> Survivor | None:
        survivor = await reply.uow.people.survivor_by_code(code) if code else None
        actor = Actor(reply.staff.id, reply.staff.role, reply.staff.active)
        if survivor is not None:
            case = await self.case_view(reply.uow, survivor, reply.now)
            if allowed(actor, action, case):
                return survivor
        # The same answer whether the case does not exist or is not theirs.
        reply.uow.audit.record(
            reply.actor,
            "access.denied",
            reply.now,
            survivor_id=survivor.id if survivor else None,
            attempted=action,
        )
        reply.say("staff.denied")
        return None

    # -- commands -------------------------------------------------------------------------
    async def _answer(self, reply: _Reply, code: str, text: str) -> None:
        if not text:
            reply.say("staff.help")
            return
        survivor = await self._permitted(reply, code, "reply")
        if survivor is None:
            return
        target = await _survivor_identity(reply.uow, survivor)
        if target is None:
            reply.say("staff.unreachable", case=survivor.case_code)
            return
        reply.uow.outbox.add(
            channel=target.channel,
            identity_id=target.id,
            now=reply.now,
            kind="reply",
            priority=PRIORITY_REPLY,
            survivor_id=survivor.id,
            status="preparing",
            payload={
                "direction": "to_survivor",
                "text": text,
                "original": text,
                "staff_language": reply.staff.language,
                "survivor_language": survivor.language or "en",
                "case": survivor.case_code,
                "translate": await translation_allowed(reply.uow.session, survivor.id),
            },
        )
        reply.uow.messages.add(
            survivor_id=survivor.id,
            direction="out",
            channel=target.channel,
            body=text,
            now=reply.now,
        )
        reply.uow.audit.record(reply.actor, "relay.to_survivor", reply.now, survivor_id=survivor.id)
        reply.say("staff.reply_queued", case=survivor.case_code)

    async def _replied_case(
        self, uow: UnitOfWork, identity: Identity, provider_id: str
    ) -> Survivor | None:
        stmt = select(OutboxItem.survivor_id).where(
            OutboxItem.identity_id == identity.id, OutboxItem.provider_id == provider_id
        )
        survivor_id = (await uow.session.execute(stmt)).scalar_one_or_none()
        return await uow.people.survivor(survivor_id) if survivor_id else None

    async def _cases(self, reply: _Reply) -> None:
        uow, staff = reply.uow, reply.staff
        covered = [s.id for s in await uow.people.staff_covered_by(staff.id, reply.now)]
        survivors = await uow.people.caseload([staff.id, *covered])
        lines = []
        for survivor in survivors:
            seen = _ago(survivor.last_inbound_at, reply.now)
            mine = "" if survivor.advocate_id == staff.id else " (cover)"
            language = survivor.language or "?"
            lines.append(f"{survivor.case_code} · {language} · {survivor.status} · {seen}{mine}")
        reply.uow.audit.record(reply.actor, "case.list", reply.now, count=len(lines))
        reply.say("staff.cases", count=str(len(lines)), lines="\n".join(lines) or "—")

    async def _case(self, reply: _Reply, code: str) -> None:
        survivor = await self._permitted(reply, code, "read_case")
        if survivor is None:
            return
        history = await reply.uow.messages.recent(survivor.id, limit=HISTORY_LINES)
        lines = [
            f"{m.created_at:%d %b %H:%M} {'→' if m.direction == 'out' else '←'} {body}"
            for m, body in history
        ]
        reply.uow.audit.record(reply.actor, "case.read", reply.now, survivor_id=survivor.id)
        reply.say(
            "staff.case", case=survivor.case_code, lines="\n".join(lines) or "—", sensitive=True
        )

    async def _away(self, reply: _Reply, args: list[str]) -> None:
        staff, until = reply.staff, datetime.max.replace(tzinfo=UTC)
        cover: Staff | None = None
        for arg in args:
            try:
                until = datetime.strptime(arg, "%Y-%m-%d").replace(tzinfo=UTC) + timedelta(days=1)
                continue
            except ValueError:
                pass
            cover = await reply.uow.people.staff_by_handle(arg)
            if cover is None or not cover.active or cover.id == staff.id:
                reply.say("staff.no_such_colleague")
                return
        staff.away_until = until
        if cover is not None:
            staff.cover_id = cover.id
        reply.uow.audit.record(
            reply.actor, "staff.away", reply.now, cover=cover.handle if cover else None
        )
        reply.say("staff.away_done")

    async def _handover(self, reply: _Reply, code: str, to_handle: str) -> None:
        survivor = await self._permitted(reply, code, "handover")
        if survivor is None:
            return
        new = await reply.uow.people.staff_by_handle(to_handle)
        if new is None or new.role != "advocate" or not new.active:
            reply.say("staff.no_such_colleague")
            return
        await hand_over(reply.uow, reply.now, survivor, new, reply.actor, self.bundle)
        reply.say("staff.handover_done", case=survivor.case_code, to=new.handle)


async def hand_over(
    uow: UnitOfWork, now: datetime, survivor: Survivor, new: Staff, actor: str, bundle: Bundle
) -> None:
    """Give the case to `new` and send the survivor a warm introduction in their language."""
    from bot.engine import render
    from bot.engine.effects import Say

    old = survivor.advocate_id
    survivor.advocate_id = new.id
    uow.audit.record(
        actor, "case.handover", now, survivor_id=survivor.id, to=new.handle, from_staff=old
    )
    target = await _survivor_identity(uow, survivor)
    if target is None:
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


async def _survivor_identity(uow: UnitOfWork, survivor: Survivor) -> Identity | None:
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


def _ago(when: datetime | None, now: datetime) -> str:
    if when is None:
        return "no messages yet"
    hours = int((now - when).total_seconds() // 3600)
    return f"{hours // 24}d ago" if hours >= 48 else f"{hours}h ago"


class _Reply:
    """Answers to the staff member who wrote, on the channel they wrote on."""

    def __init__(
        self, uow: UnitOfWork, now: datetime, identity: Identity, staff: Staff, texts: StaffTexts
    ) -> None:
        self.uow, self.now, self.identity, self.staff, self.texts = uow, now, identity, staff, texts
        self.actor = f"staff:{staff.handle}"

    def say(self, key: str, sensitive: bool = False, **params: str) -> None:
        text = self.texts.text(key, self.staff.language, **params)
        self.uow.outbox.add(
            channel=self.identity.channel,
            identity_id=self.identity.id,
            now=self.now,
            kind="message",
            priority=PRIORITY_REPLY,
            payload={"text": text, "sensitive": sensitive},
        )
