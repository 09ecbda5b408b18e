"""The unit of work: one transaction, with the repositories bound to it.

async with UnitOfWork(db, cipher) as uow:
    ...            # commits on a clean exit, rolls back on an exception
"""

from __future__ import annotations

from types import TracebackType

from sqlalchemy.ext.asyncio import AsyncSession

from bot.store import pending
from bot.store.crypto import Cipher
from bot.store.database import Database
from bot.store.people import People
from bot.store.queues import Inbox, Outbox
from bot.store.records import Audit, Conversations, Messages


class UnitOfWork:
    session: AsyncSession
    people: People
    inbox: Inbox
    outbox: Outbox
    conversations: Conversations
    messages: Messages
    audit: Audit

    def __init__(self, db: Database, cipher: Cipher) -> None:
        self._db = db
        self._cipher = cipher

    @property
    def cipher(self) -> Cipher:
        return self._cipher

    @property
    def channels(self) -> frozenset[str] | None:
        """The channels this process sends on (None: not known, as in a CLI run)."""
        return self._db.channels

    async def __aenter__(self) -> UnitOfWork:
        self.session = self._db.sessions()
        await self.session.begin()
        cipher = self._cipher
        self.people = People(self.session, cipher)
        self.inbox = Inbox(self.session, cipher)
        self.outbox = Outbox(self.session, cipher)
        self.conversations = Conversations(self.session, cipher)
        self.messages = Messages(self.session, cipher)
        self.audit = Audit(self.session, cipher)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if exc_type is None:
                await pending.write(self.session)
                await self.session.commit()
            else:
                pending.drop(self.session)
                await self.session.rollback()
        finally:
            await self.session.close()
