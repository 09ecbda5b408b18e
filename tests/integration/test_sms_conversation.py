"""Conversations over SMS, end to end: STOP and START in several languages, the carrier
keywords in every language, enrolment by "JOIN <code>", and what the handset receives."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from bot.bootstrap import FLOWS_DIR, LOCALES_DIR
from bot.engine import Engine
from bot.engine.effects import ChannelState, Escalate
from bot.engine.events import Context, UserInput
from bot.flows.files import load_bundle
from bot.settings import Settings
from bot.staff.routing import PRIORITY_BACKGROUND
from bot.store.models import AuditEvent, OutboxItem
from bot.store.uow import UnitOfWork
from tests.fakes.twilio_records import count_segments
from tests.integration.test_sms_support import (
    SURVIVOR,
    SmsRig,
    add_sms_advocate,
    enrol_sms,
    serve_rig,
)

ADVOCATE = "advocate:amira"
NEWCOMER = "+447700900777"
CARRIER_STOP = (
    "STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT", "stop", " Stop ",
)  # fmt: skip
LOCAL_STOP = {
    "pl": ("STOPP", "wypisz"),
    "ro": ("opreste", "oprește"),
    "sq": ("ndalo",),
    "vi": ("dừng", "DUNG"),
    "uk": ("СТОП", "стоп", "STOPP"),
    "ar": ("توقف", "قف"),
    "fa": ("توقف", "قطع"),
}
# Everyday words that may mean STOP ("end", "off", "cancel"): asked about once, even by SMS.
LOCAL_MAYBE_STOP = {"pl": "koniec", "ar": "إيقاف", "fa": "لغو", "uk": "скасувати"}
LOCAL_START = {
    "pl": "wznów",
    "ro": "pornește",
    "sq": "fillo",
    "vi": "bắt đầu",
    "uk": "старт",
    "ar": "ابدأ",
    "fa": "شروع",
}
LANGUAGES = ("en", "pl", "ro", "sq", "vi", "uk", "ar", "fa")
ORGANISATION_WORDS = ("harbour", "trafficking", "slavery", "imsa", "charity")


@pytest.fixture
async def rig(settings: Settings) -> AsyncIterator[SmsRig]:
    async with serve_rig(settings) as made:
        yield made


def catalogue_text(rig: SmsRig, language: str, key: str) -> str:
    return rig.harbour.bundle.catalogue.text(language, key)


@pytest.mark.parametrize(
    ("language", "stop", "start"),
    [("en", "STOP", "START"), ("uk", "СТОП", "старт"), ("ar", "توقف", "ابدأ")],
)
async def test_stop_then_start_in_three_languages(
    rig: SmsRig, language: str, stop: str, start: str
) -> None:
    await enrol_sms(rig.harbour, SURVIVOR, await add_sms_advocate(rig.harbour), language)
    before = await onboard(rig)
    await rig.text(stop)
    assert rig.replies()[before:] == [catalogue_text(rig, language, "global.stopped")]
    assert (await rig.identity()).status == "stopped"
    (alert,) = rig.staff.to(ADVOCATE)  # STOP from someone engaged is a contact-loss signal
    assert "sent STOP on sms" in alert.text

    await rig.text("menu")  # silence until START
    await queue_reminder(rig)
    await rig.harbour.drain()
    assert len(rig.replies()) == before + 1
    assert [r.status for r in await rig.outbox(OutboxItem.priority == PRIORITY_BACKGROUND)] == [
        "cancelled"
    ]

    await rig.text(start)  # "welcome back", then where they were: the menu
    assert rig.replies()[before + 1] == catalogue_text(rig, language, "global.started")
    assert (await rig.identity()).status == "active"
    assert "\n1 " in rig.replies()[-1]
    sent = len(rig.replies())
    await rig.text("menu")
    assert len(rig.replies()) == sent + 1 and "\n1 " in rig.replies()[-1]
    assert len(rig.staff.to(ADVOCATE)) == 1  # START raises nothing


async def onboard(rig: SmsRig) -> int:
    """Hello; safe to talk; I agree: the enrolled survivor reaches the main menu. Returns
    how many texts they have received so far."""
    for answer in ("hello", "1", "1"):
        await rig.text(answer)
    assert "\n1 " in rig.replies()[-1]
    return len(rig.replies())


async def queue_reminder(rig: SmsRig) -> None:
    """A background message (such as a reminder) queued for the survivor."""
    async with UnitOfWork(rig.harbour.db, rig.harbour.cipher) as uow:
        identity = await uow.people.identity("sms", SURVIVOR)
        assert identity is not None
        uow.outbox.add(
            channel="sms",
            identity_id=identity.id,
            payload={"text": "Reminder: tomorrow 10:00"},
            now=rig.clock.now(),
            priority=PRIORITY_BACKGROUND,
        )


async def test_help_still_reaches_a_person_after_stop(rig: SmsRig) -> None:
    await enrol_sms(rig.harbour, SURVIVOR, await add_sms_advocate(rig.harbour))
    await onboard(rig)
    await rig.text("STOP")
    await rig.text("HELP")
    assert rig.replies()[-1] == catalogue_text(rig, "en", "help.now")  # urgent info goes out
    assert [m.kind for m in rig.staff.to(ADVOCATE)] == ["alert", "escalation"]


def test_carrier_and_local_stop_words_are_heard_in_every_language() -> None:
    engine = Engine(load_bundle(FLOWS_DIR, LOCALES_DIR))
    for language in LANGUAGES:
        context = Context(channel="sms", language=language, enrolled=True)
        words = CARRIER_STOP + LOCAL_STOP.get(language, ())
        for word in words:
            stopped = engine.handle(None, UserInput(word), context)
            assert ChannelState("stopped") in stopped.effects, (language, word)
            for again in ("START", "UNSTOP", LOCAL_START.get(language, "start")):
                started = engine.handle(stopped.state, UserInput(again), context)
                assert ChannelState("active") in started.effects, (language, word, again)
        helped = engine.handle(None, UserInput("HELP"), context)
        assert Escalate("help_now") in helped.effects, language
        maybe = LOCAL_MAYBE_STOP.get(language)
        if maybe is not None:
            asked = engine.handle(None, UserInput(maybe), context)
            assert ChannelState("stopped") not in asked.effects, (language, maybe)
            assert asked.state["at"] == ["global", "stop_ask"], (language, maybe)


async def test_join_code_by_sms_links_the_number_to_the_enrolled_survivor(rig: SmsRig) -> None:
    advocate = await add_sms_advocate(rig.harbour)
    async with UnitOfWork(rig.harbour.db, rig.harbour.cipher) as uow:
        target = await uow.people.new_survivor(
            rig.clock.now(), status="invited", advocate_id=advocate
        )
        code = await uow.people.issue_code(target, rig.clock.now(), timedelta(hours=72))
    await rig.text(f"JOIN {code}", sender=NEWCOMER)  # the language menu comes first
    for answer in ("1", "1", "1"):  # English; safe to talk; I agree
        await rig.text(answer, sender=NEWCOMER)
    replies = rig.replies(NEWCOMER)
    assert replies[-2:] == [
        catalogue_text(rig, "en", "onboarding.welcome"),
        rig.harbour.bundle.catalogue.text("en", "menu.main").strip()
        + replies[-1][len(catalogue_text(rig, "en", "menu.main").strip()) :],
    ]
    async with UnitOfWork(rig.harbour.db, rig.harbour.cipher) as uow:
        identity = await uow.people.identity("sms", NEWCOMER)
        linked = await uow.people.survivor(target.id)
        assert identity is not None and linked is not None
        assert identity.survivor_id == target.id
        assert linked.status == "active" and "sms" in linked.allowed_channels
    assert await rig.count(AuditEvent, AuditEvent.action == "enrolment.linked") == 1
    for body in replies:  # what the handset shows: short, numbered, discreet
        assert count_segments(body) <= 3
        assert not any(word in body.lower() for word in ORGANISATION_WORDS)
    assert any("\n1 " in body and "\n2 " in body for body in replies)
