"""Delivery receipts: what the provider later says about a message we handed over.

A receipt names the provider's message id and a status. It moves the outbox row forward
(sent -> queued/sent -> delivered | undelivered | failed), never backwards, because receipts
can arrive late, twice or out of order. A message that could not be delivered to a survivor
is a contact-loss signal for their advocate; error 21610 (the number has opted out with the
carrier) is permanent: the channel identity is marked opted out, and nothing more is sent on
it until the survivor opts in again.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from bot.messaging.staff_notices import StaffNotices
from bot.ports import Clock, Receipt
from bot.store.crypto import Cipher
from bot.store.database import Database
from bot.store.delivery import DeliveryRecords
from bot.store.models import Identity, OutboxItem
from bot.store.uow import UnitOfWork

log = logging.getLogger(__name__)

OPTED_OUT_ERROR = 21610
# How far along a message is. A receipt only ever moves a row to a higher rank.
RANK = {"sending": 0, "sent": 1, "queued": 1, "delivered": 3, "undelivered": 3, "failed": 3}
RECORDED = ("queued", "sent", "delivered", "undelivered", "failed")
NOT_DELIVERED = ("undelivered", "failed")
# Identity states in which the survivor has already been reported as out of reach.
ALREADY_REPORTED = ("stopped", "opted_out", "blocked")


class DeliveryReceipts:
    def __init__(
        self,
        db: Database,
        cipher: Cipher,
        notices: StaffNotices,
        clock: Clock,
        *,
        channel: str = "sms",
        unknown_wait: float = 2.0,
        outbox_wake: asyncio.Event | None = None,
    ) -> None:
        self.db = db
        self.cipher = cipher
        self.notices = notices
        self.clock = clock
        self.channel = channel
        self.unknown_wait = unknown_wait
        self.outbox_wake = outbox_wake  # set when an alert was queued, so it goes out now

    async def record(self, receipt: Receipt) -> bool:
        """Apply one receipt. False when no outbox row carries that id (yet).

        A receipt can overtake the recording of the send it is about (the provider answers
        the send and posts the receipt at once), so an unknown id is looked for again for a
        short while before giving up."""
        if receipt.status not in RECORDED:
            return True  # accepted/sending/receiving: nothing to record
        deadline = asyncio.get_running_loop().time() + self.unknown_wait
        while True:
            if await self._apply(receipt):
                return True
            if asyncio.get_running_loop().time() >= deadline:
                log.info("a %s receipt matched no outbox row", receipt.status)
                return False
            await asyncio.sleep(0.2)

    async def _apply(self, receipt: Receipt) -> bool:
        async with UnitOfWork(self.db, self.cipher) as uow:
            records = DeliveryRecords(uow.session)
            item = await records.outbox_by_provider_id(self.channel, receipt.provider_id, lock=True)
            if item is None:
                return False
            if RANK.get(receipt.status, 0) <= RANK.get(item.status, 0):
                return True  # late or repeated: the row already knows as much
            item.status = receipt.status
            if receipt.error_code is not None:
                item.last_error = f"twilio:{receipt.error_code}"
            if receipt.status in NOT_DELIVERED:
                await self._not_delivered(uow, self.clock.now(), item, receipt)
            return True

    async def _not_delivered(
        self, uow: UnitOfWork, now: datetime, item: OutboxItem, receipt: Receipt
    ) -> None:
        identity = await uow.session.get(Identity, item.identity_id)
        if identity is None:
            return
        previous = identity.status
        opted_out = receipt.error_code == OPTED_OUT_ERROR
        if opted_out:
            identity.status = "opted_out"
        log.warning(
            "outbox %d was %s on %s (error %s)",
            item.id,
            receipt.status,
            self.channel,
            receipt.error_code,
        )
        uow.audit.record(
            "system",
            f"delivery.{receipt.status}",
            now,
            survivor_id=item.survivor_id,
            channel=self.channel,
            error=receipt.error_code,
        )
        if identity.survivor_id is None or previous in ALREADY_REPORTED:
            return  # a staff address (the escalation chain re-alerts), or already reported
        survivor = await uow.people.survivor(identity.survivor_id)
        if survivor is None:
            return
        if opted_out:
            reason, error = "blocked", "opted_out"
        else:
            reason, error = "undelivered", str(receipt.error_code or receipt.status)
        await self.notices.contact_loss(uow, now, survivor, reason, self.channel, error=error)
        if self.outbox_wake is not None:
            self.outbox_wake.set()  # harmless if set before the commit: the sender polls too
