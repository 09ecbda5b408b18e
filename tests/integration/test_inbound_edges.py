"""Real-world inbound on Telegram: group chats ignored unless they are a staff group (only
the dedupe key kept), hostile JSON refused with 400, and an MMS attachment carried to a
Telegram advocate by its URL. SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select

from bot.bootstrap import Harbour
from bot.settings import Settings
from bot.store.models import InboxItem, OutboxItem, Survivor
from bot.store.uow import UnitOfWork
from tests.fakes.telegram_api import FakeTelegram
from tests.integration.telegram_harness import (
    ADVOCATE_CHAT,
    add_telegram_staff,
    start_harbour,
    stop_harbour,
    texts_to,
)
from tests.integration.test_telegram_webhook import SECRET, http_client, post

STAFF_GROUP = -1_001_234_567_890
STRANGERS = -1_009_876_543_210
OLD_GROUP = -4_455_667


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(per_chat_limit=1000) as server:
        yield server


@pytest.fixture
async def harbour(settings: Settings, fake: FakeTelegram) -> AsyncIterator[Harbour]:
    built, channel = await start_harbour(settings, fake, mode="webhook", secret=SECRET)
    yield built
    await stop_harbour(built, channel)


async def count(harbour: Harbour, model: type, *where: object) -> int:
    async with UnitOfWork(harbour.db, harbour.cipher) as uow:
        stmt = select(func.count()).select_from(model).where(*where)
        return int((await uow.session.execute(stmt)).scalar_one())


async def test_group_chats_are_ignored_unless_a_staff_group(
    harbour: Harbour, fake: FakeTelegram
) -> None:
    await add_telegram_staff(harbour, STAFF_GROUP, handle="nightdesk", role="duty")
    survivors_before = await count(harbour, Survivor)
    joined = {  # a service message: someone joined the staff group
        "update_id": 900_001,
        "message": {
            "message_id": 40,
            "date": 0,
            "chat": {"id": STAFF_GROUP, "type": "supergroup", "title": "Duty"},
            "new_chat_members": [{"id": 1, "is_bot": False, "first_name": "New"}],
        },
    }
    updates = [
        fake.updates.text(STRANGERS, "hello, anyone there?"),
        fake.updates.text(OLD_GROUP, "/start"),
        joined,
        fake.updates.text(STAFF_GROUP, "/cases"),
    ]
    async with http_client(harbour) as client:
        for update in updates:
            assert await post(client, update) == 200
    await harbour.drain()
    assert texts_to(fake, STRANGERS) == [] and texts_to(fake, OLD_GROUP) == []
    assert await count(harbour, Survivor) == survivors_before  # no intake
    assert await count(harbour, OutboxItem, OutboxItem.identity_id.is_(None)) == 0
    assert len(texts_to(fake, STAFF_GROUP)) == 1  # the staff group is answered
    async with UnitOfWork(harbour.db, harbour.cipher) as uow:
        rows = list((await uow.session.execute(select(InboxItem).order_by(InboxItem.id))).scalars())
    assert sorted(r.provider_id for r in rows) == sorted(str(u["update_id"]) for u in updates)
    rows.sort(key=lambda r: [str(u["update_id"]) for u in updates].index(r.provider_id))
    assert [r.payload_enc is None for r in rows] == [True, True, True, False]  # only the key
    assert all(r.processed_at is not None for r in rows)


def nested(levels: int) -> bytes:
    return b'{"update_id": 1, "message": ' + b"[" * levels + b"]" * levels + b"}"


async def test_hostile_json_gets_400_never_500(harbour: Harbour, fake: FakeTelegram) -> None:
    hostile = {
        "5,000 levels": nested(5000),
        "100 levels": nested(100),
        "a 5,000-digit number": b'{"update_id": ' + b"9" * 5000 + b"}",
        "an update_id past 64 bits": b'{"update_id": ' + b"9" * 30 + b"}",
        "NaN": b'{"update_id": NaN}',
        "Infinity": b'{"update_id": 1, "x": -Infinity}',
        "update_id as text": json.dumps({"update_id": "12"}).encode(),
        "update_id as a float": b'{"update_id": 1.5}',
        "update_id true": b'{"update_id": true}',
        "a list": b"[1, 2, 3]",
        "a string": b'"update"',
        "null": b"null",
    }
    async with http_client(harbour) as client:
        answers = {name: await post(client, body) for name, body in hostile.items()}
        # Wrong types inside an authentic update (the secret matched): stored, then quietly
        # ignored, never a 500 (tests/unit/test_fuzz_webhooks.py: any shape is stored).
        odd = {"update_id": 77, "message": {"chat": "x", "message_id": "1", "text": 5}}
        assert await post(client, odd) == 200
    assert answers == dict.fromkeys(hostile, 400)
    await harbour.drain()
    assert await count(harbour, InboxItem) == 1
    assert await count(harbour, InboxItem, InboxItem.processed_at.is_(None)) == 0
    assert fake.calls_to("sendMessage") == []


async def test_an_mms_picture_reaches_a_telegram_advocate_by_its_url(
    harbour: Harbour, fake: FakeTelegram
) -> None:
    await add_telegram_staff(harbour)
    url = "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1"
    async with UnitOfWork(harbour.db, harbour.cipher) as uow:
        identity = await uow.people.identity("telegram", str(ADVOCATE_CHAT))
        assert identity is not None
        for content_type in ("image/jpeg", "application/pdf"):
            uow.outbox.add(
                channel="telegram",
                identity_id=identity.id,
                payload={"text": "Case K7QX2 sent a photo.", "url": url,
                         "content_type": content_type},
                now=harbour.clock.now(),
                kind="attach",
            )  # fmt: skip
    await harbour.drain()
    assert [c.status for c in fake.calls_to("sendPhoto")] == [200]
    assert [c.status for c in fake.calls_to("sendDocument")] == [200]
    assert texts_to(fake, ADVOCATE_CHAT) == ["Case K7QX2 sent a photo."] * 2  # as captions
