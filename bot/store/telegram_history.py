"""Which Telegram messages are in one chat, so /clear and the advocate's wipe can delete them.

Both sides of the chat are found in what Harbour already keeps, without a new column:
- the bot's messages: outbox rows for the identity, sent, with Telegram's message_id recorded
  as provider_id;
- the survivor's messages: the raw updates in the inbox (encrypted), reached through the
  message history rows that point at them, and checked against the chat id.
Never commits.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.crypto import Cipher
from bot.store.models import InboxItem, Message, OutboxItem
from bot.store.queues import INBOX_PAYLOAD
from bot.store.uow import UnitOfWork

CHANNEL = "telegram"
MAX_MESSAGES = 1000  # far more than 48 hours of a real conversation; bounds the work


class TelegramHistory:
    def __init__(self, session: AsyncSession, cipher: Cipher) -> None:
        self.session = session
        self.cipher = cipher

    @classmethod
    def of(cls, uow: UnitOfWork) -> TelegramHistory:
        return cls(uow.session, uow.inbox.cipher)

    async def bot_message_ids(self, identity_id: int, since: datetime) -> list[int]:
        """Telegram message ids of what the bot sent to this identity since `since`."""
        stmt = (
            select(OutboxItem.provider_id)
            .where(
                OutboxItem.identity_id == identity_id,
                OutboxItem.channel == CHANNEL,
                OutboxItem.sent_at >= since,
                OutboxItem.provider_id.is_not(None),
            )
            .order_by(OutboxItem.id.desc())
            .limit(MAX_MESSAGES)
        )
        found = []
        for provider_id in (await self.session.execute(stmt)).scalars():
            if provider_id is not None and provider_id.isdigit():
                found.append(int(provider_id))
        return found

    async def survivor_message_ids(
        self, survivor_id: int, chat_id: int, since: datetime
    ) -> list[int]:
        """Telegram message ids of what the survivor sent from this chat since `since`."""
        stmt = (
            select(InboxItem.payload_enc)
            .join(Message, Message.inbox_id == InboxItem.id)
            .where(
                Message.survivor_id == survivor_id,
                Message.direction == "in",
                InboxItem.channel == CHANNEL,
                InboxItem.received_at >= since,
            )
            .order_by(InboxItem.id.desc())
            .limit(MAX_MESSAGES)
        )
        found = []
        for blob in (await self.session.execute(stmt)).scalars():
            message_id = _message_id_in(_decrypt(self.cipher, blob), chat_id)
            if message_id is not None:
                found.append(message_id)
        return found


def _decrypt(cipher: Cipher, blob: bytes | None) -> dict[str, Any]:
    if blob is None:
        return {}
    loaded = json.loads(cipher.decrypt_text(blob, INBOX_PAYLOAD))
    return loaded if isinstance(loaded, dict) else {}


def _message_id_in(update: dict[str, Any], chat_id: int) -> int | None:
    for key in ("message", "edited_message"):
        message = update.get(key)
        if not isinstance(message, dict):
            continue
        chat = message.get("chat")
        message_id = message.get("message_id")
        if isinstance(chat, dict) and chat.get("id") == chat_id and isinstance(message_id, int):
            return message_id
    return None
