"""The inbound pipeline: store first, then process in order, and pick up leftovers at start-up.

Under load, work is grouped so that one transaction carries many messages:
- storing: webhook requests that arrive while a store is being committed wait for the next
  one, which stores them all (a group commit). Each request is still answered only after
  the transaction holding its own row has committed.
- processing: one worker per process takes every message queued so far (up to
  PROCESS_BATCH), in the order they were stored, and processes them in one transaction: all
  of them and all their effects are committed, or none. If that fails, each is tried again
  on its own, so one bad message never holds the others back.
One worker keeps each survivor's conversation in order and suits SQLite's single writer. On
PostgreSQL several processes can run side by side: a row is claimed inside its transaction,
so only one of them handles it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

from bot.messaging.conversation import ConversationService
from bot.ports import Clock, ReceiptSink
from bot.store.models import InboxItem
from bot.store.uow import UnitOfWork

log = logging.getLogger(__name__)

MAX_PROCESS_ATTEMPTS = 5
STORE_BATCH = 200  # webhook payloads stored by one statement at most
PROCESS_BATCH = 50  # messages processed in one transaction at most; keeps each one short

Pending = tuple[str, str, Mapping[str, Any], "asyncio.Future[int | None]"]


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
        self._to_store: list[Pending] = []
        self._storing: asyncio.Task[None] | None = None

    def delivery_receipts(self, channel: str, unknown_wait: float) -> ReceiptSink:
        """Receipts written to the same store, waking the outbox when an alert is queued."""
        from bot.messaging.delivery import DeliveryReceipts

        service = self.conversations
        return DeliveryReceipts(
            service.db,
            service.cipher,
            service.staff,
            service.clock,
            channel=channel,
            unknown_wait=unknown_wait,
            outbox_wake=self.outbox_wake,
        )

    async def accept(self, channel: str, provider_id: str, payload: Mapping[str, Any]) -> bool:
        """Store durably and queue for processing. False means a duplicate (already stored).
        Raises if the database cannot store it: the caller must then NOT acknowledge."""
        stored: asyncio.Future[int | None] = asyncio.get_running_loop().create_future()
        self._to_store.append((channel, provider_id, payload, stored))
        if self._storing is None or self._storing.done():
            self._storing = asyncio.create_task(self._store_waiting())
        # shield: a caller that goes away must not cancel the others' commit.
        return await asyncio.shield(stored) is not None

    async def _store_waiting(self) -> None:
        """Store what is waiting, one transaction at a time, until nothing is."""
        while self._to_store:
            batch, self._to_store = self._to_store[:STORE_BATCH], self._to_store[STORE_BATCH:]
            try:
                ids = await self._store_batch(batch)
            except BaseException as exc:  # cancelled at shutdown: nobody may wait forever
                for entry in (*batch, *self._to_store):
                    _fail(entry[3], exc)
                self._to_store = []
                raise
            for inbox_id in ids:
                if inbox_id is not None:
                    self._queue.put_nowait(inbox_id)  # in the order they were stored
            for (_, _, _, stored), inbox_id in zip(batch, ids, strict=True):
                if not stored.done():
                    stored.set_result(inbox_id)

    async def _store_batch(self, batch: list[Pending]) -> list[int | None]:
        if len(batch) == 1:
            return [await self._store_alone(batch[0])]
        rows = [(channel, provider_id, payload) for channel, provider_id, payload, _ in batch]
        try:
            return await self.conversations.store_many(rows)
        except Exception:  # one at a time, so a row the database refuses fails alone
            return [await self._store_alone(entry) for entry in batch]

    async def _store_alone(self, entry: Pending) -> int | None:
        channel, provider_id, payload, stored = entry
        try:
            return await self.conversations.store(channel, provider_id, payload)
        except Exception as exc:
            _fail(stored, exc)
            return None

    async def process_one(self, inbox_id: int) -> None:
        await self.process_batch([inbox_id])

    async def process_batch(self, inbox_ids: list[int]) -> None:
        """Process these stored messages, in one transaction while that works."""
        processed = 0
        rest = inbox_ids
        try:
            while rest:
                done, rest = await self.conversations.process_many(rest)
                processed += done
        except Exception as exc:
            if len(rest) == 1:
                log.exception("processing inbox %d failed", rest[0])
                await self._record_failure(rest[0], type(exc).__name__)
            else:  # find the one that fails: each alone, in order
                for inbox_id in rest:
                    await self.process_batch([inbox_id])
        if processed:
            for event in self.wake_after_processing:
                event.set()

    def _take_queued(self, first: int) -> list[int]:
        batch = [first]
        while len(batch) < PROCESS_BATCH and not self._queue.empty():
            batch.append(self._queue.get_nowait())
        return batch

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
            await self.process_batch(self._take_queued(self._queue.get_nowait()))

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
                await self.process_batch(self._take_queued(getter.result()))
            else:
                getter.cancel()


def _fail(stored: asyncio.Future[int | None], exc: BaseException) -> None:
    if not stored.done():
        stored.set_exception(exc)
