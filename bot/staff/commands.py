"""What staff can say to Harbour, on any channel: the dispatcher and its table of commands.

    (reply to a relayed message)   Telegram: answers that survivor      bot/messaging/replies.py
    #CODE text                     answers survivor CODE                bot/messaging/replies.py
    /cases /case /away /back /handover   the caseload                   bot/staff/caseload.py
    /wipe CODE, ACK E1234, RESOLVE E1234 [outcome]                      bot/safety/commands.py
    /appt /appts /move /cancel /checkin   appointments and check-ins    bot/care/commands.py

Each capability registers its own commands here at bootstrap (`StaffCommands.register`), so
no command module imports another. Every decision goes through bot.staff.access (deny by
default); a denied attempt gets a neutral answer and an audit event. Staff answers are never
machine-translated.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from bot.engine import Bundle
from bot.engine.text_input import clean_text
from bot.ports import InboundMessage
from bot.staff.access import Action, may_act
from bot.staff.case_access import actor_of, case_access
from bot.staff.routing import PRIORITY_REPLY
from bot.staff.texts import StaffTexts
from bot.store.models import Identity, Staff, Survivor
from bot.store.uow import UnitOfWork

# A handler gets the dispatcher, the request, the words after the command, and the whole
# text after the command word (for commands that take free text).
Handler = Callable[["StaffCommands", "StaffRequest", list[str], str], Awaitable[None]]

REPLY_TO_CASE = "#"  # "#CODE text": answer a survivor
REPLY_TO_MESSAGE = "reply-to"  # a Telegram reply to a relayed message; args = [provider id]
ACK_BUTTON = "ack"  # the Ack button's choice is "ack:E1234"


class StaffCommands:
    def __init__(self, texts: StaffTexts, bundle: Bundle) -> None:
        self.texts = texts
        self.bundle = bundle
        self._table: dict[str, Handler] = {}

    def register(self, name: str, handler: Handler) -> None:
        """Add a command (without its "/"); each name is registered once."""
        if name in self._table:
            raise ValueError(f"staff command registered twice: {name}")
        self._table[name] = handler

    @property
    def names(self) -> frozenset[str]:
        return frozenset(self._table)

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
        first = words[0] if words else ""
        command = first.lower().lstrip("/")
        request = StaffRequest(uow, now, identity, staff, self.texts)
        rest = text[len(first) :].strip()
        if inbound.choice and inbound.choice.startswith("ack:"):
            name, args = ACK_BUTTON, [inbound.choice[4:]]
        elif first.startswith("#") and len(first) > 1:
            name, args = REPLY_TO_CASE, [first[1:]]
        elif inbound.meta.get("reply_to") and not first.startswith("/"):
            name, args, rest = REPLY_TO_MESSAGE, [str(inbound.meta["reply_to"])], text
        else:
            name, args = command, words[1:]
        if not may_act(actor_of(staff, now)):
            # Deactivated: nothing, not even /cases. Only a known command name is audited.
            request.refuse(name if name in self._table else "unknown", None)
            return
        handler = self._table.get(name)
        if handler is None:
            request.say("staff.help")
            return
        await handler(self, request, args, rest)

    async def dispatch(
        self, name: str, request: StaffRequest, args: list[str], rest: str = ""
    ) -> None:
        """Run one command for a request made elsewhere (the web console) through the same
        table and the same access checks as chat."""
        if not may_act(actor_of(request.staff, request.now)):
            request.refuse(name if name in self._table else "unknown", None)
            return
        handler = self._table.get(name)
        if handler is None:
            request.say("staff.help")
            return
        await handler(self, request, args, rest)

    # -- access ---------------------------------------------------------------------------
    async def permitted(self, request: StaffRequest, code: str, action: Action) -> Survivor | None:
        """The survivor with case `code` if this staff member may do `action` on it; otherwise
        None, after the same neutral answer whether the case does not exist or is not theirs."""
        survivor = await request.uow.people.survivor_by_code(code) if code else None
        if survivor is not None and await case_access(
            request.uow, request.staff, survivor, action, request.now
        ):
            return survivor
        request.refuse(action, survivor.id if survivor else None)
        return None


class StaffRequest:
    """One command from a staff member: answers go to them, on the channel they wrote on."""

    def __init__(
        self, uow: UnitOfWork, now: datetime, identity: Identity, staff: Staff, texts: StaffTexts
    ) -> None:
        self.uow, self.now, self.identity, self.staff, self.texts = uow, now, identity, staff, texts
        self.actor = f"staff:{staff.handle}"

    def refuse(self, attempted: str, survivor_id: int | None, **detail: object) -> None:
        """The one neutral refusal, audited: the same whether the case or alert code is
        unknown, not theirs, or they may not act at all."""
        self.uow.audit.record(
            self.actor,
            "access.denied",
            self.now,
            survivor_id=survivor_id,
            attempted=attempted[:32],
            **detail,
        )
        self.say("staff.denied")

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
