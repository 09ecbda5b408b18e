"""Staff addresses that fail for good, through the real PTB client and the fake Bot API: a
migrated group is followed and its new id stored; a blocked bot or a deleted account sends
the message on to the duty team at once and tells the admins; the survivor hears "passed on"
only when someone reachable will read it; adding staff on a channel that is not enabled is
warned about at once. SQLite and PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.bootstrap import Harbour
from bot.cli.staff import channel_warnings
from bot.settings import Settings
from bot.store.models import AuditEvent, Identity
from bot.store.uow import UnitOfWork
from tests.fakes.telegram_api import FakeTelegram
from tests.harness import add_advocate, enrol, onboard, say, start
from tests.integration.telegram_harness import (
    ADVOCATE_CHAT,
    add_telegram_staff,
    enrol_on_telegram,
    start_harbour,
    stop_harbour,
    texts_to,
)

OLD_GROUP = -4_455_667
NEW_SUPERGROUP = -1_001_112_223_334
DUTY_CHAT = 7_000_002
ADMIN_CHAT = 7_000_003
SURVIVOR_CHAT = 5_550_901


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(per_chat_limit=1000) as server:
        yield server


@pytest.fixture
async def harbour(settings: Settings, fake: FakeTelegram) -> AsyncIterator[Harbour]:
    built, channel = await start_harbour(settings, fake)
    yield built
    await stop_harbour(built, channel)


async def queue_to(harbour: Harbour, chat: int, text: str, survivor_id: int | None = None) -> None:
    async with UnitOfWork(harbour.db, harbour.cipher) as uow:
        identity = await uow.people.identity("telegram", str(chat))
        assert identity is not None
        uow.outbox.add(
            channel="telegram", identity_id=identity.id, payload={"text": text, "case": "K1"},
            now=harbour.clock.now(), kind="relay", survivor_id=survivor_id,
        )  # fmt: skip


async def identity_of(harbour: Harbour, staff_id: int) -> Identity:
    async with UnitOfWork(harbour.db, harbour.cipher) as uow:
        (identity,) = await uow.people.identities_of_staff(staff_id)
        return identity


async def test_a_migrated_group_is_followed_and_its_new_id_stored(
    harbour: Harbour, fake: FakeTelegram
) -> None:
    duty = await add_telegram_staff(harbour, OLD_GROUP, handle="nightdesk", role="duty")
    fake.migrate(OLD_GROUP, NEW_SUPERGROUP)
    await queue_to(harbour, OLD_GROUP, "first alert")
    await harbour.drain()
    assert texts_to(fake, NEW_SUPERGROUP) == ["first alert"]
    async with UnitOfWork(harbour.db, harbour.cipher) as uow:
        moved = await uow.people.identity("telegram", str(NEW_SUPERGROUP))
        assert moved is not None and moved.staff_id == duty and moved.status == "active"
        assert await uow.people.identity("telegram", str(OLD_GROUP)) is None
    refused = len(fake.calls_to("sendMessage"))
    await queue_to(harbour, NEW_SUPERGROUP, "second alert")
    await harbour.drain()
    assert texts_to(fake, NEW_SUPERGROUP) == ["first alert", "second alert"]
    assert len(fake.calls_to("sendMessage")) == refused + 1  # straight to the new id


@pytest.mark.parametrize("failure", ["block", "deactivate"])
async def test_a_failed_advocate_address_goes_to_duty_and_admins_are_told(
    harbour: Harbour, fake: FakeTelegram, failure: str
) -> None:
    advocate = await add_telegram_staff(harbour)
    await add_telegram_staff(harbour, DUTY_CHAT, handle="nightdesk", role="duty")
    await add_telegram_staff(harbour, ADMIN_CHAT, handle="boss", role="admin")
    case = await enrol_on_telegram(harbour, SURVIVOR_CHAT, advocate)
    async with UnitOfWork(harbour.db, harbour.cipher) as uow:
        survivor = await uow.people.survivor_by_code(case)
        assert survivor is not None
        survivor_id = survivor.id
    getattr(fake, failure)(ADVOCATE_CHAT)
    await queue_to(harbour, ADVOCATE_CHAT, f"Case {case}: please call me", survivor_id)
    await harbour.drain()
    assert (await identity_of(harbour, advocate)).status in ("blocked", "invalid")
    assert texts_to(fake, DUTY_CHAT) == [f"Case {case}: please call me"]
    (told,) = texts_to(fake, ADMIN_CHAT)
    assert "amira" in told and "telegram" in told
    async with UnitOfWork(harbour.db, harbour.cipher) as uow:
        actions = list((await uow.session.execute(select(AuditEvent.action))).scalars())
    assert "staff.address_failed" in actions and "staff.rerouted" in actions

    # Later relays skip the failed address and go straight to duty.
    await queue_to(harbour, DUTY_CHAT, "next", survivor_id)
    await harbour.drain()
    assert len(fake.calls_to("sendMessage")) == 4  # failed, re-routed, admin, next


async def test_passed_on_only_when_someone_reachable_will_read_it(settings: Settings) -> None:
    harbour, sent = await start(settings)
    try:
        advocate = await add_advocate(harbour)
        await enrol(harbour, "s1", advocate)
        await onboard(harbour, "s1")
        await say(harbour, "s1", "Can we meet on Tuesday please?")
        assert sent.to("s1")[-1].text == harbour.bundle.catalogue.text("en", "advocate.sent")
        async with UnitOfWork(harbour.db, harbour.cipher) as uow:  # the bot blocked, say
            for identity in await uow.people.identities_of_staff(advocate):
                identity.status = "blocked"
        relays = len(sent.to("advocate:amira"))
        await say(harbour, "s1", "Are you there? Nobody answers")
        unheard = harbour.bundle.catalogue.text("en", "advocate.unheard")
        assert sent.to("s1")[-1].text == unheard
        assert len(sent.to("advocate:amira")) == relays
    finally:
        await harbour.close()


def test_adding_staff_on_a_channel_not_enabled_is_warned_at_once(settings: Settings) -> None:
    assert settings.local_mode
    (warning,) = channel_warnings(settings, "123456789", None)
    assert "Telegram is not enabled" in warning and "HARBOUR_TELEGRAM_TOKEN" in warning
    assert channel_warnings(settings, None, None) == []  # local mode: the local address
    production = settings.model_copy(update={"telegram_token": "x"})
    sms_only = channel_warnings(production, None, "+447700900111")
    assert "SMS is not enabled" in sms_only[0]
    assert "no address on an enabled channel" in sms_only[1]  # nobody could reach them
    assert channel_warnings(production, "42", None) == []


def test_the_warning_is_printed_by_staff_add(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HARBOUR_")}
    env.update(HARBOUR_DATA_DIR=str(tmp_path / "var"), HARBOUR_CONFIG=str(tmp_path / "none.toml"))
    add = ["staff", "add", "amira", "--role", "advocate", "--telegram", "123456789"]
    done = subprocess.run(
        [sys.executable, "-m", "bot", *add], capture_output=True, env=env, timeout=90
    )
    assert done.returncode == 0 and b"added advocate amira" in done.stdout
    assert b"warning: Telegram is not enabled" in done.stderr
