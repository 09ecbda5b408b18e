"""Building a real Harbour whose Telegram channel talks to the loopback fake Bot API."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import timedelta

from bot.bootstrap import Harbour, build
from bot.channels.telegram.channel import TelegramChannel, build_bot
from bot.messaging.pacing import ChannelPacer, Limits
from bot.settings import Settings
from bot.store.uow import UnitOfWork
from tests.fakes.telegram_api import DEFAULT_TOKEN, FakeTelegram

ADVOCATE_CHAT = 7_000_001


def channel_for(
    fake: FakeTelegram,
    *,
    mode: str = "polling",
    secret: str | None = None,
    flood_window: float | None = None,
) -> TelegramChannel:
    """`flood_window` defaults to the fake's window; 0 turns the adapter's guard off."""
    return TelegramChannel(
        build_bot(DEFAULT_TOKEN, fake.url),
        mode=mode,  # type: ignore[arg-type]
        webhook_secret=secret,
        poll_timeout=1.0,
        flood_window=fake.limiter.window if flood_window is None else flood_window,
    )


def scaled_pacer(window: float) -> ChannelPacer:
    """The production Telegram pacer (29/s overall, 1.05 s a chat) for a fake whose
    `rate_window` shrinks a second to `window`, with a wider margin for loopback jitter."""
    return ChannelPacer(Limits(per_second=25.0 / window, per_address_interval=1.4 * window))


async def start_harbour(
    settings: Settings,
    fake: FakeTelegram,
    *,
    pacer: ChannelPacer | None = None,
    mode: str = "polling",
    secret: str | None = None,
    flood_window: float | None = None,
) -> tuple[Harbour, TelegramChannel]:
    channel = channel_for(fake, mode=mode, secret=secret, flood_window=flood_window)
    pacers = {"telegram": pacer} if pacer is not None else {}
    harbour = await build(settings, {"telegram": channel}, pacers=pacers)
    return harbour, channel


async def stop_harbour(harbour: Harbour, channel: TelegramChannel) -> None:
    await channel.stop()
    await harbour.close()


async def add_telegram_staff(
    harbour: Harbour, chat_id: int = ADVOCATE_CHAT, handle: str = "amira", role: str = "advocate"
) -> int:
    async with UnitOfWork(harbour.db, harbour.cipher) as uow:
        now = harbour.clock.now()
        staff = await uow.people.add_staff(handle, role, "en", now)
        await uow.people.add_identity("telegram", str(chat_id), now, staff=staff)
        return staff.id


async def enrol_on_telegram(
    harbour: Harbour, chat_id: int, advocate_id: int | None, language: str | None = "en"
) -> str:
    async with UnitOfWork(harbour.db, harbour.cipher) as uow:
        now = harbour.clock.now()
        survivor = await uow.people.new_survivor(
            now, status="active", language=language, advocate_id=advocate_id
        )
        survivor.allowed_channels = ["telegram"]
        await uow.people.add_identity("telegram", str(chat_id), now, survivor=survivor)
        return survivor.case_code


async def issue_code(harbour: Harbour, advocate_id: int, language: str | None = None) -> str:
    """An enrolment code for a survivor the advocate has registered (not on Telegram yet)."""
    async with UnitOfWork(harbour.db, harbour.cipher) as uow:
        now = harbour.clock.now()
        survivor = await uow.people.new_survivor(
            now, status="active", language=language, advocate_id=advocate_id
        )
        return await uow.people.issue_code(survivor, now, timedelta(hours=72))


async def wait_for(condition: Callable[[], bool], within: float = 15.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


def texts_to(fake: FakeTelegram, chat_id: int) -> list[str]:
    return [str(m.get("text") or m.get("caption") or "") for m in fake.sent_to(chat_id)]
