"""A flooding sender is never silenced and loses nothing: every message is kept in the
history and passed on, the survivor gets one short notice instead of an answer to each, the
advocate one notice, STOP is honoured, and an urgent message in the middle of the flood
still raises the alarm at once. Menu taps are never counted."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot.engine import SUPPORTED_LANGUAGES
from bot.messaging.flood import FLOOD_LIMIT
from bot.ports import ManualClock
from bot.settings import Settings
from bot.store.escalation_models import Escalation
from bot.store.models import Identity, Message, OutboxItem
from bot.store.uow import UnitOfWork
from tests.harness import add_advocate, enrol, onboard, say, start

SURVIVOR = "+447700900606"
ADVOCATE = "advocate:amira"


async def test_flood_is_held_but_nothing_is_lost_and_urgent_gets_through(
    settings: Settings,
) -> None:
    harbour, sent = await start(settings, clock=ManualClock())
    try:
        await enrol(harbour, SURVIVOR, await add_advocate(harbour))
        await onboard(harbour, SURVIVOR)
        sent.sent.clear()
        flood = [f"message number {n} for my advocate please" for n in range(FLOOD_LIMIT + 10)]
        for line in flood:
            await say(harbour, SURVIVOR, line)
        await say(harbour, SURVIVOR, "he is here, he found me")
        async with UnitOfWork(harbour.db, harbour.cipher) as uow:
            bodies = [body for _m, body in await uow.messages.recent(1, limit=500)]
            relays = await uow.session.execute(
                select(func.count()).select_from(OutboxItem).where(OutboxItem.kind == "relay")
            )
            escalations = await uow.session.execute(select(func.count()).select_from(Escalation))
            relay_count, escalation_count = relays.scalar_one(), escalations.scalar_one()
        assert all(line in bodies for line in flood)  # every message is in the history
        assert relay_count == len(flood) + 1  # every one is passed on, the urgent one too
        notices = [m for m in sent.to(ADVOCATE) if "sending many messages" in m.text]
        assert len(notices) == 1
        keys = [m.meta.get("key") for m in sent.to(SURVIVOR)]
        assert keys.count("flood.notice") == 1  # one short notice, never silence
        assert keys.count("advocate.sent") == FLOOD_LIMIT
        assert escalation_count == 1  # the urgent one raised the alarm
        survivor_saw = [m.text for m in sent.to(SURVIVOR)]
        assert any("999" in text for text in survivor_saw)  # emergency numbers still sent
        await say(harbour, SURVIVOR, "STOP")
        async with UnitOfWork(harbour.db, harbour.cipher) as uow:
            identity = (
                await uow.session.execute(select(Identity).where(Identity.survivor_id == 1))
            ).scalar_one()
            inbound = await uow.session.execute(
                select(func.count()).select_from(Message).where(Message.direction == "in")
            )
        assert identity.status == "stopped"  # STOP is honoured even while flooding
        assert inbound.scalar_one() >= len(flood) + 2
    finally:
        await harbour.close()


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
async def test_thirty_menu_taps_in_a_minute_all_get_answers(
    settings: Settings, language: str
) -> None:
    harbour, sent = await start(settings, clock=ManualClock())
    try:
        await enrol(harbour, SURVIVOR, await add_advocate(harbour), language=language)
        await onboard(harbour, SURVIVOR)
        sent.sent.clear()
        menu = harbour.bundle.catalogue.text(language, "match.menu").split("|")[0]
        for _ in range(10):  # information, a topic, back to the menu: typed and pressed
            await say(harbour, SURVIVOR, "4")
            await say(harbour, SURVIVOR, "1")
            await say(harbour, SURVIVOR, menu)
        keys = [m.meta.get("key") for m in sent.to(SURVIVOR)]
        assert keys == ["info.topics", "info.housing.1", "menu.main"] * 10
        await say(harbour, SURVIVOR, "I still need to talk to you about the flat")
        assert sent.to(SURVIVOR)[-1].meta.get("key") == "advocate.sent"
        assert not [m for m in sent.to(ADVOCATE) if "sending many messages" in m.text]
    finally:
        await harbour.close()
