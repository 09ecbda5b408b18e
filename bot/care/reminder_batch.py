"""The survivor-facing side of one batch of reminders, done in a handful of statements.

A reminder is one more turn of the survivor's conversation (a "reminder" SystemEvent: the
engine moves to the reminder and remembers where the survivor was), exactly what
ConversationService.system_turn does, but for a whole batch at once:
- the survivors' identities, last inbound channels and conversation states are read in three
  queries (the states locked on PostgreSQL, as a single turn locks its own);
- the engine is pure, so its outcome depends only on the stored state and the context: it
  runs once for each distinct (state, context) in the batch, and the survivors who are in the
  same place share it (most are: at the menu, or at an earlier reminder);
- the text is rendered in the survivor's language for the channel they are reached on;
- the outbox rows, their history rows, the audit rows and the new states are written with one
  statement each when the batch ends, in the ticker's transaction (so a crash undoes them
  together with the claim).
A reminder whose turn does more than speak (a flow that records or escalates on entry) is
handed to ConversationService.system_turn whole, so such a flow still works, at its own cost.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.care.appointments import choose_identity
from bot.engine import render
from bot.engine.effects import Say
from bot.engine.events import Context, SystemEvent
from bot.staff.routing import PRIORITY_BACKGROUND
from bot.store import batch as rows
from bot.store.appointments import BatchSurvivor, DueJob
from bot.store.batch import IdentityRow
from bot.store.models import Identity, OutboxItem, Survivor
from bot.store.queues import OUTBOX_PAYLOAD
from bot.store.records import BODY, STATE
from bot.store.uow import UnitOfWork

if TYPE_CHECKING:
    from bot.messaging.conversation import ConversationService

DURESS = "survivor.duress_word"  # as bot/messaging/conversation.py encrypts it
REMINDER = SystemEvent("reminder")  # the engine reads the name only; the data fills the text


@dataclass(frozen=True)
class Spoken:
    """The engine's answer to a reminder from one (state, context): the new state and what
    it says. `speech_only` is False when it also does something else (see the docstring)."""

    state: str
    says: tuple[Say, ...]
    speech_only: bool


@dataclass
class _Pending:
    """Rows waiting for the end of the batch, and the jobs that get the first outbox id."""

    outbox: list[dict[str, Any]] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)
    audit: list[dict[str, Any]] = field(default_factory=list)
    owners: list[DueJob | None] = field(default_factory=list)  # per outbox row
    whole_turns: list[tuple[DueJob, OutboxItem]] = field(default_factory=list)  # ORM rows
    dirty: set[int] = field(default_factory=set)  # survivors whose state changed


class ReminderBatch:
    def __init__(self, uow: UnitOfWork, conversations: ConversationService, now: datetime) -> None:
        self.uow = uow
        self.conversations = conversations
        self.cipher = uow.outbox.cipher
        self.now = now
        self._identities: dict[int, list[IdentityRow]] = {}
        self._last_channel: dict[int, str] = {}
        self._blobs: dict[int, bytes] = {}  # stored states, decrypted on first use
        self._stored: set[int] = set()  # survivors with a conversations row
        self._created: set[int] = set()  # rows this batch created, not yet written
        self._states: dict[int, str | None] = {}  # current state (JSON) of survivors in use
        self._whole_turns: set[int] = set()  # survivors handed to system_turn this batch
        self._spoken: dict[tuple[str | None, Context], Spoken] = {}
        self._pending = _Pending()

    async def prepare(self, survivor_ids: set[int]) -> None:
        """Read what the batch's reminders need, in three queries."""
        session = self.uow.session
        self._identities = await rows.identities_of(session, survivor_ids)
        self._last_channel = await rows.last_inbound_channels(session, survivor_ids)
        self._blobs = await rows.conversation_blobs(session, survivor_ids)
        self._stored = set(self._blobs)

    def identity(self, survivor: BatchSurvivor) -> IdentityRow | None:
        """Where the reminder goes (the rule of bot.care.appointments.reachable_identity)."""
        found = self._identities.get(survivor.id, [])
        return choose_identity(
            found, self._last_channel.get(survivor.id), survivor.allowed_channels
        )

    async def remind(
        self, job: DueJob, survivor: BatchSurvivor, identity: IdentityRow, data: dict[str, str]
    ) -> bool:
        """Move the conversation to the reminder and queue what it says, filled with `data`.
        False when nothing is said (the survivor sent STOP)."""
        if survivor.id in self._whole_turns:
            return await self._whole_turn(job, survivor, identity, data)
        channel = self.conversations.channels[identity.channel]
        spoken = await self._speak(survivor, channel.name)
        if not spoken.speech_only:
            await self._save_state(survivor.id)
            self._whole_turns.add(survivor.id)
            return await self._whole_turn(job, survivor, identity, data)
        self._states[survivor.id] = spoken.state
        self._pending.dirty.add(survivor.id)
        language = survivor.language or "en"
        style = getattr(channel, "render_as", channel.name)  # buttons or numbered choices
        said = False
        for say in spoken.says:
            if identity.status != "active" and not say.urgent:
                continue  # as ConversationService._say: a stopped channel gets urgent text only
            filled = Say(say.key, {**say.params, **data}, say.choices, say.sensitive, say.urgent)
            self._queue(job if not said else None, survivor, identity, filled, language, style)
            said = True
        return said

    def audit(self, action: str, survivor_id: int, **detail: object) -> None:
        self._pending.audit.append(
            {"at": self.now, "actor": "system", "action": action, "survivor_id": survivor_id,
             "detail": detail}
        )  # fmt: skip

    async def write(self) -> None:
        """Write everything queued so far; the jobs learn their outbox ids."""
        pending, self._pending = self._pending, _Pending()
        session = self.uow.session
        ids = await rows.insert_outbox(session, pending.outbox)
        for owner, outbox_id in zip(pending.owners, ids, strict=True):
            if owner is not None:
                owner.outbox_id = outbox_id
        await rows.insert_messages(session, pending.messages)
        await rows.insert_audit(session, pending.audit)
        blobs = {sid: self._seal(sid) for sid in pending.dirty if sid not in self._whole_turns}
        await rows.save_conversations(session, blobs, self._stored, self.now)
        self._stored |= blobs.keys()
        self._created.clear()  # written: a later failure's savepoint no longer undoes them
        if pending.whole_turns:
            await session.flush()  # whole turns: their ORM rows get ids now
            for job, item in pending.whole_turns:
                job.outbox_id = item.id

    def forget(self, survivor_id: int) -> None:
        """Drop what is queued and known of a survivor after a failed job (careful mode): the
        savepoint rolled its rows back, so the state is read again on next use."""
        self._pending = _Pending()
        self._states.pop(survivor_id, None)
        if survivor_id in self._created:  # the rollback took the new row away again
            self._created.discard(survivor_id)
            self._stored.discard(survivor_id)
            self._blobs.pop(survivor_id, None)

    # -- inside ------------------------------------------------------------------------------
    async def _state(self, survivor_id: int) -> str | None:
        """The survivor's current state, as JSON (None: a conversation not begun)."""
        if survivor_id not in self._states:
            blob = self._blobs.get(survivor_id)
            if blob is None:
                # No row when the batch began: create and lock it now (a placeholder this
                # batch overwrites), so another batch meeting the survivor waits for this one.
                placeholder = self.cipher.encrypt_text("null", STATE)
                session = self.uow.session
                blob = await rows.lock_new_conversation(session, survivor_id, placeholder, self.now)
                self._blobs[survivor_id] = blob
                self._stored.add(survivor_id)
                self._created.add(survivor_id)
            state = self.cipher.decrypt_text(blob, STATE)
            self._states[survivor_id] = None if state == "null" else state
        return self._states[survivor_id]

    async def _speak(self, survivor: BatchSurvivor, channel: str) -> Spoken:
        duress = None
        if survivor.duress_word_enc:
            duress = self.cipher.decrypt_text(survivor.duress_word_enc, DURESS)
        ctx = Context(
            channel=channel,
            language=survivor.language,
            enrolled=survivor.advocate_id is not None,
            duress_word=duress,
        )
        state = await self._state(survivor.id)
        key = (state, ctx)
        if key not in self._spoken:
            loaded = json.loads(state) if state else None
            outcome = self.conversations.engine.handle(loaded, REMINDER, ctx)
            says = tuple(e for e in outcome.effects if isinstance(e, Say))
            self._spoken[key] = Spoken(
                json.dumps(outcome.state, separators=(",", ":")),
                says,
                speech_only=len(says) == len(outcome.effects),
            )
        return self._spoken[key]

    def _queue(
        self,
        job: DueJob | None,
        survivor: BatchSurvivor,
        identity: IdentityRow,
        say: Say,
        language: str,
        style: str,
    ) -> None:
        rendered = render(self.conversations.bundle, say, language, style)
        payload = {
            "text": rendered.text,
            "choices": [list(choice) for choice in rendered.choices],
            "sensitive": say.sensitive,
            "key": say.key,
        }
        self._pending.outbox.append(
            {
                "channel": identity.channel, "identity_id": identity.id,
                "survivor_id": survivor.id, "kind": "message", "priority": PRIORITY_BACKGROUND,
                "payload_enc": self.cipher.encrypt_text(json.dumps(payload), OUTBOX_PAYLOAD),
                "status": "pending", "attempts": 0, "next_attempt_at": self.now,
                "created_at": self.now,
            }
        )  # fmt: skip
        self._pending.owners.append(job)
        self._pending.messages.append(
            {
                "survivor_id": survivor.id, "direction": "out", "channel": identity.channel,
                "body_enc": self.cipher.encrypt_text(rendered.text, BODY), "created_at": self.now,
            }
        )  # fmt: skip

    def _seal(self, survivor_id: int) -> bytes:
        state = self._states[survivor_id]
        assert state is not None  # dirty states were set by the engine
        return self.cipher.encrypt_text(state, STATE)

    async def _save_state(self, survivor_id: int) -> None:
        """Before a whole turn reads the stored state: store what this batch has changed."""
        if survivor_id in self._pending.dirty:
            blobs = {survivor_id: self._seal(survivor_id)}
            await rows.save_conversations(self.uow.session, blobs, self._stored, self.now)
            self._stored.add(survivor_id)
            self._pending.dirty.discard(survivor_id)

    async def _whole_turn(
        self, job: DueJob, survivor: BatchSurvivor, identity: IdentityRow, data: dict[str, str]
    ) -> bool:
        session = self.uow.session
        person = await session.get(Survivor, survivor.id)
        address = await session.get(Identity, identity.id)
        assert person is not None and address is not None  # read in this transaction
        event = SystemEvent(REMINDER.name, tuple(data.items()))
        queued = await self.conversations.system_turn(
            self.uow, self.now, person, address, event, PRIORITY_BACKGROUND
        )
        if queued:
            self._pending.whole_turns.append((job, queued[0]))
        return bool(queued)
