"""The conversation service: one stored inbound message in, its effects out, in one transaction.

    stored inbox row -> claim -> who is it? -> engine.handle -> outbox rows, profile changes,
    staff notices, audit events -> inbox row marked processed -> commit

If anything fails the whole unit rolls back and the inbox row stays unprocessed, so it is
tried again: nothing is lost and nothing is half done.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from bot.engine import Bundle, Engine, render
from bot.engine.effects import ChannelState, Effect, Enrol, Escalate, Record, Relay, Say, SetProfile
from bot.engine.events import Context, Event, SystemEvent, UserInput
from bot.engine.text_input import clean_text
from bot.messaging import flood, profile, telegram_turns
from bot.messaging.staff_notices import StaffNotices
from bot.messaging.turn import RecordHook, Turn
from bot.ports import Channel, Clock, InboundMessage
from bot.privacy import consent
from bot.privacy.erasure import erase
from bot.staff.commands import StaffCommands
from bot.staff.routing import PRIORITY_REPLY, PRIORITY_URGENT
from bot.store.crypto import Cipher
from bot.store.database import Database
from bot.store.models import Identity, OutboxItem, Survivor
from bot.store.uow import UnitOfWork

log = logging.getLogger(__name__)

MAX_FOLLOW_UPS = 5  # enrol_ok/enrol_failed round trips in one message; guards against a loop
ERASURE_REQUESTED = "erasure_requested"  # flows/settings.yaml, after the survivor confirms
PASSED_ON, UNHEARD = "advocate.sent", "advocate.unheard"
SETTINGS_PREFIX = "settings."  # texts that may show the current value of a setting


class ConversationService:
    def __init__(
        self,
        db: Database,
        cipher: Cipher,
        bundle: Bundle,
        channels: Mapping[str, Channel],
        staff: StaffNotices,
        commands: StaffCommands,
        clock: Clock,
    ) -> None:
        self.db = db
        self.cipher = cipher
        self.bundle = bundle
        self.engine = Engine(bundle)
        self.channels = channels
        self.staff = staff
        self.commands = commands
        self.clock = clock
        self.record_hooks: list[RecordHook] = []  # appointments and check-ins add theirs

    def unit_of_work(self) -> UnitOfWork:
        return UnitOfWork(self.db, self.cipher)

    async def store(self, channel: str, provider_id: str, payload: Mapping[str, Any]) -> int | None:
        """Store a raw payload durably. Returns its inbox id, or None for a duplicate delivery."""
        async with self.unit_of_work() as uow:
            return await uow.inbox.store(channel, provider_id, payload, self.clock.now())

    async def store_many(
        self, rows: Sequence[tuple[str, str, Mapping[str, Any]]]
    ) -> list[int | None]:
        """Store several raw payloads in one transaction (`Inbox.store_many`)."""
        async with self.unit_of_work() as uow:
            return await uow.inbox.store_many(rows, self.clock.now())

    async def process(self, inbox_id: int) -> bool:
        """Process one stored message. False if it was already processed (here or elsewhere)."""
        done, _rest = await self.process_many([inbox_id])
        return done == 1

    async def process_many(self, inbox_ids: Sequence[int]) -> tuple[int, list[int]]:
        """Process stored messages in id order, all in one transaction: either every one of
        them and all their effects are committed, or nothing is. Returns how many were
        processed here, and the ids left for another transaction (after a turn that cleared
        the session, as erasure does). Raises if any turn fails: the caller then retries
        them one by one."""
        async with self.unit_of_work() as uow:
            now = self.clock.now()
            items = await uow.inbox.claim_many(inbox_ids, now)
            turns: list[tuple[int, Channel, InboundMessage | None]] = []
            for item in items:
                channel = self.channels.get(item.channel)
                if channel is None:
                    raise LookupError(f"no adapter for channel {item.channel!r}")
                turns.append((item.id, channel, channel.parse(uow.inbox.payload(item))))
            if len(turns) > 1:
                senders = {(t[1].name, t[2].address) for t in turns if t[2] is not None}
                await self._read_ahead(uow, now, senders)
            sentinel = items[0] if items else None
            for done, (inbox_id, channel, inbound) in enumerate(turns, start=1):
                # A group chat's message is ignored: only its dedupe key is kept. (Something
                # else unparsed stays until retention: /wipe may need its message id.)
                if inbound is not None and not await self._handle(
                    uow, now, channel, inbound, inbox_id
                ):
                    await uow.inbox.forget_payloads([inbox_id])
                if done < len(turns) and sentinel not in uow.session:
                    # The session was emptied (an erasure): what it held is written and
                    # nothing loaded before can be trusted. The rest go in a new transaction.
                    rest = [t[0] for t in turns[done:]]
                    await uow.inbox.unclaim(rest)
                    return done, rest
            return len(turns), []

    async def _read_ahead(
        self, uow: UnitOfWork, now: datetime, senders: set[tuple[str, str]]
    ) -> None:
        """Load with a few queries what the turns of a batch will look up one by one: the
        senders' identities and survivors, their conversation states and flood counts."""
        survivor_ids = await uow.people.preload_identities(senders)
        await uow.conversations.preload(survivor_ids)
        since = now - flood.FLOOD_WINDOW
        await uow.messages.count_inbound(survivor_ids, since)
        # Those already flooding: one query for them all (others are looked up if they cross).
        over = [
            s
            for s in survivor_ids
            if (uow.messages.inbound_since(s, since) or 0) >= flood.FLOOD_LIMIT
        ]
        await flood.look_up_notices(uow, over, now)

    async def _flooding(self, uow: UnitOfWork, survivor_id: int, now: datetime) -> bool:
        """flood.over_limit, from the batch's counts when it has them."""
        counted = uow.messages.inbound_since(survivor_id, now - flood.FLOOD_WINDOW)
        if counted is None:
            return await flood.over_limit(uow, survivor_id, now)
        return counted >= flood.FLOOD_LIMIT

    async def _handle(
        self,
        uow: UnitOfWork,
        now: datetime,
        channel: Channel,
        inbound: InboundMessage,
        inbox_id: int,
    ) -> bool:
        """Carry out one message's turn. False: ignored (a group chat that is not a
        registered staff group gets no reply and no intake)."""
        if inbound.meta.get("ignore"):
            return False  # a group's service message: nothing for anyone
        identity = await uow.people.identity(channel.name, inbound.address)
        if identity is not None and identity.staff_id is not None:
            if identity.status != "active":  # they wrote from it: a failed address works again
                identity.status = "active"
            staff = await uow.people.staff(identity.staff_id)
            if staff is not None:
                await self.commands.handle(uow, now, identity, staff, inbound)
            return True
        if inbound.meta.get("group"):
            return False
        if identity is None:
            identity, survivor = await profile.intake(uow, now, channel, inbound, self.staff)
        else:
            found = await uow.people.survivor(identity.survivor_id or 0)
            if found is None:  # identity of an erased survivor: treat as a brand-new contact
                identity, survivor = await profile.intake(uow, now, channel, inbound, self.staff)
            else:
                survivor = found
        text = clean_text(inbound.text)
        survivor.last_inbound_at = now
        if identity.status == "opted_out" and inbound.meta.get("resubscribed"):
            # The provider lets messages through again (SMS: the carrier's START), even if
            # the opt-out reached us only as a failed send and never as a STOP.
            identity.status = "active"
        if survivor.status == "paused":
            survivor.status = "active"  # writing again ends a pause
            await uow.outbox.release_held(survivor.id, now)
        turn = Turn(uow, now, channel, identity, survivor, inbox_id)
        if inbound.kind != "text" and await telegram_turns.media_or_clear(
            turn, inbound, text, self.bundle, self.staff, self._say
        ):
            return True
        flooding = await self._flooding(uow, survivor.id, now)  # counted before this one
        event: Event = UserInput(text=text, choice=inbound.choice)
        state: dict[str, Any] | None = await uow.conversations.load(survivor.id)
        outcome = self.engine.handle(state, event, self._context(turn))
        navigation = flood.is_navigation(outcome.effects, inbound.choice is not None)
        uow.messages.add(
            survivor_id=survivor.id,
            direction="in",
            channel=channel.name,
            body=text,
            now=now,
            inbox_id=inbox_id,
            navigation=navigation,
        )
        for step in range(MAX_FOLLOW_UPS):
            if step:
                outcome = self.engine.handle(state, event, self._context(turn))
            state = outcome.state
            effects, held = flood.hold_back(outcome.effects, flooding and not navigation)
            if held and await flood.tell_once(uow, now, turn.survivor, self.staff.texts):
                self._say(turn, Say(flood.NOTICE))  # once a window: never silence
            follow_up = await self._apply(turn, effects)
            if follow_up is None:
                break
            event = follow_up
        if state is not None:
            await uow.conversations.save(turn.survivor.id, state, now)
        if turn.erase_requested:
            await self._erase_now(turn)
        return True

    async def _erase_now(self, turn: Turn) -> None:
        """The survivor confirmed "delete my data": everything goes now, in this transaction.
        Only the farewell is kept, on a detached identity, until it has been sent."""
        style = getattr(turn.channel, "render_as", turn.channel.name)
        language = turn.survivor.language or "en"
        farewell = render(self.bundle, Say("settings.delete_done"), language, style).text
        await erase(
            turn.uow,
            turn.now,
            turn.survivor,
            actor="survivor",
            texts=self.staff.texts,
            keep_identity=turn.identity,
            farewell=farewell,
        )

    def _context(self, turn: Turn) -> Context:
        duress = None
        if turn.survivor.duress_word_enc:
            duress = self.cipher.decrypt_text(turn.survivor.duress_word_enc, profile.DURESS)
        return Context(
            channel=turn.channel.name,
            language=turn.survivor.language,
            enrolled=turn.survivor.advocate_id is not None,
            duress_word=duress,
        )

    async def _apply(self, turn: Turn, effects: list[Effect]) -> Event | None:
        """Carry out the effects in order. Channel state changes go last, so the reply to STOP
        is still sent. Returns a follow-up event for the engine, if any."""
        follow_up: Event | None = None
        channel_changes: list[ChannelState] = []
        for effect in effects:
            match effect:
                case Say():
                    self._say(turn, effect)
                case Escalate():
                    await self.staff.escalate(turn.uow, turn.now, turn.survivor, effect)
                case Relay():
                    heard = await self.staff.relay(turn.uow, turn.now, turn.survivor, effect.text)
                    turn.unheard |= not heard
                case SetProfile():
                    profile.set_profile(turn, effect, self.cipher)
                case Enrol():
                    follow_up = await profile.enrol(turn, effect.code)
                case ChannelState() if effect.status == "active":
                    # START: the channel is on again before its "welcome back" is said.
                    await profile.change_channel_state(turn, effect.status, self.staff)
                case ChannelState():
                    channel_changes.append(effect)
                case Record():
                    turn.uow.audit.record(
                        "survivor",
                        f"survivor.{effect.kind}",
                        turn.now,
                        survivor_id=turn.survivor.id,
                        value=effect.value[:64],
                    )
                    await self.staff.record(turn.uow, turn.now, turn.survivor, effect)
                    await consent.on_record(
                        turn.uow, turn.now, turn.survivor, effect, self.staff.texts
                    )
                    turn.erase_requested |= effect.kind == ERASURE_REQUESTED
                    for hook in self.record_hooks:
                        answer = await hook(turn.uow, turn.now, turn.survivor, effect)
                        if answer is not None:
                            self._say(turn, answer)
        for change in channel_changes:
            await profile.change_channel_state(turn, change.status, self.staff)
        return follow_up

    def _say(self, turn: Turn, say: Say, priority: int | None = None) -> None:
        """Queue a reply to the survivor (`_say_row` when the caller needs the outbox row)."""
        self._say_row(turn, say, priority, need_row=False)

    def _say_row(
        self, turn: Turn, say: Say, priority: int | None, *, need_row: bool = True
    ) -> OutboxItem | None:
        if turn.identity.status != "active" and not say.urgent:
            return None  # stopped: only urgent safety information still goes out
        if say.key == PASSED_ON and turn.unheard:
            say = Say(UNHEARD)  # "passed on" only when a reachable person will read it
        language = turn.survivor.language or "en"
        style = getattr(turn.channel, "render_as", turn.channel.name)  # buttons or numbered
        if say.key.startswith(SETTINGS_PREFIX):  # "Discreet mode is {discreet}."
            now = profile.current_settings(turn.survivor, self.bundle.catalogue, language)
            say = dataclasses.replace(say, params={**now, **say.params})
        rendered = render(self.bundle, say, language, style)
        payload = {
            "text": rendered.text,
            "choices": [list(choice) for choice in rendered.choices],
            "sensitive": say.sensitive,
            "key": say.key,
        }
        if priority is None:
            priority = PRIORITY_URGENT if say.urgent else PRIORITY_REPLY
        add = turn.uow.outbox.add if need_row else turn.uow.outbox.queue
        item = add(
            channel=turn.channel.name,
            identity_id=turn.identity.id,
            payload=payload,
            now=turn.now,
            kind="message",
            priority=priority,
            survivor_id=turn.survivor.id,
        )
        turn.uow.messages.add(
            survivor_id=turn.survivor.id,
            direction="out",
            channel=turn.channel.name,
            body=rendered.text,
            now=turn.now,
        )
        return item

    # -- system-triggered turns: a reminder or a check-in (bot/care/reminders.py) ---------
    async def system_turn(
        self,
        uow: UnitOfWork,
        now: datetime,
        survivor: Survivor,
        identity: Identity,
        event: SystemEvent,
        priority: int,
    ) -> list[OutboxItem]:
        """Deliver a SystemEvent to the survivor's conversation as one more turn, in the
        caller's unit of work. The engine moves to the flow that answers it (and returns to
        where the survivor was afterwards); the event's data fills the {placeholders} of what
        it says, queued on `identity` at `priority`. Returns the queued rows."""
        channel = self.channels[identity.channel]
        turn = Turn(uow, now, channel, identity, survivor, inbox_id=0)
        state = await uow.conversations.load(survivor.id)
        outcome = self.engine.handle(state, event, self._context(turn))
        data = dict(event.data)
        queued: list[OutboxItem] = []
        others: list[Effect] = []
        for effect in outcome.effects:
            if isinstance(effect, Say):
                filled = Say(effect.key, {**effect.params, **data}, effect.choices,
                             effect.sensitive, effect.urgent)  # fmt: skip
                item = self._say_row(turn, filled, priority)
                if item is not None:
                    queued.append(item)
            else:
                others.append(effect)
        await self._apply(turn, others)
        await uow.conversations.save(survivor.id, outcome.state, now)
        return queued  # ids are given at the caller's next flush
