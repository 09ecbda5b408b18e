"""Outbound on Telegram through the durable outbox: paced under the fake's strict flood limits,
429 and 5xx retried, a blocked bot raised to the advocate as contact loss."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.bootstrap import Harbour
from bot.messaging.pacing import ChannelPacer, Limits
from bot.settings import Settings
from bot.store.models import AuditEvent, OutboxItem
from bot.store.records import unseal_detail
from bot.store.uow import UnitOfWork
from tests.fakes.telegram_api import FakeTelegram
from tests.integration.telegram_harness import (
    ADVOCATE_CHAT,
    add_telegram_staff,
    enrol_on_telegram,
    scaled_pacer,
    start_harbour,
    stop_harbour,
    texts_to,
)

CHAT = 5_550_301
WINDOW = 0.25  # the fake's "second": both limits scaled down four times


async def queue(harbour: Harbour, chat_id: int, texts: list[str]) -> None:
    async with UnitOfWork(harbour.db, harbour.cipher) as uow:
        identity = await uow.people.identity("telegram", str(chat_id))
        assert identity is not None
        for text in texts:
            uow.outbox.add(
                channel="telegram", identity_id=identity.id, payload={"text": text},
                now=harbour.clock.now(),
            )  # fmt: skip


async def rows(harbour: Harbour, chat_id: int) -> list[OutboxItem]:
    async with UnitOfWork(harbour.db, harbour.cipher) as uow:
        identity = await uow.people.identity("telegram", str(chat_id))
        assert identity is not None
        stmt = select(OutboxItem).where(OutboxItem.identity_id == identity.id)
        return list((await uow.session.execute(stmt.order_by(OutboxItem.id))).scalars())


async def make_due_now(harbour: Harbour) -> None:
    async with UnitOfWork(harbour.db, harbour.cipher) as uow:
        for row in (await uow.session.execute(select(OutboxItem))).scalars():
            row.next_attempt_at = harbour.clock.now()


@pytest.fixture
async def strict() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(rate_window=WINDOW) as server:
        yield server


async def test_burst_of_300_to_10_chats_gets_no_429(
    settings: Settings, strict: FakeTelegram
) -> None:
    harbour, channel = await start_harbour(settings, strict, pacer=scaled_pacer(WINDOW))
    try:
        chats = [CHAT + n for n in range(10)]
        for chat in chats:
            await enrol_on_telegram(harbour, chat, None)
            await queue(harbour, chat, [f"{chat} #{n}" for n in range(30)])
        started = time.monotonic()
        await harbour.drain(rounds=20)
        elapsed = time.monotonic() - started
        assert strict.too_many_requests_sent == 0
        for chat in chats:
            assert texts_to(strict, chat) == [f"{chat} #{n}" for n in range(30)]  # in order
            assert all(
                row.status == "sent" and row.provider_id for row in await rows(harbour, chat)
            )
        assert elapsed >= 29 * 1.4 * WINDOW * 0.95  # paced per chat, not merely lucky
    finally:
        await stop_harbour(harbour, channel)


async def test_429_retry_after_is_honoured(settings: Settings, strict: FakeTelegram) -> None:
    # No per-chat gap in the pacer and the adapter's guard off, so the second message
    # breaks the fake's limit.
    unpaced = ChannelPacer(Limits(per_second=1000.0))
    harbour, channel = await start_harbour(settings, strict, pacer=unpaced, flood_window=0.0)
    try:
        await enrol_on_telegram(harbour, CHAT, None)
        await queue(harbour, CHAT, ["first", "second"])
        before = harbour.clock.now()
        await harbour.sender.send_due()
        first, second = await rows(harbour, CHAT)
        assert strict.too_many_requests_sent == 1
        assert first.status == "sent" and second.status == "pending"
        assert second.last_error == "rate_limited"
        assert second.next_attempt_at >= before + timedelta(seconds=1)  # retry_after, at least
        assert await harbour.sender.send_due() == 0  # not due yet
        assert unpaced._next_for[str(CHAT)] >= time.monotonic() + 0.5  # the chat is held
        await make_due_now(harbour)
        await harbour.drain()
        assert texts_to(strict, CHAT) == ["first", "second"]
    finally:
        await stop_harbour(harbour, channel)


async def test_server_errors_back_off_then_succeed(settings: Settings) -> None:
    async with FakeTelegram(per_chat_limit=1000) as fake:
        harbour, channel = await start_harbour(settings, fake)
        try:
            await enrol_on_telegram(harbour, CHAT, None)
            await queue(harbour, CHAT, ["hello"])
            fake.fail_next(2, status=502, method="sendMessage")
            delays = []
            for _ in range(2):
                now = harbour.clock.now()
                await harbour.sender.send_due()
                (row,) = await rows(harbour, CHAT)
                assert row.status == "pending" and row.last_error == "server_error"
                delays.append((row.next_attempt_at - now).total_seconds())
                assert await harbour.sender.send_due() == 0  # waits for its backoff
                await make_due_now(harbour)
            await harbour.sender.send_due()
            (row,) = await rows(harbour, CHAT)
            assert row.status == "sent" and row.attempts == 3
            assert delays[0] >= 0.8 and delays[1] >= 1.6  # 1 s then 2 s, with jitter
            assert texts_to(fake, CHAT) == ["hello"]
        finally:
            await stop_harbour(harbour, channel)


async def test_blocked_bot_marks_the_identity_and_alerts_the_advocate(settings: Settings) -> None:
    async with FakeTelegram(per_chat_limit=1000) as fake:
        harbour, channel = await start_harbour(settings, fake)
        try:
            advocate = await add_telegram_staff(harbour)
            case = await enrol_on_telegram(harbour, CHAT, advocate)
            fake.block(CHAT)
            await queue(harbour, CHAT, ["your appointment is tomorrow"])
            await harbour.drain()
            async with UnitOfWork(harbour.db, harbour.cipher) as uow:
                identity = await uow.people.identity("telegram", str(CHAT))
                assert identity is not None and identity.status == "blocked"
                signal = AuditEvent.action == "contact_loss.signal"
                (event,) = (await uow.session.execute(select(AuditEvent).where(signal))).scalars()
                assert unseal_detail(harbour.cipher, event)["reason"] == "blocked"
            (alert,) = texts_to(fake, ADVOCATE_CHAT)
            assert case in alert and str(CHAT) not in alert
            assert fake.calls_to("sendMessage")[-1].status == 200
        finally:
            await stop_harbour(harbour, channel)
