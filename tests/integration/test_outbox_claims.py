"""Outbox claims at the store: one address's rows leave in order, a claim names its holder,
and a holder whose claim was taken over can neither send nor renew it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.settings import Settings
from bot.store.crypto import Cipher
from bot.store.database import Database, open_store
from bot.store.uow import UnitOfWork

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
LEASE = timedelta(minutes=2)


async def queue(
    settings: Settings, texts: dict[str, list[tuple[str, int]]]
) -> tuple[Database, Cipher]:
    """texts: address -> [(text, priority)], queued in that order."""
    db, cipher = await open_store(settings)
    async with UnitOfWork(db, cipher) as uow:
        for address, rows in texts.items():
            survivor = await uow.people.new_survivor(NOW, status="active")
            identity = await uow.people.add_identity("local", address, NOW, survivor=survivor)
            await uow.session.flush()
            for text, priority in rows:
                uow.outbox.add(
                    channel="local", identity_id=identity.id, payload={"text": text}, now=NOW,
                    priority=priority,
                )  # fmt: skip
    return db, cipher


async def claim(db: Database, cipher: Cipher, token: str, limit: int = 10) -> list[str]:
    async with UnitOfWork(db, cipher) as uow:
        rows = await uow.outbox.claim_due(NOW, LEASE, limit, ["local"], token=token)
        return [str(uow.outbox.payload(row)["text"]) for row in rows]


async def test_a_row_held_by_one_sender_holds_back_its_address_for_another(
    settings: Settings,
) -> None:
    db, cipher = await queue(settings, {"s1": [("a1", 0), ("a2", 0)], "s2": [("b1", 0)]})
    try:
        assert await claim(db, cipher, "A", limit=1) == ["a1"]
        assert await claim(db, cipher, "B") == ["b1"]  # not a2: a1 is still A's
        assert await claim(db, cipher, "A") == ["a2"]  # A may queue it behind a1
    finally:
        await db.close()


async def test_a_row_waiting_for_a_retry_holds_back_later_rows_but_not_urgent_ones(
    settings: Settings,
) -> None:
    db, cipher = await queue(settings, {"s1": [("a1", 0), ("a2", 0), ("alarm", 100)]})
    try:
        async with UnitOfWork(db, cipher) as uow:
            (first,) = await uow.outbox.claim_due(NOW, LEASE, 1, ["local"], token="A")
            assert uow.outbox.payload(first)["text"] == "alarm"  # urgent overtakes
            first.status, first.claim_token = "sent", None
        async with UnitOfWork(db, cipher) as uow:
            (head,) = await uow.outbox.claim_due(NOW, LEASE, 1, ["local"], token="A")
            head.status, head.claim_token = "pending", None  # failed: retry in a minute
            head.next_attempt_at = NOW + timedelta(minutes=1)
        assert await claim(db, cipher, "A") == []  # a2 waits behind a1
        assert await claim(db, cipher, "B") == []
    finally:
        await db.close()


async def test_a_lapsed_claim_taken_over_cannot_be_sent_or_renewed_by_its_old_holder(
    settings: Settings,
) -> None:
    db, cipher = await queue(settings, {"s1": [("a1", 0)]})
    try:
        async with UnitOfWork(db, cipher) as uow:
            (row,) = await uow.outbox.claim_due(NOW, LEASE, 1, ["local"], token="A")
            row_id = row.id
        async with UnitOfWork(db, cipher) as uow:
            assert await uow.outbox.renew_claims([row_id], "B", NOW + LEASE) == 0
            assert await uow.outbox.renew_claims([row_id], "A", NOW + LEASE) == 1
            assert await uow.outbox.release_expired_claims(NOW + 2 * LEASE) == 1
        assert await claim(db, cipher, "B") == ["a1"]
        async with UnitOfWork(db, cipher) as uow:
            assert not await uow.outbox.begin_attempt(row_id, "A", NOW, NOW + LEASE)
            assert await uow.outbox.renew_claims([row_id], "A", NOW + LEASE) == 0
            assert await uow.outbox.begin_attempt(row_id, "B", NOW, NOW + LEASE)
    finally:
        await db.close()
