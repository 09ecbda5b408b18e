"""Repositories for conversation state, the message history and the audit trail. Never commits."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Collection
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store import pending
from bot.store.crypto import Cipher
from bot.store.models import AuditEvent, Conversation, Message

MESSAGES = cast(Table, Message.__table__)
AUDIT = cast(Table, AuditEvent.__table__)
STATE = "conversation.state"
BODY = "message.body"


class Conversations:
    def __init__(self, session: AsyncSession, cipher: Cipher) -> None:
        self.session = session
        self.cipher = cipher
        # Survivors whose row (or its absence) this transaction has already read, and locked
        # on PostgreSQL: a batch of messages reads them all at once (`preload`).
        self._read: set[int] = set()
        self._absent: set[int] = set()
        self._rows: list[Conversation] = []

    async def preload(self, survivor_ids: Collection[int]) -> None:
        """Read (and on PostgreSQL lock, in id order) the states of several survivors with one
        query, so that `load` finds them in the session."""
        wanted = sorted(set(survivor_ids) - self._read)
        if not wanted:
            return
        stmt = select(Conversation).where(Conversation.survivor_id.in_(wanted))
        if self.session.get_bind().dialect.name == "postgresql":
            stmt = stmt.order_by(Conversation.survivor_id).with_for_update()
        rows = list((await self.session.execute(stmt)).scalars())
        self._rows.extend(rows)  # the session keeps only weak references to unchanged rows
        found = {row.survivor_id for row in rows}
        self._read.update(wanted)
        self._absent.update(set(wanted) - found)

    async def load(self, survivor_id: int) -> dict[str, Any] | None:
        if survivor_id in self._absent:
            return None
        if survivor_id in self._read:
            row = await self.session.get(Conversation, survivor_id)  # in the session already
        else:
            stmt = select(Conversation).where(Conversation.survivor_id == survivor_id)
            if self.session.get_bind().dialect.name == "postgresql":
                stmt = stmt.with_for_update()  # one message per survivor at a time
            row = (await self.session.execute(stmt)).scalar_one_or_none()
        if row is None:
            return None
        return cast(dict[str, Any], json.loads(self.cipher.decrypt_text(row.state_enc, STATE)))

    async def save(self, survivor_id: int, state: dict[str, Any], now: datetime) -> None:
        blob = self.cipher.encrypt_text(json.dumps(state, separators=(",", ":")), STATE)
        row = None
        if survivor_id not in self._absent:
            row = await self.session.get(Conversation, survivor_id)
        if row is None:
            self._absent.discard(survivor_id)  # from now on, `load` asks the session
            self.session.add(Conversation(survivor_id=survivor_id, state_enc=blob, updated_at=now))
        else:
            row.state_enc = blob
            row.updated_at = now


class Messages:
    def __init__(self, session: AsyncSession, cipher: Cipher) -> None:
        self.session = session
        self.cipher = cipher
        # Inbound messages per survivor since `_counted_since`: read once for a batch, then
        # kept up to date as this transaction adds more (see `inbound_since`).
        self._counted_since: datetime | None = None
        self._inbound: Counter[int] = Counter()
        self._counted: set[int] = set()

    async def count_inbound(self, survivor_ids: Collection[int], since: datetime) -> None:
        """Count, with one query, the inbound messages of several survivors after `since`."""
        wanted = set(survivor_ids)
        if not wanted:
            return
        stmt = (
            select(Message.survivor_id, func.count())
            .where(
                Message.survivor_id.in_(wanted),
                Message.direction == "in",
                Message.navigation.is_(False),
                Message.created_at > since,
            )
            .group_by(Message.survivor_id)
        )
        self._counted_since, self._counted = since, wanted
        counts = await self.session.execute(stmt)
        self._inbound = Counter({int(sid): int(n) for sid, n in counts if sid is not None})

    def inbound_since(self, survivor_id: int, since: datetime) -> int | None:
        """What `count_inbound` found plus what was added since, or None if not counted."""
        if since != self._counted_since or survivor_id not in self._counted:
            return None
        return self._inbound[survivor_id]

    def add(
        self,
        *,
        survivor_id: int | None,
        direction: str,
        channel: str,
        body: str,
        now: datetime,
        inbox_id: int | None = None,
        navigation: bool = False,
    ) -> None:
        """Add a row to the history. Written with the others of this transaction (pending.py):
        the ORM would insert each one alone. `navigation`: a button press or a menu step,
        which the flood guard does not count."""
        row = {
            "survivor_id": survivor_id,
            "direction": direction,
            "channel": channel,
            "body_enc": self.cipher.encrypt_text(body, BODY),
            "inbox_id": inbox_id,
            "created_at": now,
            "navigation": navigation,
        }
        pending.queue(self.session, MESSAGES, row)
        if direction == "in" and survivor_id is not None and not navigation:
            if self._counted_since is not None and now > self._counted_since:
                self._inbound[survivor_id] += 1

    async def reassign(self, from_survivor: int, to_survivor: int) -> None:
        """Move history from an intake record to the survivor it turned out to be."""
        self._counted -= {from_survivor, to_survivor}  # counted again if asked
        await self.session.execute(
            update(Message)
            .where(Message.survivor_id == from_survivor)
            .values(survivor_id=to_survivor)
        )

    async def recent(self, survivor_id: int, limit: int = 20) -> list[tuple[Message, str]]:
        stmt = (
            select(Message)
            .where(Message.survivor_id == survivor_id)
            .order_by(Message.id.desc())
            .limit(limit)
        )
        rows = list((await self.session.execute(stmt)).scalars())
        return [
            (m, self.cipher.decrypt_text(m.body_enc, BODY) if m.body_enc else "")
            for m in reversed(rows)
        ]


AUDIT_DETAIL = "audit.detail"


class Audit:
    def __init__(self, session: AsyncSession, cipher: Cipher) -> None:
        self.session = session
        self.cipher = cipher

    def record(
        self,
        actor: str,
        action: str,
        now: datetime,
        *,
        survivor_id: int | None = None,
        **detail: object,
    ) -> None:
        """Record an event. `detail` holds ids, codes and counts; it is sealed all the same,
        because a value can come from what a person typed. Written with the transaction's
        other events (pending.py)."""
        sealed = None
        if detail:
            plain = json.dumps(detail, separators=(",", ":"), default=str)
            sealed = self.cipher.encrypt_text(plain, AUDIT_DETAIL)
        row = {
            "at": now,
            "actor": actor,
            "action": action,
            "survivor_id": survivor_id,
            "detail_enc": sealed,
            "detail": {},
            "note": None,
        }
        pending.queue(self.session, AUDIT, row)

    def detail_of(self, event: AuditEvent) -> dict[str, Any]:
        return unseal_detail(self.cipher, event)


def unseal_detail(cipher: Cipher, event: AuditEvent) -> dict[str, Any]:
    """An audit event's detail in the clear (empty once retention has cleared it)."""
    if event.detail_enc is None:
        return dict(event.detail or {})  # a row not yet sealed (before 0007_16)
    return cast(dict[str, Any], json.loads(cipher.decrypt_text(event.detail_enc, AUDIT_DETAIL)))
