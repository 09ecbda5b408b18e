"""What one send's result does to its outbox row: sent, retried later, or given up.

Retries back off (1, 2, 4 ... seconds, capped at about five minutes) for a window that is at
least `retry_window` long (24 hours by default) and at least `max_attempts` tries, before
the row is given up. Urgent rows (escalations, urgent safety replies) never give up: an
outage only delays them. Giving up is never silent: a survivor's advocate is told the
survivor is out of reach; a staff address that stopped working has its message passed on to
whoever is responsible now, and the admins are told (bot/messaging/staff_addresses.py).
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.messaging import staff_addresses
from bot.messaging.staff_notices import StaffNotices
from bot.ports import SendResult
from bot.staff.routing import PRIORITY_URGENT
from bot.store.models import Identity, OutboxItem
from bot.store.uow import UnitOfWork

if TYPE_CHECKING:
    from bot.messaging.outbox import Claimed

log = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 300.0
RETRY_WINDOW = timedelta(hours=24)


def backoff_seconds(attempts: int) -> float:
    """1, 2, 4 ... seconds, capped at five minutes, with jitter so retries do not arrive in
    step."""
    base = min(2.0 ** max(attempts - 1, 0), MAX_BACKOFF_SECONDS)
    jittered = base * random.uniform(0.8, 1.2)  # noqa: S311 - jitter, not security
    return min(jittered, MAX_BACKOFF_SECONDS)


def is_urgent(item: OutboxItem) -> bool:
    """Escalations and urgent safety replies: they go before any backlog, and never give up."""
    return item.kind == "escalation" or item.priority >= PRIORITY_URGENT


@dataclass(frozen=True)
class RetryPolicy:
    window: timedelta = RETRY_WINDOW
    min_attempts: int = 8

    def gives_up(self, item: OutboxItem, now: datetime) -> bool:
        if is_urgent(item):
            return False
        started = item.first_attempt_at or item.created_at
        return now - started >= self.window and item.attempts >= self.min_attempts


async def apply(
    uow: UnitOfWork,
    now: datetime,
    item: OutboxItem,
    row: Claimed,
    result: SendResult,
    policy: RetryPolicy,
    notices: StaffNotices,
) -> None:
    """Record `result` on the row (which the caller holds, locked)."""
    item.attempts += 1
    item.claimed_until, item.claim_token = None, None
    item.last_error = result.error
    # Still set after this only while the last attempt's outcome is unknown.
    item.attempt_at = item.attempt_at if result.in_doubt and result.status == "retry" else None
    if result.moved_to:  # a migrated Telegram group: store where it went
        await staff_addresses.address_moved(uow, now, item.identity_id, result.moved_to)
    if result.status == "sent":
        item.status, item.provider_id, item.sent_at = "sent", result.provider_id, now
        return
    if result.status == "retry" and not policy.gives_up(item, now):
        delay = max(result.retry_after or 0.0, backoff_seconds(item.attempts))
        item.status, item.next_attempt_at = "pending", now + timedelta(seconds=delay)
        return
    item.status = "failed"
    gave_up = result.status == "retry"
    if gave_up:
        item.last_error = f"gave_up:{result.error or 'retry'}"
    log.warning("outbox %d failed on %s: %s", item.id, item.channel, item.last_error)
    await _after_failure(uow, now, item, row, result, notices, gave_up)


async def _after_failure(
    uow: UnitOfWork,
    now: datetime,
    item: OutboxItem,
    row: Claimed,
    result: SendResult,
    notices: StaffNotices,
    gave_up: bool,
) -> None:
    identity = await uow.session.get(Identity, item.identity_id)
    if identity is not None and identity.staff_id is not None:
        failed = {
            "kind": row.message.kind,
            "priority": row.priority,
            "survivor_id": item.survivor_id,
            "payload": {"text": row.message.text, "choices": list(row.message.choices)}
            | {k: v for k, v in row.message.meta.items() if k != "urgent"},
        }
        if gave_up:
            await staff_addresses.staff_send_gave_up(uow, now, identity, failed, notices.texts)
            return
        await staff_addresses.staff_address_failed(
            uow, now, identity, failed, result, notices.texts
        )
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
        await notices.contact_loss(
            uow, now, survivor, reason, row.channel, error=result.permanent or ""
        )
