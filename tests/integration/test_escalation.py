"""Escalation on SQLite and PostgreSQL: the chain under a virtual clock, acknowledgement (and
from the wrong person), cover, the rota, priority over a backlog, duress, and holding replies
while a survivor cannot talk."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.bootstrap import Harbour
from bot.ports import ManualClock
from bot.settings import Settings
from bot.store.escalation_models import Escalation, RotaShift
from bot.store.models import AuditEvent
from bot.store.sealing import RESOLUTION
from bot.store.uow import UnitOfWork
from tests.harness import Recorder, add_advocate, enrol, onboard, say, start

# A Saturday night in London: out of office hours.
SATURDAY_NIGHT = datetime(2026, 11, 28, 23, 0, tzinfo=UTC)
TUESDAY_NOON = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


async def team(settings: Settings, at: datetime) -> tuple[Harbour, Recorder, ManualClock]:
    clock = ManualClock(at)
    harbour, sent = await start(settings, clock=clock)
    amira = await add_advocate(harbour, "amira")
    await add_advocate(harbour, "bo")  # amira's named cover
    await add_advocate(harbour, "cy")  # an advocate with no part in this case
    await add_advocate(harbour, "duty1", role="duty")
    await add_advocate(harbour, "boss", role="admin")
    async with UnitOfWork(harbour.db, harbour.cipher) as uow:
        advocate, cover = await uow.people.staff(amira), await uow.people.staff_by_handle("bo")
        assert advocate is not None and cover is not None
        advocate.cover_id = cover.id
    return harbour, sent, clock


def alerted(sent: Recorder) -> list[str]:
    return sorted({m.address for m in sent.sent if m.kind == "escalation"})


async def escalation(harbour: Harbour) -> Escalation:
    async with UnitOfWork(harbour.db, harbour.cipher) as uow:
        return (await uow.session.execute(select(Escalation))).scalar_one()


async def actions(harbour: Harbour) -> list[str]:
    async with UnitOfWork(harbour.db, harbour.cipher) as uow:
        return list((await uow.session.execute(select(AuditEvent.action))).scalars())


async def advance(harbour: Harbour, clock: ManualClock, minutes: float) -> None:
    clock.set(clock.now() + timedelta(minutes=minutes))
    await harbour.run_due()


async def test_the_chain_adds_tiers_until_someone_acknowledges(settings: Settings) -> None:
    harbour, sent, clock = await team(settings, SATURDAY_NIGHT)
    try:
        await enrol(harbour, "s1", (await _id(harbour, "amira")))
        await say(harbour, "s1", "he is here, he found me")
        assert alerted(sent) == ["advocate:amira"]
        assert "999" in sent.to("s1")[0].text and sent.to("s1")[0].kind == "message"

        await advance(harbour, clock, 4)
        assert alerted(sent) == ["advocate:amira"], "nothing before the timeout"
        await advance(harbour, clock, 1.5)
        assert alerted(sent) == ["advocate:amira", "advocate:bo"]
        await advance(harbour, clock, 5.5)
        assert alerted(sent) == ["advocate:amira", "advocate:bo", "staff:duty1"]
        await advance(harbour, clock, 5.5)
        assert alerted(sent) == ["advocate:amira", "advocate:bo", "staff:boss", "staff:duty1"]
        repeats = [m for m in sent.to("advocate:amira") if m.kind == "escalation"]
        assert len(repeats) == 4 and "REPEAT" in repeats[-1].text

        code = (await escalation(harbour)).code
        await say(harbour, "advocate:cy", f"ACK {code}")  # not theirs, never alerted
        assert "not possible" in sent.to("advocate:cy")[-1].text
        assert (await escalation(harbour)).status == "open"
        assert "access.denied" in await actions(harbour)

        await say(harbour, "staff:duty1", f"ack {code.lower()}")
        found = await escalation(harbour)
        assert found.status == "acknowledged" and found.next_alert_at is None
        told = [m for m in sent.to("advocate:amira") if m.kind == "alert"]
        assert told and "duty1" in told[-1].text
        before = len(sent.sent)
        await advance(harbour, clock, 30)
        assert not [m for m in sent.sent[before:] if m.kind == "escalation"], "alerts stop"

        await say(harbour, "staff:duty1", f"RESOLVE {code} safe-with-police")
        sealed = (await escalation(harbour)).resolution_enc
        assert sealed is not None and (await escalation(harbour)).resolution is None
        assert harbour.cipher.decrypt_text(sealed, RESOLUTION) == "safe-with-police"
        trail = await actions(harbour)
        for step in (
            "escalation.raised",
            "escalation.alerted",
            "escalation.acknowledged",
            "escalation.resolved",
        ):
            assert step in trail
    finally:
        await harbour.close()


async def _id(harbour: Harbour, handle: str) -> int:
    async with UnitOfWork(harbour.db, harbour.cipher) as uow:
        staff = await uow.people.staff_by_handle(handle)
        assert staff is not None
        return staff.id


async def test_away_advocate_means_cover_first_and_the_ack_button(settings: Settings) -> None:
    harbour, sent, clock = await team(settings, TUESDAY_NOON)
    try:
        await enrol(harbour, "s1", await _id(harbour, "amira"))
        async with UnitOfWork(harbour.db, harbour.cipher) as uow:
            amira = await uow.people.staff_by_handle("amira")
            assert amira is not None
            amira.away_until = clock.now() + timedelta(days=2)
        await say(harbour, "s1", "help now")
        assert alerted(sent) == ["advocate:bo"]
        (alert,) = [m for m in sent.to("advocate:bo") if m.kind == "escalation"]
        value, label = alert.choices[0]
        assert value.startswith("ack:") and label == "Acknowledge"
        await harbour.inbound.accept(
            "local", "button-1", {"from": "advocate:bo", "text": "", "choice": value}
        )
        await harbour.drain()
        assert (await escalation(harbour)).status == "acknowledged"
    finally:
        await harbour.close()


async def test_out_of_hours_the_rota_is_on_call(settings: Settings) -> None:
    harbour, sent, clock = await team(settings, SATURDAY_NIGHT)
    try:
        night = await add_advocate(harbour, "nightowl", role="duty")
        async with UnitOfWork(harbour.db, harbour.cipher) as uow:
            uow.session.add(
                RotaShift(
                    staff_id=night,
                    starts_at=clock.now() - timedelta(hours=2),
                    ends_at=clock.now() + timedelta(hours=8),
                    created_at=clock.now(),
                )
            )
        await enrol(harbour, "s1", None)  # nobody assigned: straight to the on-call tier
        await say(harbour, "s1", "he is here, he found me")
        assert alerted(sent) == ["staff:nightowl"]
    finally:
        await harbour.close()


async def test_escalation_is_the_next_message_sent_past_a_backlog(settings: Settings) -> None:
    harbour, sent, clock = await team(settings, TUESDAY_NOON)
    try:
        await enrol(harbour, "s1", await _id(harbour, "amira"))
        async with UnitOfWork(harbour.db, harbour.cipher) as uow:
            identity = await uow.people.identity("local", "s2-backlog")
            survivor = await uow.people.new_survivor(clock.now(), status="active")
            identity = await uow.people.add_identity(
                "local", "s2-backlog", clock.now(), survivor=survivor
            )
            for n in range(1000):
                uow.outbox.add(
                    channel="local",
                    identity_id=identity.id,
                    now=clock.now(),
                    payload={"text": f"reminder {n}"},
                    priority=0,
                )
        await harbour.inbound.accept("local", "u1", {"from": "s1", "text": "he is here"})
        await harbour.inbound.drain()
        await harbour.sender.send_due(limit=1)
        assert sent.sent[0].kind == "escalation"
    finally:
        await harbour.close()


async def test_duress_word_escalates_silently(settings: Settings) -> None:
    harbour, sent, _clock = await team(settings, TUESDAY_NOON)
    try:
        await enrol(harbour, "s1", await _id(harbour, "amira"), language="pl")
        await onboard(harbour, "s1")
        async with UnitOfWork(harbour.db, harbour.cipher) as uow:
            identity = await uow.people.identity("local", "s1")
            survivor = await uow.people.survivor(identity.survivor_id or 0) if identity else None
            assert survivor is not None
            survivor.duress_word_enc = harbour.cipher.encrypt_text(
                "pomarańcze", "survivor.duress_word"
            )
        before = len(sent.to("s1"))
        await say(harbour, "s1", "kupiłam dziś pomarancze")  # typed without the diacritic
        assert alerted(sent) == ["advocate:amira"]
        alert = next(m for m in sent.to("advocate:amira") if m.kind == "escalation")
        assert "SILENT" in alert.text
        shown = [m.text for m in sent.to("s1")[before:]]
        assert shown == [harbour.bundle.catalogue.text("pl", "duress.reply")]
        assert not any("999" in t or "08000" in t for t in shown)
    finally:
        await harbour.close()


async def test_replies_wait_while_it_is_not_safe_to_talk(settings: Settings) -> None:
    harbour, sent, _clock = await team(settings, TUESDAY_NOON)
    try:
        case = await enrol(harbour, "s1", await _id(harbour, "amira"))
        await say(harbour, "s1", "hello")
        await say(harbour, "s1", "2")  # "Not now": not safe to talk
        quiet = len(sent.to("s1"))
        await say(harbour, "advocate:amira", f"#{case} Are you OK? Call me when you can.")
        assert len(sent.to("s1")) == quiet, "nothing is sent while it is not safe"
        await say(harbour, "s1", "I can talk now")
        assert any("Call me when you can" in m.text for m in sent.to("s1")[quiet:])
    finally:
        await harbour.close()


async def test_two_workers_never_double_alert(settings: Settings) -> None:
    harbour, _sent, clock = await team(settings, SATURDAY_NIGHT)
    try:
        await enrol(harbour, "s1", await _id(harbour, "amira"))
        await say(harbour, "s1", "help now")
        clock.set(clock.now() + timedelta(minutes=6))
        ticker = harbour.pacemaker.tickers[0]
        await asyncio.gather(ticker.tick(clock.now()), ticker.tick(clock.now()))
        assert (await escalation(harbour)).alerts_sent == 2
    finally:
        await harbour.close()


class ScriptedTranslator:
    """Translates one made-up phrase to an urgent English sentence; everything else verbatim."""

    async def translate(self, text: str, source: str | None, target: str) -> str | None:
        return "he is here, he found me" if "xyzzy" in text else f"({target}) {text}"


async def test_english_translation_is_a_second_opinion(settings: Settings) -> None:
    clock = ManualClock(TUESDAY_NOON)
    harbour, sent = await start(settings, clock=clock, translator=ScriptedTranslator())
    try:
        await enrol(harbour, "s1", await add_advocate(harbour, "amira"), language="pl")
        await onboard(harbour, "s1")
        await say(harbour, "s1", "xyzzy plugh qwerty zork")  # nothing the Polish bank knows
        (alert,) = [m for m in sent.to("advocate:amira") if m.kind == "escalation"]
        assert "machine translation" in alert.text
        assert (await escalation(harbour)).reason.startswith("translation:")
        await say(harbour, "s1", "xyzzy plugh qwerty zork again")  # no second alarm so soon
        assert len([m for m in sent.to("advocate:amira") if m.kind == "escalation"]) == 1
    finally:
        await harbour.close()
