"""The durable inbox and outbox. Never commits: services own the transaction.

Claims are atomic on both databases: PostgreSQL uses `FOR UPDATE SKIP LOCKED`; SQLite, which
silently ignores SKIP LOCKED, uses a compare-and-set UPDATE whose rowcount tells who won.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, Table, and_, exists, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.store import pending
from bot.store.crypto import Cipher
from bot.store.models import InboxItem, OutboxItem
from bot.store.parts import split_payload

INBOX_PAYLOAD = "inbox.payload"
OUTBOX_PAYLOAD = "outbox.payload"
OUTBOX = cast(Table, OutboxItem.__table__)


def _rowcount(result: object) -> int:
    return cast(CursorResult[Any], result).rowcount


def _earlier_waiting(token: str) -> ColumnElement[bool]:
    """An earlier row to the same address, of the same or a higher priority, that is waiting
    (pending, perhaps for a retry) or held by another sender."""
    earlier = aliased(OutboxItem)
    return exists().where(
        earlier.identity_id == OutboxItem.identity_id,
        earlier.id < OutboxItem.id,
        earlier.priority >= OutboxItem.priority,
        or_(
            earlier.status == "pending",
            and_(earlier.status == "sending", earlier.claim_token != token),
        ),
    )


class Inbox:
    def __init__(self, session: AsyncSession, cipher: Cipher) -> None:
        self.session = session
        self.cipher = cipher

    async def store(
        self, channel: str, provider_id: str, payload: Mapping[str, Any], now: datetime
    ) -> int | None:
        """Store a raw payload; None when (channel, provider_id) is already stored."""
        return (await self.store_many([(channel, provider_id, payload)], now))[0]

    async def store_many(
        self, rows: Sequence[tuple[str, str, Mapping[str, Any]]], now: datetime
    ) -> list[int | None]:
        """Store several raw payloads with one statement (a group commit under load). For each
        row, in order: its inbox id, or None when (channel, provider_id) is already stored,
        before or earlier in `rows`. Ids follow the order of `rows`."""
        first: dict[tuple[str, str], int] = {}
        values: list[dict[str, Any]] = []
        for n, (channel, provider_id, payload) in enumerate(rows):
            if (channel, provider_id) in first:
                continue
            first[(channel, provider_id)] = n
            values.append(
                {
                    "channel": channel,
                    "provider_id": provider_id,
                    "payload_enc": self.cipher.encrypt_text(json.dumps(payload), INBOX_PAYLOAD),
                    "received_at": now,
                    "attempts": 0,
                }
            )
        dialect = self.session.get_bind().dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        stmt = (
            insert(InboxItem)
            .values(values)
            .on_conflict_do_nothing(index_elements=["channel", "provider_id"])
            .returning(InboxItem.id, InboxItem.channel, InboxItem.provider_id)
        )
        stored = {(r.channel, r.provider_id): r.id for r in await self.session.execute(stmt)}
        return [
            stored.get((channel, provider_id)) if first[(channel, provider_id)] == n else None
            for n, (channel, provider_id, _payload) in enumerate(rows)
        ]

    async def claim(self, inbox_id: int, now: datetime) -> InboxItem | None:
        """Mark one row processed inside the caller's transaction; None if someone else did."""
        stmt = (
            update(InboxItem)
            .where(InboxItem.id == inbox_id, InboxItem.processed_at.is_(None))
            .values(processed_at=now, attempts=InboxItem.attempts + 1)
        )
        if _rowcount(await self.session.execute(stmt)) != 1:
            return None
        return await self.session.get(InboxItem, inbox_id)

    async def claim_many(self, inbox_ids: Sequence[int], now: datetime) -> list[InboxItem]:
        """Mark several rows processed inside the caller's transaction, in one statement; the
        rows this transaction won, in id order (others were processed here or elsewhere)."""
        stmt = (
            update(InboxItem)
            .where(InboxItem.id.in_(inbox_ids), InboxItem.processed_at.is_(None))
            .values(processed_at=now, attempts=InboxItem.attempts + 1)
            .returning(InboxItem)
            .execution_options(synchronize_session=False)
        )
        items = list((await self.session.execute(stmt)).scalars())
        return sorted(items, key=lambda item: item.id)

    async def unclaim(self, inbox_ids: Sequence[int]) -> None:
        """Give back rows claimed in this transaction that it did not get to process."""
        if inbox_ids:
            await self.session.execute(
                update(InboxItem)
                .where(InboxItem.id.in_(inbox_ids))
                .values(processed_at=None, attempts=InboxItem.attempts - 1)
                .execution_options(synchronize_session=False)
            )

    async def forget_payloads(self, inbox_ids: Sequence[int]) -> None:
        """Keep only the dedupe key (channel, provider id) of messages Harbour ignores: a
        group chat's talk, a channel post. Nothing of it is Harbour's to keep."""
        if inbox_ids:
            await self.session.execute(
                update(InboxItem)
                .where(InboxItem.id.in_(inbox_ids))
                .values(payload_enc=None)
                .execution_options(synchronize_session=False)
            )

    def payload(self, item: InboxItem) -> dict[str, Any]:
        if item.payload_enc is None:
            return {}
        return cast(
            dict[str, Any], json.loads(self.cipher.decrypt_text(item.payload_enc, INBOX_PAYLOAD))
        )

    async def record_failure(self, inbox_id: int, error: str, give_up: bool, now: datetime) -> None:
        values: dict[str, Any] = {"attempts": InboxItem.attempts + 1, "error": error[:200]}
        if give_up:
            values["processed_at"] = now
        await self.session.execute(
            update(InboxItem).where(InboxItem.id == inbox_id).values(**values)
        )

    async def unprocessed(self, limit: int = 500) -> Sequence[int]:
        stmt = (
            select(InboxItem.id)
            .where(InboxItem.processed_at.is_(None))
            .order_by(InboxItem.id)
            .limit(limit)
        )
        return list((await self.session.execute(stmt)).scalars())


class Outbox:
    def __init__(self, session: AsyncSession, cipher: Cipher) -> None:
        self.session = session
        self.cipher = cipher
        self._added: list[OutboxItem] = []  # rows `add`ed that may not be written yet

    def add(
        self,
        *,
        channel: str,
        identity_id: int,
        payload: Mapping[str, Any],
        now: datetime,
        kind: str = "message",
        priority: int = 0,
        survivor_id: int | None = None,
        status: str = "pending",  # "preparing": a relay waiting for its translation
    ) -> OutboxItem:
        """Queue a send; the row is returned (its id comes at the session's next flush).
        A text too long for the channel is queued as several rows (parts.py): the first is
        returned, the others follow it."""
        payloads = [payload] if status != "pending" else split_payload(channel, kind, payload)
        rows = [
            self._row(channel, identity_id, part, now, kind, priority, survivor_id, status)
            for part in payloads
        ]
        added = [self._add_row(row) for row in rows]
        return added[0]

    def queue(
        self,
        *,
        channel: str,
        identity_id: int,
        payload: Mapping[str, Any],
        now: datetime,
        kind: str = "message",
        priority: int = 0,
        survivor_id: int | None = None,
    ) -> None:
        """`add` for a caller that does not need the row: it is written with the other rows
        of this transaction in one statement (pending.py). The sender goes by priority, then
        by id, so rows must get their ids in the order they were queued: after a row `add`ed
        and not yet written, this one is added the same way. A long text is split (parts.py)."""
        for part in split_payload(channel, kind, payload):
            row = self._row(channel, identity_id, part, now, kind, priority, survivor_id, "pending")
            self._added = [item for item in self._added if item.id is None]  # id: written
            if self._added:
                self._add_row(row)
            else:
                pending.queue(self.session, OUTBOX, row)

    def _add_row(self, row: dict[str, Any]) -> OutboxItem:
        item = OutboxItem(**row)
        self.session.add(item)
        self._added.append(item)
        return item

    def _row(
        self,
        channel: str,
        identity_id: int,
        payload: Mapping[str, Any],
        now: datetime,
        kind: str,
        priority: int,
        survivor_id: int | None,
        status: str,
    ) -> dict[str, Any]:
        return {
            "channel": channel,
            "identity_id": identity_id,
            "survivor_id": survivor_id,
            "kind": kind,
            "priority": priority,
            "payload_enc": self.cipher.encrypt_text(json.dumps(payload), OUTBOX_PAYLOAD),
            "status": status,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }

    def payload(self, item: OutboxItem) -> dict[str, Any]:
        if item.payload_enc is None:
            return {}
        return cast(
            dict[str, Any], json.loads(self.cipher.decrypt_text(item.payload_enc, OUTBOX_PAYLOAD))
        )

    async def claim_due(
        self,
        now: datetime,
        lease: timedelta,
        limit: int,
        channels: Sequence[str],
        min_priority: int | None = None,
        token: str = "",
    ) -> list[OutboxItem]:
        """Claim up to `limit` due rows, highest priority first, for the sender holding `token`.

        Order per address: a row is claimed only when no earlier row to the same address, of
        the same or a higher priority, is still waiting (pending, perhaps for a retry) or held
        by another sender. Urgent rows may overtake ordinary ones; nothing else overtakes."""
        conditions = [
            OutboxItem.status == "pending",
            OutboxItem.next_attempt_at <= now,
            OutboxItem.channel.in_(channels),
        ]
        if min_priority is not None:
            conditions.append(OutboxItem.priority >= min_priority)
        due = (
            select(OutboxItem.id)
            .where(*conditions)
            .order_by(OutboxItem.priority.desc(), OutboxItem.id)
            .limit(limit)
        )
        if self.session.get_bind().dialect.name == "postgresql":
            due = due.with_for_update(skip_locked=True)
        ids = list((await self.session.execute(due)).scalars())
        claimed: list[OutboxItem] = []
        for item_id in ids:  # in queue order, so a row's predecessors are claimed before it
            cas = (
                update(OutboxItem)
                .where(
                    OutboxItem.id == item_id,
                    OutboxItem.status == "pending",
                    ~_earlier_waiting(token),
                )
                .values(status="sending", claimed_until=now + lease, claim_token=token or None)
                .execution_options(synchronize_session=False)
            )
            if _rowcount(await self.session.execute(cas)) == 1:
                item = await self.session.get(OutboxItem, item_id, populate_existing=True)
                if item is not None:
                    claimed.append(item)
        return claimed

    async def renew_claims(self, ids: Sequence[int], token: str, until: datetime) -> int:
        """A live sender keeps what it holds: its leases are moved on."""
        if not ids:
            return 0
        stmt = (
            update(OutboxItem)
            .where(
                OutboxItem.id.in_(ids),
                OutboxItem.status == "sending",
                OutboxItem.claim_token == token,
            )
            .values(claimed_until=until)
            .execution_options(synchronize_session=False)
        )
        return _rowcount(await self.session.execute(stmt))

    async def give_back(self, ids: Sequence[int], token: str) -> int:
        """Claimed rows this sender will not send now go back to the queue, as they were."""
        stmt = (
            update(OutboxItem)
            .where(
                OutboxItem.id.in_(ids),
                OutboxItem.status == "sending",
                OutboxItem.claim_token == token,
            )
            .values(status="pending", claimed_until=None, claim_token=None)
            .execution_options(synchronize_session=False)
        )
        return _rowcount(await self.session.execute(stmt))

    async def begin_attempt(
        self, item_id: int, token: str, now: datetime, until: datetime, doubt: bool = False
    ) -> bool:
        """Write down that the provider is about to be called (committed before the call).
        `doubt`: this is a re-send while an earlier attempt's outcome is unknown (counted).
        False: this sender no longer holds the row, so it must not send it."""
        stmt = (
            update(OutboxItem)
            .where(
                OutboxItem.id == item_id,
                OutboxItem.status == "sending",
                OutboxItem.claim_token == token,
            )
            .values(
                attempt_at=now,
                claimed_until=until,
                first_attempt_at=func.coalesce(OutboxItem.first_attempt_at, now),
                doubt_resends=OutboxItem.doubt_resends + (1 if doubt else 0),
            )
            .execution_options(synchronize_session=False)
        )
        return _rowcount(await self.session.execute(stmt)) == 1

    async def known_provider_ids(self, channel: str, ids: Sequence[str]) -> set[str]:
        """Which of these provider ids already belong to an outbox row."""
        if not ids:
            return set()
        stmt = select(OutboxItem.provider_id).where(
            OutboxItem.channel == channel, OutboxItem.provider_id.in_(ids)
        )
        return {str(found) for found in (await self.session.execute(stmt)).scalars()}

    async def release_held(self, survivor_id: int, now: datetime) -> int:
        """The survivor wrote again: what was held while they could not talk goes out now."""
        stmt = (
            update(OutboxItem)
            .where(OutboxItem.survivor_id == survivor_id, OutboxItem.status == "held")
            .values(status="pending", next_attempt_at=now)
        )
        return _rowcount(await self.session.execute(stmt))

    async def release_expired_claims(self, now: datetime) -> int:
        """Rows left 'sending' by a process that died go back to pending."""
        stmt = (
            update(OutboxItem)
            .where(OutboxItem.status == "sending", OutboxItem.claimed_until < now)
            .values(status="pending", claimed_until=None, claim_token=None)
        )
        return _rowcount(await self.session.execute(stmt))

    async def next_due_at(self, channels: Sequence[str]) -> datetime | None:
        stmt = select(func.min(OutboxItem.next_attempt_at)).where(
            OutboxItem.status == "pending", OutboxItem.channel.in_(channels)
        )
        due: datetime | None = (await self.session.execute(stmt)).scalar_one_or_none()
        return due

    async def get(self, item_id: int) -> OutboxItem | None:
        return await self.session.get(OutboxItem, item_id)
