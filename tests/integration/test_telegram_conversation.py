"""A survivor on Telegram, end to end: updates polled from the fake Bot API, stored, processed
by the real services and engine, answered through the outbox with the real PTB client.
SQLite and PostgreSQL (the `settings` fixture)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select

from bot.bootstrap import Harbour
from bot.settings import Settings
from bot.store.models import AuditEvent, InboxItem
from bot.store.uow import UnitOfWork
from tests.fakes.telegram_api import FakeTelegram
from tests.integration.telegram_harness import (
    ADVOCATE_CHAT,
    add_telegram_staff,
    issue_code,
    start_harbour,
    stop_harbour,
    texts_to,
    wait_for,
)

SURVIVOR_CHAT = 5_550_101


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(per_chat_limit=1000) as server:
        yield server


def text(harbour: Harbour, language: str, key: str) -> str:
    return harbour.bundle.catalogue.text(language, key)


async def count(harbour: Harbour, model: type, *where: object) -> int:
    async with UnitOfWork(harbour.db, harbour.cipher) as uow:
        stmt = select(func.count()).select_from(model).where(*where)
        return int((await uow.session.execute(stmt)).scalar_one())


@pytest.mark.parametrize(("language", "deep_link"), [("en", False), ("pl", True)])
async def test_start_onboarding_menu_and_urgent_help(
    settings: Settings, fake: FakeTelegram, language: str, deep_link: bool
) -> None:
    harbour, channel = await start_harbour(settings, fake)
    try:
        advocate = await add_telegram_staff(harbour)
        code = await issue_code(harbour, advocate)
        await harbour.start_background()
        await channel.start(harbour.inbound)

        async def step(update: dict[str, object], *keys: str) -> None:
            before = len(texts_to(fake, SURVIVOR_CHAT))
            fake.push_update(update)
            want = [text(harbour, language, key) for key in keys]
            await wait_for(lambda: len(texts_to(fake, SURVIVOR_CHAT)) >= before + len(want))
            assert texts_to(fake, SURVIVOR_CHAT)[before:] == want

        updates = fake.updates
        first = f"/start {code}" if deep_link else "/start"
        await step(updates.text(SURVIVOR_CHAT, first), "language.choose")
        await step(updates.callback_query(SURVIVOR_CHAT, language), "onboarding.safety")
        await step(
            updates.callback_query(SURVIVOR_CHAT, "safe"),
            "onboarding.privacy",
            "onboarding.consent",
        )
        if deep_link:  # the code came with /start and is used once consent is given
            await step(
                updates.callback_query(SURVIVOR_CHAT, "agree"),
                "onboarding.welcome",
                "menu.main",
            )
        else:
            await step(updates.callback_query(SURVIVOR_CHAT, "agree"), "onboarding.code")
            await step(updates.text(SURVIVOR_CHAT, code), "onboarding.welcome", "menu.main")
        await step(updates.callback_query(SURVIVOR_CHAT, "help"), "help.now")

        await wait_for(lambda: len(texts_to(fake, ADVOCATE_CHAT)) >= 1)
        alert = texts_to(fake, ADVOCATE_CHAT)[-1]
        assert "URGENT" in alert and str(SURVIVOR_CHAT) not in alert
        menu = fake.sent_to(SURVIVOR_CHAT)[-2]
        assert [row[0]["callback_data"] for row in menu["reply_markup"]["inline_keyboard"]] == [
            "advocate", "appointments", "help", "info", "settings",
        ]  # fmt: skip
        presses = len(fake.calls_to("answerCallbackQuery"))
        assert presses == 4 and len(fake.messages.answered_callbacks) == presses
        assert await count(harbour, AuditEvent, AuditEvent.action == "enrolment.linked") == 1
    finally:
        await stop_harbour(harbour, channel)


async def test_wrong_code_gets_a_kind_reply_and_an_audit_event(
    settings: Settings, fake: FakeTelegram
) -> None:
    harbour, channel = await start_harbour(settings, fake)
    try:
        await add_telegram_staff(harbour)
        await harbour.start_background()
        await channel.start(harbour.inbound)
        fake.push_update(fake.updates.text(SURVIVOR_CHAT, "/start XQ7KP2"))  # no such code
        await wait_for(lambda: len(texts_to(fake, SURVIVOR_CHAT)) >= 1)
        fake.push_update(fake.updates.callback_query(SURVIVOR_CHAT, "en"))
        await wait_for(lambda: len(texts_to(fake, SURVIVOR_CHAT)) >= 2)
        fake.push_update(fake.updates.callback_query(SURVIVOR_CHAT, "safe"))
        await wait_for(lambda: len(texts_to(fake, SURVIVOR_CHAT)) >= 4)
        fake.push_update(fake.updates.callback_query(SURVIVOR_CHAT, "agree"))
        wrong = text(harbour, "en", "onboarding.code_wrong")
        await wait_for(lambda: texts_to(fake, SURVIVOR_CHAT)[-1:] == [wrong])
        await wait_for(lambda: harbour.inbound._queue.empty())
        rejected = AuditEvent.action == "enrolment.code_rejected"
        assert await count(harbour, AuditEvent, rejected) == 1
    finally:
        await stop_harbour(harbour, channel)


async def test_polling_stores_every_update_once_and_moves_the_offset_after(
    settings: Settings, fake: FakeTelegram
) -> None:
    harbour, channel = await start_harbour(settings, fake)
    try:
        await add_telegram_staff(harbour)
        ids = [fake.push_update(fake.updates.text(SURVIVOR_CHAT, f"hello {n}")) for n in range(3)]
        await channel.start(harbour.inbound)  # no worker: stored, not yet processed
        assert channel.poller is not None
        await wait_for(lambda: channel.poller is not None and channel.poller.stored == 3)
        await wait_for(lambda: fake.pending_updates == [])  # confirmed only once stored
        async with UnitOfWork(harbour.db, harbour.cipher) as uow:
            stored = (await uow.session.execute(select(InboxItem.provider_id))).scalars()
            assert sorted(stored) == sorted(str(i) for i in ids)
        offsets = [c.params.get("offset") for c in fake.calls_to("getUpdates")]
        assert offsets[0] is None and max(o for o in offsets if o) == ids[-1] + 1
    finally:
        await stop_harbour(harbour, channel)


async def test_polling_does_not_confirm_an_update_it_could_not_store(
    settings: Settings, fake: FakeTelegram
) -> None:
    harbour, channel = await start_harbour(settings, fake)
    real_db = harbour.conversations.db
    try:
        from bot.store.database import open_database

        harbour.conversations.db = open_database("postgresql+asyncpg://nobody@127.0.0.1:9/none")
        update_id = fake.push_update(fake.updates.text(SURVIVOR_CHAT, "please keep me"))
        await channel.start(harbour.inbound)
        await wait_for(lambda: len(fake.calls_to("getUpdates")) >= 2)
        assert [u["update_id"] for u in fake.pending_updates] == [update_id]
        assert all(c.params.get("offset") in (None, 0) for c in fake.calls_to("getUpdates"))
        await harbour.conversations.db.close()
        harbour.conversations.db = real_db  # the database is back
        await wait_for(lambda: fake.pending_updates == [], within=40)
        assert await count(harbour, InboxItem) == 1
    finally:
        harbour.conversations.db = real_db
        await stop_harbour(harbour, channel)
