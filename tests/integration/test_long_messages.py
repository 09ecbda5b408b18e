"""Split, never cut, end to end: a survivor's long message reaches the advocate whole (with its
translation) through the real PTB client and the fake Bot API; an SMS of Twilio's maximum
1,600 characters is accepted; an advocate's long reply reaches an SMS survivor in as many
messages as it needs. SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest

from bot.settings import Settings
from bot.store.parts import units
from bot.translation.translator import BoundedTranslator, LibreTranslate
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.translator_api import FakeLibreTranslate
from tests.integration.telegram_harness import (
    ADVOCATE_CHAT,
    add_telegram_staff,
    enrol_on_telegram,
    start_harbour,
    stop_harbour,
    texts_to,
)
from tests.integration.test_sms_conversation import onboard as onboard_sms
from tests.integration.test_sms_support import SmsRig, add_sms_advocate, enrol_sms, serve_rig

SURVIVOR_CHAT = 5_550_777
MARK = re.compile(r"^\((\d+)/(\d+)\) ")


def paragraph(n: int) -> str:
    return f"Akapit {n}: " + " ".join(f"słowo{n}x{k}" for k in range(60))


def bodies(parts: list[str]) -> str:
    """The parts with their marks taken off, joined back."""
    return "\n".join(MARK.sub("", part, count=1) for part in parts)


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(per_chat_limit=1000) as server:
        yield server


@pytest.fixture
async def translator() -> AsyncIterator[FakeLibreTranslate]:
    async with FakeLibreTranslate() as server:
        yield server


async def test_a_long_message_reaches_the_advocate_whole_with_its_translation(
    settings: Settings, fake: FakeTelegram, translator: FakeLibreTranslate
) -> None:
    original = "\n".join(paragraph(n) for n in range(12))  # about 8,600 characters
    harbour, channel = await start_harbour(settings, fake)
    harbour.relay.translator = BoundedTranslator(
        LibreTranslate(translator.url, "k", httpx.AsyncClient()), 5.0
    )
    try:
        advocate = await add_telegram_staff(harbour)
        await enrol_on_telegram(harbour, SURVIVOR_CHAT, advocate, language="pl")
        updates = fake.updates
        steps = [
            lambda: updates.text(SURVIVOR_CHAT, "hello"),
            lambda: updates.callback_query(SURVIVOR_CHAT, "safe"),
            lambda: updates.callback_query(SURVIVOR_CHAT, "agree"),
            lambda: updates.text(SURVIVOR_CHAT, original),
        ]
        for n, step in enumerate(steps):  # each button press needs the message before it
            await harbour.inbound.accept("telegram", f"u{n}", step())
            await harbour.drain()
        parts = texts_to(fake, ADVOCATE_CHAT)
        assert len(parts) >= 3
        assert all(units(part) <= 4096 for part in parts)  # the fake refuses longer ones
        marks = [MARK.match(part) for part in parts]
        assert [m.groups() if m else None for m in marks] == [
            (str(n), str(len(parts))) for n in range(1, len(parts) + 1)
        ]
        whole = bodies(parts)
        assert "".join(original.split()) in "".join(whole.split()), "the original, whole"
        assert "".join(f"[en] {original}".split()) in "".join(whole.split()), "its translation"
        assert whole.rstrip().endswith(paragraph(11))  # the end of the original arrived
    finally:
        await stop_harbour(harbour, channel)


@pytest.fixture
async def rig(settings: Settings) -> AsyncIterator[SmsRig]:
    async with serve_rig(settings) as made:
        yield made


async def test_an_sms_of_1600_characters_is_accepted_and_relayed_whole(rig: SmsRig) -> None:
    await enrol_sms(rig.harbour, "+447700900123", await add_sms_advocate(rig.harbour), "en")
    await onboard_sms(rig)
    body = ("I need to tell you what happened at the house. " * 40)[:1599] + "!"
    assert len(body) == 1600
    response = await rig.text(body)
    assert response.status_code == 200
    relays = [m for m in rig.staff.to("advocate:amira") if m.kind == "relay"]
    assert len(relays) == 1 and body in relays[0].text


async def test_a_long_reply_reaches_an_sms_survivor_in_several_messages(rig: SmsRig) -> None:
    case = await enrol_sms(rig.harbour, "+447700900123", await add_sms_advocate(rig.harbour))
    before = await onboard_sms(rig)
    reply = " ".join(f"step{n} of the plan." for n in range(300))  # about 5,000 characters
    await rig.harbour.inbound.accept(
        "local", "r1", {"from": "advocate:amira", "text": f"#{case} {reply}"}
    )
    await rig.harbour.drain()
    received = rig.replies()[before:]
    assert len(received) == 4
    assert all(len(sms) <= 1600 for sms in received)
    assert [MARK.match(sms).groups() for sms in received] == [  # type: ignore[union-attr]
        (str(n), "4") for n in range(1, 5)
    ]
    assert " ".join(bodies(received).split()) == f"Amira: {reply}"
