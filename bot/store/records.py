"""Repositories for conversation state, the message history and the audit trail. Never commits."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, cast

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.crypto import Cipher
from bot.store.models import AuditEvent, Conversation, Message

STATE = "conversation.state"
BODY = "message.body"


class Conversations:
    def __init__(self, session: AsyncSession, cipher: Cipher) -> None:
        self.session = session
        self.cipher = cipher

    async def load(self, survivor_id: int) -> dict[str, Any] | None:
        stmt = select(Conversation).where(Conversation.survivor_id == survivor_id)
        if self.session.get_bind().dialect.name == "postgresql":
            stmt = stmt.with_for_update()  # one message per survivor at a time
        row = (await self.session.execute(stmt)).scalar_one_or_none()
        if row is None:
            return None
        return cast(dict[str, Any], json.loads(self.cipher.decrypt_text(row.state_enc, STATE)))

    async def save(self, survivor_id: int, state: dict[str, Any], now: datetime) -> None:
        blob = self.cipher.encrypt_text(json.dumps(state, separators=(",", ":")), STATE)
        row = await self.session.get(Conversation, survivor_id)
        if row is None:
            self.session.add(Conversation(survivor_id=survivor_id, state_enc=blob, updated_at=now))
        else:
            row.state_enc = blob
            row.updated_at = now


class Messages:
    def __init__(self, session: AsyncSession, cipher: Cipher) -> None:
        self.session = session
        self.cipher = cipher

    def add(
        self,
        *,
        survivor_id: int | None,
        direction: str,
        channel: str,
        body: str,
        now: datetime,
        inbox_id: int | None = None,
    ) -> Message:
        message = Message(
            survivor_id=survivor_id,
            direction=direction,
            channel=channel,
            body_enc=self.cipher.encrypt_text(body, BODY),
            inbox_id=inbox_id,
            created_at=now,
        )
        self.session.add(message)
        return message

    async def reassign(self, from_survivor: int, to_survivor: int) -> None:
        """Move history from an intake record to the survivor it turned out to be."""
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


class Audit:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def record(
        self,
        actor: str,
        action: str,
        now: datetime,
        *,
        survivor_id: int | None = None,
        **detail: object,
    ) -> None:
        """Record an event. `detail` holds ids, codes and counts, never content."""
        self.session.add(
            AuditEvent(at=now, actor=actor, action=action, survivor_id=survivor_id, detail=detail)
        )
