"""Media passed on to the advocate (never downloaded), /clear, and the advocate's wipe of a
lost phone's chat. SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from bot.bootstrap import Harbour, build
from bot.channels.local import LocalChannel
from bot.ports import OutboundMessage
from bot.safety.telegram_safety import wipe_survivor_chat
from bot.settings import Settings
from bot.store.models import AuditEvent
from bot.store.records import unseal_detail
from bot.store.uow import UnitOfWork
from tests.fakes.telegram_api import FakeTelegram
from tests.integration.telegram_harness import (
    ADVOCATE_CHAT,
    add_telegram_staff,
    channel_for,
    enrol_on_telegram,
    start_harbour,
    stop_harbour,
    texts_to,
)

CHAT = 5_550_401


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(per_chat_limit=1000) as server:
        yield server


async def deliver(harbour: Harbour, update: dict[str, object]) -> None:
    await harbour.inbound.accept("telegram", str(update["update_id"]), update)
    await harbour.drain()


async def audit(harbour: Harbour, action: str) -> list[AuditEvent]:
    async with UnitOfWork(harbour.db, harbour.cipher) as uow:
        stmt = select(AuditEvent).where(AuditEvent.action == action)
        return list((await uow.session.execute(stmt)).scalars())


async def test_media_is_copied_to_the_advocate_with_the_case_code(
    settings: Settings, fake: FakeTelegram
) -> None:
    harbour, channel = await start_harbour(settings, fake)
    try:
        case = await enrol_on_telegram(harbour, CHAT, await add_telegram_staff(harbour))
        photo = fake.updates.photo(CHAT, caption="my papers")
        await deliver(harbour, photo)
        await deliver(harbour, fake.updates.location(CHAT, 51.5, -0.12))

        copies = fake.calls_to("copyMessage")
        assert [c.params["from_chat_id"] for c in copies] == [CHAT, CHAT]
        received = fake.sent_to(ADVOCATE_CHAT)
        assert received[0]["caption"] == f"Case {case} sent a photo.\nmy papers"
        assert received[0]["photo"] == photo["message"]["photo"]
        assert received[1]["text"] == f"Case {case} sent a location."  # no caption possible
        assert "location" in received[2]
        assert not fake.calls_to("getFile")  # never downloaded
        passed_on = harbour.bundle.catalogue.text("en", "advocate.sent")
        assert texts_to(fake, CHAT) == [passed_on, passed_on]
        assert [
            unseal_detail(harbour.cipher, e)["media"]
            for e in await audit(harbour, "media.to_staff")
        ] == [
            "photo",
            "location",
        ]
    finally:
        await stop_harbour(harbour, channel)


async def test_media_caption_with_urgent_words_raises_the_alarm(
    settings: Settings, fake: FakeTelegram
) -> None:
    harbour, channel = await start_harbour(settings, fake)
    try:
        await enrol_on_telegram(harbour, CHAT, await add_telegram_staff(harbour))
        await deliver(harbour, fake.updates.photo(CHAT, caption="he is here, help me"))
        assert len(await audit(harbour, "escalation.raised")) == 1
        assert texts_to(fake, CHAT)[0] == harbour.bundle.catalogue.text("en", "help.now")
    finally:
        await stop_harbour(harbour, channel)


async def test_advocate_not_on_telegram_gets_a_text_notice(
    settings: Settings, fake: FakeTelegram
) -> None:
    seen: list[OutboundMessage] = []
    channel = channel_for(fake)
    harbour = await build(
        settings, {"telegram": channel, "local": LocalChannel(seen.append)}, pacers={}
    )
    try:
        async with UnitOfWork(harbour.db, harbour.cipher) as uow:
            staff = await uow.people.add_staff("amira", "advocate", "en", harbour.clock.now())
            await uow.people.add_identity(
                "local", "advocate:amira", harbour.clock.now(), staff=staff
            )
            advocate = staff.id
        case = await enrol_on_telegram(harbour, CHAT, advocate)
        await deliver(harbour, fake.updates.voice(CHAT))
        (notice,) = seen
        assert case in notice.text and "voice note" in notice.text
        assert not fake.calls_to("copyMessage")
    finally:
        await stop_harbour(harbour, channel)


async def test_clear_deletes_both_sides_and_says_what_could_not_be(
    settings: Settings, fake: FakeTelegram
) -> None:
    harbour, channel = await start_harbour(settings, fake)
    try:
        await enrol_on_telegram(harbour, CHAT, await add_telegram_staff(harbour))
        await deliver(harbour, fake.updates.text(CHAT, "hello"))
        await deliver(harbour, fake.updates.text(CHAT, "I need to talk"))
        before = [m["message_id"] for m in fake.history.in_chat(CHAT)]
        assert len(before) >= 4  # two from the survivor, at least two answers

        fake.fail_next(status=400, method="deleteMessage")  # Telegram refuses one
        await deliver(harbour, fake.updates.text(CHAT, "/clear"))

        deleted = {c.params["message_id"] for c in fake.calls_to("deleteMessage")}
        assert deleted == {*before, max(before) + 1}  # everything, the /clear itself too
        (report,) = [m for m in fake.history.in_chat(CHAT) if m["message_id"] > max(before) + 1]
        partial = harbour.bundle.catalogue.text("en", "telegram.clear_partial")
        assert report["text"] == partial.replace("{count}", "1")
        assert report["has_protected_content"] is True
        assert len(fake.history.in_chat(CHAT)) == 2  # the one refused, and the report
        (event,) = await audit(harbour, "telegram.clear")
        assert unseal_detail(harbour.cipher, event)["messages"] == len(deleted)

        await deliver(harbour, fake.updates.text(CHAT, "/clear"))  # all deletable this time
        done = harbour.bundle.catalogue.text("en", "telegram.clear_done")
        assert fake.sent_to(CHAT)[-1]["text"] == done
    finally:
        await stop_harbour(harbour, channel)


async def test_advocate_wipe_deletes_silently_and_reports_to_the_advocate(
    settings: Settings, fake: FakeTelegram
) -> None:
    harbour, channel = await start_harbour(settings, fake)
    try:
        advocate_id = await add_telegram_staff(harbour)
        case = await enrol_on_telegram(harbour, CHAT, advocate_id)
        await deliver(harbour, fake.updates.text(CHAT, "hello"))
        in_chat = len(fake.history.in_chat(CHAT))
        sent_before = len(fake.sent_to(CHAT))
        async with UnitOfWork(harbour.db, harbour.cipher) as uow:
            survivor = await uow.people.survivor_by_code(case)
            staff = await uow.people.staff(advocate_id)
            assert survivor is not None and staff is not None
            texts = harbour.conversations.staff.texts
            queued = await wipe_survivor_chat(uow, harbour.clock.now(), survivor, staff, texts)
        await harbour.drain()
        assert queued == in_chat
        assert fake.history.in_chat(CHAT) == []  # nothing left on the phone
        assert len(fake.sent_to(CHAT)) == sent_before  # and nothing new shown there
        report = texts_to(fake, ADVOCATE_CHAT)[-1]
        assert report == f"Case {case}: their Telegram chat was wiped ({queued} messages deleted)."
        (event,) = await audit(harbour, "telegram.wipe_requested")
        assert (
            event.actor == "staff:amira"
            and unseal_detail(harbour.cipher, event)["messages"] == queued
        )
    finally:
        await stop_harbour(harbour, channel)
