"""The inbound pipeline: store first, then process in order, and pick up leftovers at start-up.

One worker per process handles stored messages one at a time, which keeps each survivor's
conversation in order and suits SQLite's single writer. On PostgreSQL several processes can
run side by side: a row is claimed inside its transaction, so only one of them handles it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

from bot.ports import Clock
from bot.services.conversation import ConversationService
from bot.store.models import InboxItem
from bot.store.uow import UnitOfWork

log = logging.getLogger(__name__)

MAX_PROCESS_ATTEMPTS = 5


class InboundPipeline:
    def __init__(
        self,
        conversations: ConversationService,
        clock: Clock,
        outbox_wake: asyncio.Event,
        also_wake: list[asyncio.Event],
    ) -> None:
        self.conversations = conversations
        self.clock = clock
        self.outbox_wake = outbox_wake
        self.wake_after_processing = [outbox_wake, *also_wake]  # + urgent lane, relay worker
        self._queue: asyncio.Queue[int] = asyncio.Queue()

    async def accept(self, channel: str, provider_id: str, payload: Mapping[str, Any]) -> bool:
        """Store durably and queue for processing. False means a duplicate (already stored).
        Raises if the database cannot store it: the caller must then NOT acknowledge."""
        inbox_id = await self.conversations.store(channel, provider_id, payload)
        if inbox_id is None:
            return False
        self._queue.put_nowait(inbox_id)
        return True

    async def process_one(self, inbox_id: int) -> None:
        try:
            if await self.conversations.process(inbox_id):
                for event in self.wake_after_processing:
                    event.set()
        except Exception as exc:
            log.exception("processing inbox %d failed", inbox_id)
            await self._record_failure(inbox_id, type(exc).__name__)

    async def _record_failure(self, inbox_id: int, error: str) -> None:
        try:
            async with self.conversations.unit_of_work() as uow:
                item = await uow.session.get(InboxItem, inbox_id)
                give_up = item is not None and item.attempts + 1 >= MAX_PROCESS_ATTEMPTS
                await uow.inbox.record_failure(inbox_id, error, give_up, self.clock.now())
                if give_up:
                    log.error(
                        "inbox %d could not be processed after %d attempts",
                        inbox_id,
                        MAX_PROCESS_ATTEMPTS,
                    )
                    uow.audit.record(
                        "system", "inbox.unprocessable", self.clock.now(), inbox_id=inbox_id
                    )
        except Exception:
            log.exception("could not record the failure of inbox %d", inbox_id)

    async def drain(self) -> None:
        """Process everything queued so far (used by simulate and tests)."""
        while not self._queue.empty():
            await self.process_one(self._queue.get_nowait())

    async def recover(self) -> int:
        """Queue stored rows that were never processed (after a crash or a restart)."""
        async with UnitOfWork(self.conversations.db, self.conversations.cipher) as uow:
            pending = await uow.inbox.unprocessed()
        for inbox_id in pending:
            self._queue.put_nowait(inbox_id)
        if pending:
            log.info("recovered %d stored messages that were not yet processed", len(pending))
        return len(pending)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            getter = asyncio.ensure_future(self._queue.get())
            stopper = asyncio.ensure_future(stop.wait())
            done, _ = await asyncio.wait({getter, stopper}, return_when=asyncio.FIRST_COMPLETED)
            stopper.cancel()
            if getter in done:
                await self.process_one(getter.result())
            else:
                getter.cancel()
