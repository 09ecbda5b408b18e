"""Real-world SMS inbound, end to end over signed webhooks: Twilio's REVOKE, OPTOUT and
OptOutType work as STOP and START; an MMS picture reaches the advocate; an emoji alone is a
message; what a stopped survivor writes still reaches their advocate, whose replies are held
until START. SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.settings import Settings
from bot.store.models import OutboxItem
from tests.fakes.twilio_api import DEFAULT_ACCOUNT_SID
from tests.fakes.twilio_webhooks import inbound_sms_params
from tests.integration.test_sms_conversation import onboard
from tests.integration.test_sms_support import (
    HARBOUR_NUMBER,
    SURVIVOR,
    SmsRig,
    add_sms_advocate,
    enrol_sms,
    serve_rig,
)

ADVOCATE = "advocate:amira"
MEDIA_URL = "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1"


@pytest.fixture
async def rig(settings: Settings) -> AsyncIterator[SmsRig]:
    async with serve_rig(settings) as made:
        await enrol_sms(made.harbour, SURVIVOR, await add_sms_advocate(made.harbour))
        yield made


async def send(rig: SmsRig, body: str, **extra: str) -> int:
    params = inbound_sms_params(
        from_=SURVIVOR, to=HARBOUR_NUMBER, body=body, account_sid=DEFAULT_ACCOUNT_SID
    )
    response = await rig.post("/twilio/sms", {**params, **extra})
    await rig.harbour.drain()
    return response.status_code


def text(rig: SmsRig, key: str) -> str:
    return rig.harbour.bundle.catalogue.text("en", key)


@pytest.mark.parametrize(
    ("body", "extra"),
    [
        ("REVOKE", {}),
        ("optout", {}),
        ("Arrêtez", {"OptOutType": "STOP"}),  # a custom keyword Twilio recognised
    ],
)
async def test_twilio_opt_out_words_work_as_stop(
    rig: SmsRig, body: str, extra: dict[str, str]
) -> None:
    before = await onboard(rig)
    assert await send(rig, body, **extra) == 200
    assert rig.replies()[before:] == [text(rig, "global.stopped")]
    assert (await rig.identity()).status == "stopped"
    assert await send(rig, "Reprendre", OptOutType="START") == 200
    assert (await rig.identity()).status == "active"
    assert rig.replies()[before + 1] == text(rig, "global.started")


async def test_an_mms_picture_reaches_the_advocate(rig: SmsRig) -> None:
    before = await onboard(rig)
    extra = {"NumMedia": "1", "MediaUrl0": MEDIA_URL, "MediaContentType0": "image/jpeg"}
    assert await send(rig, "", **extra) == 200
    (notice,) = [m for m in rig.staff.to(ADVOCATE) if m.kind == "relay"]
    assert "photo" in notice.text and SURVIVOR not in notice.text
    assert rig.replies()[before:] == [text(rig, "advocate.sent")]  # not "didn't understand"
    assert await send(rig, "this is the letter", **extra) == 200  # with words: one notice
    notices = [m for m in rig.staff.to(ADVOCATE) if m.kind == "relay"]
    assert len(notices) == 2 and "this is the letter" in notices[1].text


async def test_an_emoji_alone_reaches_the_advocate(rig: SmsRig) -> None:
    await onboard(rig)
    await send(rig, "😢")
    (relay,) = [m for m in rig.staff.to(ADVOCATE) if m.kind == "relay"]
    assert "😢" in relay.text


async def test_writing_while_stopped_reaches_the_advocate_and_replies_wait_for_start(
    rig: SmsRig,
) -> None:
    before = await onboard(rig)
    await send(rig, "STOP")
    await send(rig, "I moved to my sister's place, do not text for now")
    assert len(rig.replies()) == before + 1  # STOP honoured: nothing said back
    relays = [m for m in rig.staff.to(ADVOCATE) if m.kind == "relay"]
    assert len(relays) == 1 and "my sister's place" in relays[0].text

    case = relays[0].meta["case"]
    await rig.harbour.inbound.accept("local", "r1", {"from": ADVOCATE, "text": f"#{case} OK"})
    await rig.harbour.drain()
    told = rig.staff.to(ADVOCATE)[-1].text
    assert "STOP" in told and "held" in told
    assert len(rig.replies()) == before + 1  # the reply is not sent
    (held,) = await rig.outbox(OutboxItem.kind == "reply")
    assert held.status == "held"

    await send(rig, "START")
    # Queued first, so sent first (the outbox keeps one address's order), then welcome back.
    # The reply carries its sender mark ("Amira: "), issue 18.
    assert rig.replies()[before + 1 : before + 3] == ["Amira: OK", text(rig, "global.started")]
    (sent,) = await rig.outbox(OutboxItem.kind == "reply")
    assert sent.status in ("sent", "delivered")
