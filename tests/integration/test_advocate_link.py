"""The advocate link end to end: relay with translation both ways, intake, enrolment by code,
cover, hand-over and access control, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select

from bot.bootstrap import Harbour
from bot.settings import Settings
from bot.store.models import AuditEvent, Staff
from bot.store.uow import UnitOfWork
from bot.translation.translator import BoundedTranslator, LibreTranslate
from tests.fakes.translator_api import FakeLibreTranslate
from tests.harness import Recorder, add_advocate, enrol, onboard, say, start


@pytest.fixture
async def translator_fake() -> AsyncIterator[FakeLibreTranslate]:
    async with FakeLibreTranslate(hang_seconds=30.0) as server:
        yield server


async def linked(
    settings: Settings, fake: FakeLibreTranslate, deadline: float = 2.0
) -> tuple[Harbour, Recorder]:
    translator = BoundedTranslator(LibreTranslate(fake.url, "k", httpx.AsyncClient()), deadline)
    return await start(settings, translator=translator)


async def audit_actions(harbour: Harbour) -> list[str]:
    async with UnitOfWork(harbour.db, harbour.cipher) as uow:
        return list((await uow.session.execute(select(AuditEvent.action))).scalars())


async def test_relay_translated_both_ways(
    settings: Settings, translator_fake: FakeLibreTranslate
) -> None:
    harbour, sent = await linked(settings, translator_fake)
    try:
        case = await enrol(harbour, "s1", await add_advocate(harbour), language="pl")
        await onboard(harbour, "s1")
        await say(harbour, "s1", "Właściciel mieszkania chce, żebym się wyprowadziła w piątek")
        (relay,) = [m for m in sent.to("advocate:amira") if m.kind == "relay"]
        assert relay.meta["case"] == case and case in relay.text
        assert "[en] Właściciel" in relay.text, "the machine translation"
        assert "machine translation" in relay.text
        assert relay.meta["original"].startswith("Właściciel") and relay.meta["language"] == "pl"
        assert "s1" not in relay.text  # a case code, never the address

        await say(harbour, "advocate:amira", f"#{case} I will call you at 10 tomorrow")
        (reply,) = [m for m in sent.to("s1") if m.kind == "reply"]
        assert reply.text == "Amira: [pl] I will call you at 10 tomorrow"  # marked: who wrote
        assert any(m.kind == "message" for m in sent.to("advocate:amira"))  # "sent to case"
    finally:
        await harbour.close()


async def test_hanging_translator_still_delivers_within_the_deadline(
    settings: Settings, translator_fake: FakeLibreTranslate
) -> None:
    await translator_fake.set_mode("hang")
    harbour, sent = await linked(settings, translator_fake, deadline=0.3)
    try:
        await enrol(harbour, "s1", await add_advocate(harbour), language="pl")
        await onboard(harbour, "s1")
        loop = asyncio.get_running_loop()
        started = loop.time()
        await say(harbour, "s1", "Potrzebuję pomocy z listem od urzędu")
        assert loop.time() - started < 5.0
        (relay,) = [m for m in sent.to("advocate:amira") if m.kind == "relay"]
        assert "not translated" in relay.text and "Potrzebuję pomocy" in relay.text
    finally:
        await harbour.close()


async def test_escalation_never_waits_for_a_hanging_translator(
    settings: Settings, translator_fake: FakeLibreTranslate
) -> None:
    await translator_fake.set_mode("hang")
    harbour, sent = await linked(settings, translator_fake, deadline=20.0)
    try:
        await enrol(harbour, "s1", await add_advocate(harbour), language="pl")
        await onboard(harbour, "s1")
        await harbour.inbound.accept(
            "local", "m1", {"from": "s1", "text": "Mam pytanie o zasiłek dla mnie"}
        )
        await harbour.inbound.drain()
        preparing = asyncio.create_task(harbour.relay.prepare_due())  # stuck on the translator
        await harbour.inbound.accept("local", "m2", {"from": "s1", "text": "on tu jest, boję się"})
        await harbour.inbound.drain()
        await harbour.sender.send_due()
        kinds = sent.kinds("advocate:amira")
        assert "escalation" in kinds and "relay" not in kinds
        preparing.cancel()
    finally:
        await harbour.close()


async def test_unknown_contact_joins_with_a_code(settings: Settings) -> None:
    from bot.admin import operations as admin

    harbour, sent = await start(settings)
    try:
        await add_advocate(harbour)
        await add_advocate(harbour, "duty1", role="duty")
        async with UnitOfWork(harbour.db, harbour.cipher) as uow:
            printed = await admin.survivor_enrol(
                uow, harbour.clock.now(), "amira", "en", "Europe/London", 72, None, None
            )
        code = printed.split("one-time code: ")[1].split()[0]
        await say(harbour, "stranger", f"JOIN {code}")
        assert sent.kinds("staff:duty1") == ["alert"], "the duty team hears of a new contact"
        for answer in ("1", "1", "1"):  # English; safe to talk; consent
            await say(harbour, "stranger", answer)
        await say(harbour, "stranger", "Hello, this is my first message to you")
        relays = [m for m in sent.to("advocate:amira") if m.kind == "relay"]
        assert relays and "first message" in relays[-1].meta["original"]
        # the code works once
        for text in (f"JOIN {code}", "1", "1", "1"):
            await say(harbour, "other", text)
        assert "enrolment.code_rejected" in await audit_actions(harbour)
    finally:
        await harbour.close()


async def set_away(harbour: Harbour, handle: str, cover: str | None) -> None:
    async with UnitOfWork(harbour.db, harbour.cipher) as uow:
        staff = await uow.people.staff_by_handle(handle)
        covering = await uow.people.staff_by_handle(cover) if cover else None
        assert staff is not None
        staff.away_until = harbour.clock.now() + timedelta(days=3)
        staff.cover_id = covering.id if covering else None


async def test_cover_during_absence_and_access_control(settings: Settings) -> None:
    harbour, sent = await start(settings)
    try:
        case = await enrol(harbour, "s1", await add_advocate(harbour, "amira"))
        await onboard(harbour, "s1")
        await add_advocate(harbour, "bo")
        await add_advocate(harbour, "cy")
        await set_away(harbour, "amira", "bo")
        await say(harbour, "s1", "Can someone help me with the letter from the council please")
        assert [m.kind for m in sent.to("advocate:bo")] == ["relay"]
        assert sent.to("advocate:amira") == []

        await say(harbour, "advocate:cy", f"/case {case}")  # not theirs, not covering
        await say(harbour, "advocate:cy", f"#{case} hello")
        assert all("not possible" in m.text for m in sent.to("advocate:cy"))
        assert (await audit_actions(harbour)).count("access.denied") == 2
        assert not [m for m in sent.to("s1") if m.kind == "reply"]

        await say(harbour, "advocate:bo", f"/case {case}")  # the cover may read it
        history = sent.to("advocate:bo")[-1]
        assert "letter from the council" in history.text and history.sensitive
        assert "case.read" in await audit_actions(harbour)
    finally:
        await harbour.close()


async def test_handover_introduces_the_new_advocate(settings: Settings) -> None:
    harbour, sent = await start(settings)
    try:
        case = await enrol(harbour, "s1", await add_advocate(harbour, "amira"), language="ro")
        await onboard(harbour, "s1")
        await add_advocate(harbour, "bo")
        await say(harbour, "s1", "Buna ziua, am o intrebare despre programare")
        await say(harbour, "advocate:amira", f"/handover {case} bo")
        intro = sent.to("s1")[-1]
        assert "bo" in intro.text and "De acum" in intro.text  # in Romanian
        await say(harbour, "s1", "Multumesc, inteleg ce trebuie sa fac acum")
        assert [m.kind for m in sent.to("advocate:bo")] == ["relay"]
        await say(harbour, "advocate:amira", f"#{case} still me?")
        assert "not possible" in sent.to("advocate:amira")[-1].text
        async with UnitOfWork(harbour.db, harbour.cipher) as uow:
            bo = (await uow.session.execute(select(Staff).where(Staff.handle == "bo"))).scalar_one()
            survivor = await uow.people.survivor_by_code(case)
            assert survivor is not None and survivor.advocate_id == bo.id
    finally:
        await harbour.close()


async def test_wipe_command_is_access_controlled(settings: Settings) -> None:
    harbour, sent = await start(settings)
    try:
        case = await enrol(harbour, "s1", await add_advocate(harbour, "amira"))
        await add_advocate(harbour, "cy")
        await say(harbour, "advocate:cy", f"/wipe {case}")
        assert "not possible" in sent.to("advocate:cy")[-1].text
        await say(harbour, "advocate:amira", f"/wipe {case}")
        assert sent.to("advocate:amira"), "the advocate is told what was queued"
        done = await audit_actions(harbour)
        assert "access.denied" in done and "telegram.wipe_requested" in done
        assert sent.to("s1") == [], "nothing shows on the survivor's side"
    finally:
        await harbour.close()


async def test_a_linked_survivor_can_join_a_new_case_with_a_code(settings: Settings) -> None:
    from bot.admin import operations as admin

    harbour, sent = await start(settings)
    try:
        await enrol(harbour, "s1", await add_advocate(harbour, "demo"))
        await add_advocate(harbour, "amira")
        async with UnitOfWork(harbour.db, harbour.cipher) as uow:
            printed = await admin.survivor_enrol(
                uow, harbour.clock.now(), "amira", "pl", "Europe/London", 72, None, None
            )
        code = printed.split("one-time code: ")[1].split()[0]
        for text in (f"JOIN {code}", "1", "1", "Mam pytanie o list z urzędu miasta"):
            await say(harbour, "s1", text)
        assert [m.kind for m in sent.to("advocate:amira")] == ["relay"]
        assert "enrolment.linked" in await audit_actions(harbour)
    finally:
        await harbour.close()
