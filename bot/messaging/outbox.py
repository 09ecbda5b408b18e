"""The outbox sender: claim due rows, send them paced, record what happened.

Nothing lost, nothing doubled:
- A row is claimed (status 'sending', a lease and this sender's token) before it is sent.
  While the sender holds rows in memory (waiting behind the pacer, or in flight) it renews
  their leases, so a slow pacer never lets a claim lapse under it; and every write it makes
  about a row names its token, so a row another sender took over is never sent or recorded
  by this one.
- Before the provider is called, the attempt is written down and committed (`attempt_at`).
  The result is recorded after; if recording fails (a locked database) it is tried again
  until it works, never by sending again. An attempt whose outcome is unknown (the process
  died, or the provider did not answer in time) is settled before anything is re-sent: SMS
  lists Twilio's messages and finds ours; Telegram, which cannot be asked, re-sends at most
  once, and counts it (`doubt_resends`, shown at /metrics).
- One address's rows leave in the order queued, across retries and restarts: a row waiting
  for a retry holds back the later rows to the same address (bot/store/queues.py).
- Outages: capped backoff for at least a day, and urgent rows never give up (outcomes.py).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from bot.messaging import outcomes
from bot.messaging.outcomes import RetryPolicy, backoff_seconds, is_urgent
from bot.messaging.pacing import ChannelPacer
from bot.messaging.staff_notices import StaffNotices
from bot.ports import Channel, Clock, OutboundMessage, SendResult, SentLookup
from bot.staff.routing import PRIORITY_BACKGROUND, PRIORITY_URGENT
from bot.store.crypto import Cipher
from bot.store.database import Database
from bot.store.models import Identity, OutboxItem
from bot.store.uow import UnitOfWork

__all__ = ["LEASE", "Claimed", "OutboxSender", "backoff_seconds"]

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)
CLAIM_BATCH = 60  # about two seconds' worth at Telegram's pace
# The main lane claims the next batch once fewer than this many claimed rows are left to send,
# so the pacer never runs dry between batches (waiting for a whole batch to finish cost ~6% of
# Telegram's 30/s). Claimed rows waiting in memory keep their leases (renewed).
REFILL_BELOW = 20
STORE_RETRY_MAX = 5.0  # seconds between tries to write an attempt or a result


@dataclass(frozen=True)
class Claimed:
    item_id: int
    channel: str
    message: OutboundMessage
    priority: int = 0
    in_doubt_since: datetime | None = None  # an earlier attempt's outcome is unknown
    doubt_resends: int = 0


class ClaimLost(Exception):
    """Another sender holds the row now: this one must neither send nor record it."""


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
        *,
        retry_window: timedelta = outcomes.RETRY_WINDOW,
        lease: timedelta = LEASE,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.db = db
        self.cipher = cipher
        self.channels = channels
        self.pacers = pacers
        self.notices = notices
        self.clock = clock
        self.policy = RetryPolicy(window=retry_window, min_attempts=max_attempts)
        self.lease = lease
        self._sleep = sleep  # lease renewal's clock (tests run it on virtual time)
        self.token = secrets.token_hex(16)  # names this sender's claims
        self._held: set[int] = set()  # rows this sender claimed and has not recorded yet
        self._renewal: asyncio.Task[None] | None = None
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

    # -- claiming and keeping claims ----------------------------------------------------

    async def _claim(self, limit: int, min_priority: int | None) -> list[Claimed]:
        async with UnitOfWork(self.db, self.cipher) as uow:
            now = self.clock.now()
            channels = list(self.channels)
            items = await uow.outbox.claim_due(
                now, self.lease, limit, channels, min_priority, token=self.token
            )
            claimed = []
            for item in items:
                identity = await uow.session.get(Identity, item.identity_id)
                if identity is None or (
                    identity.status != "active" and item.priority <= PRIORITY_BACKGROUND
                ):
                    item.status, item.claim_token = "cancelled", None  # stopped since
                    continue
                if await self._must_wait(uow, item, identity):
                    item.status, item.claimed_until, item.claim_token = "held", None, None
                    continue
                claimed.append(self._claimed(uow, item, identity))
        self._held.update(row.item_id for row in claimed)
        if claimed and (self._renewal is None or self._renewal.done()):
            self._renewal = asyncio.create_task(self._keep_claims())
        return claimed

    def _claimed(self, uow: UnitOfWork, item: OutboxItem, identity: Identity) -> Claimed:
        payload = uow.outbox.payload(item)
        message = OutboundMessage(
            address=uow.people.address_of(identity),
            text=str(payload.get("text", "")),
            choices=tuple((str(v), str(label)) for v, label in payload.get("choices", [])),
            kind=item.kind,
            sensitive=bool(payload.get("sensitive", False)),
            meta={k: v for k, v in payload.items() if k not in ("text", "choices")}
            | ({"urgent": True} if is_urgent(item) else {}),
        )
        return Claimed(
            item.id, item.channel, message, item.priority, item.attempt_at, item.doubt_resends
        )

    async def _keep_claims(self) -> None:
        """Renew the leases of the rows this sender holds, until it holds none."""
        every = max(self.lease.total_seconds() / 4, 0.01)
        while self._held:
            await self._sleep(every)
            try:
                async with UnitOfWork(self.db, self.cipher) as uow:
                    until = self.clock.now() + self.lease
                    await uow.outbox.renew_claims(sorted(self._held), self.token, until)
            except Exception as exc:  # a locked database: the lease has room to wait
                log.warning("could not renew outbox leases (%s)", type(exc).__name__)

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

    # -- sending one row ----------------------------------------------------------------

    async def _send_in_order(self, rows: list[Claimed]) -> None:
        for n, row in enumerate(rows):
            if not await self._send_one(row):
                await self._release(rows[n + 1 :])
                return

    async def _send_one(self, row: Claimed) -> bool:
        """False when the row waits for a retry: the address's later rows must wait too."""
        try:
            return await self._send_row(row)
        except ClaimLost:
            log.warning("outbox %d: another sender holds it now; left to them", row.item_id)
            return False
        finally:
            self._held.discard(row.item_id)

    async def _release(self, rows: list[Claimed]) -> None:
        """Rows behind one that waits for a retry go back, unsent, to wait behind it."""
        if not rows:
            return
        ids = [row.item_id for row in rows]
        await self._store(self._give_back, rows[0], ids)
        self._held.difference_update(ids)

    async def _give_back(self, _row: Claimed, ids: object) -> None:
        assert isinstance(ids, list)
        async with UnitOfWork(self.db, self.cipher) as uow:
            await uow.outbox.give_back(ids, self.token)

    async def _send_row(self, row: Claimed) -> bool:
        channel = self.channels[row.channel]
        pacer = self.pacers.get(row.channel)
        if pacer is not None:
            urgent = row.message.meta.get("urgent") is True
            await pacer.wait_turn(row.message.address, urgent=urgent)
        result, resend_in_doubt = None, False
        if row.in_doubt_since is not None:
            result, resend_in_doubt = await self._settle_doubt(row, channel)
        if result is None:
            await self._store(self._begin, row, resend_in_doubt)
            try:
                result = await channel.send(row.message)
            except Exception as exc:  # an adapter bug must not stop the queue
                log.exception("send failed on %s (outbox %d)", row.channel, row.item_id)
                result = SendResult(status="retry", error=type(exc).__name__)
            if result.retry_after and pacer is not None:
                pacer.hold(result.retry_after, row.message.address)
        await self._store(self._record, row, result)
        return result.status != "retry"

    async def _settle_doubt(self, row: Claimed, channel: Channel) -> tuple[SendResult | None, bool]:
        """An earlier attempt may have arrived. (result, False): that settles it, nothing is
        sent. (None, False): it certainly did not, send. (None, True): nobody can tell (no
        lookup on this channel): re-send, once, counted."""
        since = row.in_doubt_since
        assert since is not None
        if isinstance(channel, SentLookup):
            found = await channel.find_sent(row.message, since)
            if found is None:
                return SendResult("retry", error="lookup_failed", in_doubt=True), False
            async with UnitOfWork(self.db, self.cipher) as uow:
                known = await uow.outbox.known_provider_ids(row.channel, found)
            ours = [provider_id for provider_id in found if provider_id not in known]
            if ours:
                log.info("outbox %d had gone through; recorded without resending", row.item_id)
                return SendResult("sent", provider_id=ours[0]), False
            return None, False
        if row.doubt_resends >= 1:  # re-sent in doubt once already: never again
            log.warning("outbox %d: outcome unknown twice; taken as sent", row.item_id)
            return SendResult("sent", error="unconfirmed"), False
        log.warning("outbox %d: outcome unknown and no lookup; re-sending once", row.item_id)
        return None, True

    async def _store(
        self, write: Callable[[Claimed, object], Awaitable[None]], row: Claimed, arg: object
    ) -> None:
        """Write an attempt or a result until it is written. Sending again is never the
        answer to a failed write; if the process dies meanwhile, the next one settles it."""
        delay = 0.1
        while True:
            try:
                await write(row, arg)
                return
            except ClaimLost:
                raise
            except Exception as exc:
                failure = type(exc).__name__
                log.warning("outbox %d: write failed (%s); trying again", row.item_id, failure)
            await asyncio.sleep(delay)
            delay = min(delay * 2, STORE_RETRY_MAX)

    async def _begin(self, row: Claimed, resend_in_doubt: object) -> None:
        async with UnitOfWork(self.db, self.cipher) as uow:
            now = self.clock.now()
            began = await uow.outbox.begin_attempt(
                row.item_id, self.token, now, now + self.lease, doubt=bool(resend_in_doubt)
            )
        if not began:
            raise ClaimLost(row.item_id)
        if resend_in_doubt:
            log.info("outbox %d re-sent in doubt (doubt_resends)", row.item_id)

    async def _record(self, row: Claimed, result: object) -> None:
        assert isinstance(result, SendResult)
        async with UnitOfWork(self.db, self.cipher) as uow:
            now = self.clock.now()
            stmt = select(OutboxItem).where(OutboxItem.id == row.item_id).with_for_update()
            item = (await uow.session.execute(stmt)).scalar_one_or_none()
            if item is None:
                return
            ours = item.status == "sending" and item.claim_token == self.token
            unheld = item.status == "pending" and item.claim_token is None
            if not (ours or unheld):  # taken over: the new holder settles the doubt
                raise ClaimLost(row.item_id)
            await outcomes.apply(uow, now, item, row, result, self.policy, self.notices)

    async def release_expired(self) -> int:
        async with UnitOfWork(self.db, self.cipher) as uow:
            return await uow.outbox.release_expired_claims(self.clock.now())

    # -- the loops ----------------------------------------------------------------------

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
            if self._renewal is not None and not self._held:
                self._renewal.cancel()

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
                    if not await self._send_one(row):
                        rest, queue[:] = list(queue), []
                        self._unsent -= len(rest)
                        await self._release(rest)
                except Exception:
                    log.exception("outbox %d: send or record failed", row.item_id)
                finally:
                    self._unsent -= 1
        finally:
            del self._queued[key], self._senders[key]


async def _wait(wake: asyncio.Event, idle: float) -> None:
    wake.clear()
    try:
        await asyncio.wait_for(wake.wait(), timeout=idle)
    except TimeoutError:
        pass
