"""The outbox sender: claim due rows, send them paced, record what happened.

A row is claimed (status 'sending', with a lease) before it is sent and recorded after, so two
workers never send the same row. If a process dies mid-send, the lease runs out and the row is
sent again: the only window for a duplicate is between the provider accepting a message and
us recording it, which channels that can look messages up (SMS) close by reconciling.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.messaging import staff_addresses
from bot.messaging.pacing import ChannelPacer
from bot.messaging.staff_notices import StaffNotices
from bot.ports import Channel, Clock, OutboundMessage, SendResult
from bot.staff.routing import PRIORITY_BACKGROUND, PRIORITY_URGENT
from bot.store.crypto import Cipher
from bot.store.database import Database
from bot.store.models import Identity, OutboxItem
from bot.store.uow import UnitOfWork

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)
MAX_BACKOFF_SECONDS = 300.0
CLAIM_BATCH = 60  # about two seconds' worth at Telegram's pace
# The main lane claims the next batch once fewer than this many claimed rows are left to send,
# so the pacer never runs dry between batches (waiting for a whole batch to finish cost ~6% of
# Telegram's 30/s). At most CLAIM_BATCH + REFILL_BELOW rows are claimed and unsent at once,
# which a chat's 1-a-second limit sends well within the LEASE.
REFILL_BELOW = 20


def backoff_seconds(attempts: int) -> float:
    """1, 2, 4 ... seconds, capped, with jitter so retries do not arrive in step."""
    base = min(2.0 ** max(attempts - 1, 0), MAX_BACKOFF_SECONDS)
    return base * random.uniform(0.8, 1.2)  # noqa: S311 - jitter, not security


@dataclass(frozen=True)
class Claimed:
    item_id: int
    channel: str
    message: OutboundMessage
    priority: int = 0


class OutboxSender:
    def __init__(
        self,
        db: Database,
        cipher: Cipher,
        channels: Mapping[str, Channel],
        pacers: Mapping[str, ChannelPacer],
        notices: StaffNotices,
        clock: Clock,
        max_attempts: int = 8,
    ) -> None:
        self.db = db
        self.cipher = cipher
        self.channels = channels
        self.pacers = pacers
        self.notices = notices
        self.clock = clock
        self.max_attempts = max_attempts
        # The main lane's rows, claimed and not yet sent: one queue and one task per address,
        # so that one address's rows leave in order even when they came in different batches.
        self._queued: dict[tuple[str, str], list[Claimed]] = {}
        self._senders: dict[tuple[str, str], asyncio.Task[None]] = {}
        self._unsent = 0

    async def send_due(self, limit: int = CLAIM_BATCH, min_priority: int | None = None) -> int:
        """Send what is due now (a batch of about two seconds' worth, so urgent rows queued
        meanwhile are never far behind). Returns how many rows were handled."""
        claimed = await self._claim(limit, min_priority)
        by_address: dict[tuple[str, str], list[Claimed]] = defaultdict(list)
        for row in claimed:
            by_address[(row.channel, row.message.address)].append(row)
        # Different addresses go in parallel; one address keeps its order.
        await asyncio.gather(*(self._send_in_order(rows) for rows in by_address.values()))
        return len(claimed)

    async def _claim(self, limit: int, min_priority: int | None) -> list[Claimed]:
        async with UnitOfWork(self.db, self.cipher) as uow:
            now = self.clock.now()
            channels = list(self.channels)
            items = await uow.outbox.claim_due(now, LEASE, limit, channels, min_priority)
            claimed = []
            for item in items:
                identity = await uow.session.get(Identity, item.identity_id)
                if identity is None or (
                    identity.status != "active" and item.priority <= PRIORITY_BACKGROUND
                ):
                    item.status = "cancelled"  # the survivor stopped this channel since
                    continue
                if await self._must_wait(uow, item, identity):
                    item.status, item.claimed_until = "held", None
                    continue
                payload = uow.outbox.payload(item)
                message = OutboundMessage(
                    address=uow.people.address_of(identity),
                    text=str(payload.get("text", "")),
                    choices=tuple((str(v), str(label)) for v, label in payload.get("choices", [])),
                    kind=item.kind,
                    sensitive=bool(payload.get("sensitive", False)),
                    meta={k: v for k, v in payload.items() if k not in ("text", "choices")}
                    | ({"urgent": True} if _is_urgent(item) else {}),
                )
                claimed.append(Claimed(item.id, item.channel, message, item.priority))
            return claimed

    async def _must_wait(self, uow: UnitOfWork, item: OutboxItem, identity: Identity) -> bool:
        """A survivor who said it is not safe to talk gets nothing more until they write again:
        advocate replies and background sends are held. Direct answers and urgent safety
        information are not. An advocate's reply to a survivor who sent STOP is held too,
        until START (bot/messaging/profile.py releases it)."""
        if identity.survivor_id is None or item.priority >= PRIORITY_URGENT:
            return False
        if item.kind == "reply" and identity.status == "stopped":
            return True
        if item.kind != "reply" and item.priority > PRIORITY_BACKGROUND:
            return False
        survivor = await uow.people.survivor(identity.survivor_id)
        return survivor is not None and survivor.status == "paused"

    async def _send_in_order(self, rows: list[Claimed]) -> None:
        for row in rows:
            pacer = self.pacers.get(row.channel)
            if pacer is not None:
                urgent = row.message.meta.get("urgent") is True
                await pacer.wait_turn(row.message.address, urgent=urgent)
            try:
                result = await self.channels[row.channel].send(row.message)
            except Exception as exc:  # an adapter bug must not stop the queue
                log.exception("send failed on %s (outbox %d)", row.channel, row.item_id)
                result = SendResult(status="retry", error=type(exc).__name__)
            if result.retry_after and pacer is not None:
                pacer.hold(result.retry_after, row.message.address)
            await self._record(row, result)

    async def _record(self, row: Claimed, result: SendResult) -> None:
        async with UnitOfWork(self.db, self.cipher) as uow:
            now = self.clock.now()
            item = await uow.outbox.get(row.item_id)
            if item is None:
                return
            item.attempts += 1
            item.claimed_until = None
            item.last_error = result.error
            if result.moved_to:  # a migrated Telegram group: store where it went
                await staff_addresses.address_moved(uow, now, item.identity_id, result.moved_to)
            if result.status == "sent":
                item.status, item.provider_id, item.sent_at = "sent", result.provider_id, now
                return
            if result.status == "retry" and item.attempts < self.max_attempts:
                delay = max(result.retry_after or 0.0, backoff_seconds(item.attempts))
                item.status, item.next_attempt_at = "pending", now + timedelta(seconds=delay)
                return
            item.status = "failed"
            log.warning("outbox %d failed on %s: %s", item.id, item.channel, result.error)
            await self._after_failure(uow, now, item.identity_id, item.survivor_id, row, result)

    async def _after_failure(
        self,
        uow: UnitOfWork,
        now: datetime,
        identity_id: int,
        survivor_id: int | None,
        row: Claimed,
        result: SendResult,
    ) -> None:
        identity = await uow.session.get(Identity, identity_id)
        if identity is not None and identity.staff_id is not None:
            failed = {
                "kind": row.message.kind,
                "priority": row.priority,
                "survivor_id": survivor_id,
                "payload": {"text": row.message.text, "choices": list(row.message.choices)}
                | {k: v for k, v in row.message.meta.items() if k != "urgent"},
            }
            texts = self.notices.texts
            await staff_addresses.staff_address_failed(uow, now, identity, failed, result, texts)
            return
        if identity is None or identity.survivor_id is None:
            return
        already_told = identity.status in ("stopped", "blocked", "opted_out")
        if result.permanent is not None and identity.status != "stopped":
            identity.status = result.permanent  # STOP stays STOP: START must re-open it
        if already_told:
            return  # the advocate already had a contact-loss signal for this channel
        survivor = await uow.people.survivor(identity.survivor_id)
        if survivor is not None:
            reason = "blocked" if result.permanent else "undeliverable"
            await self.notices.contact_loss(
                uow, now, survivor, reason, row.channel, error=result.permanent or ""
            )

    async def release_expired(self) -> int:
        async with UnitOfWork(self.db, self.cipher) as uow:
            return await uow.outbox.release_expired_claims(self.clock.now())

    async def run(
        self,
        wake: asyncio.Event,
        stop: asyncio.Event,
        idle: float = 1.0,
        min_priority: int | None = None,
    ) -> None:
        """Send until stopped. `wake` is set when new rows are queued; otherwise poll.
        `harbour run` runs two of these: one for everything, which keeps the pacer fed without
        a pause between batches, and an urgent lane (min_priority=PRIORITY_URGENT) that never
        waits behind a backlog."""
        if min_priority is None:
            await self._run_main_lane(wake, stop, idle)
            return
        while not stop.is_set():
            try:
                handled = await self.send_due(min_priority=min_priority)
            except Exception:
                log.exception("outbox pass failed; retrying shortly")
                handled = 0
            if handled:
                continue
            await _wait(wake, idle)

    async def _run_main_lane(self, wake: asyncio.Event, stop: asyncio.Event, idle: float) -> None:
        try:
            while not stop.is_set():
                try:
                    claimed = await self._claim(CLAIM_BATCH, None)
                except Exception:
                    log.exception("outbox pass failed; retrying shortly")
                    claimed = []
                self._queue_rows(claimed)
                if claimed:  # claim again once the queued rows run low
                    # A count, not an event anyone signals: polling it briefly is right here.
                    while self._unsent >= REFILL_BELOW and not stop.is_set():  # noqa: ASYNC110
                        await asyncio.sleep(0.05)
                    continue
                await _wait(wake, idle)
        finally:  # what was claimed is sent (or its lease runs out if we are cancelled)
            await asyncio.gather(*self._senders.values(), return_exceptions=True)

    def _queue_rows(self, rows: list[Claimed]) -> None:
        for row in rows:
            key = (row.channel, row.message.address)
            self._queued.setdefault(key, []).append(row)
            self._unsent += 1
            if key not in self._senders:
                self._senders[key] = asyncio.create_task(self._send_queued(key))

    async def _send_queued(self, key: tuple[str, str]) -> None:
        queue = self._queued[key]
        try:
            while queue:
                row = queue.pop(0)
                try:
                    await self._send_in_order([row])
                except Exception:
                    log.exception("outbox %d: send or record failed", row.item_id)
                finally:
                    self._unsent -= 1
        finally:
            del self._queued[key], self._senders[key]


def _is_urgent(item: OutboxItem) -> bool:
    """Escalations and urgent safety replies: they go before any backlog."""
    return item.kind == "escalation" or item.priority >= PRIORITY_URGENT


async def _wait(wake: asyncio.Event, idle: float) -> None:
    wake.clear()
    try:
        await asyncio.wait_for(wake.wait(), timeout=idle)
    except TimeoutError:
        pass
