"""Contact-loss watch: signals add up to graded alerts for the advocate, with the reasons and
the channels on file, and nothing ever goes to the survivor."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.bootstrap import Harbour
from bot.care.contact_watch import silence_points, usual_gap
from bot.settings import Settings
from bot.store.models import ContactWatch, Identity, OutboxItem, Survivor
from bot.store.uow import UnitOfWork
from tests.harness import add_advocate, say
from tests.integration.test_reminders import ADVOCATE, harbour_at, survivor, texts, travel

START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def alerts(sent: object) -> list[str]:
    return [t for t in texts(sent, ADVOCATE) if t.startswith("Contact-loss")]  # type: ignore[arg-type]


async def watch_row(harbour: Harbour, case: str) -> ContactWatch:
    async with UnitOfWork(harbour.db, harbour.cipher) as uow:
        found = await uow.session.scalar(select(Survivor).where(Survivor.case_code == case))
        assert found is not None
        row = await uow.session.get(ContactWatch, found.id)
        assert row is not None
        return row


def test_rhythm_and_silence_points() -> None:
    daily = [START + timedelta(days=n) for n in range(10)]
    assert usual_gap(daily) == timedelta(days=1)
    assert usual_gap(daily[:2]) is None, "too few messages to know a rhythm"
    assert silence_points(timedelta(days=2), timedelta(days=1)) == 0
    assert silence_points(timedelta(days=4), timedelta(days=1)) == 2
    assert silence_points(timedelta(days=7), timedelta(days=1)) == 3
    weekly = timedelta(days=7)
    assert silence_points(timedelta(days=10), weekly) == 0, "quiet for them is normal"


async def test_failed_sends_and_a_block_raise_a_graded_alert_with_channels(
    settings: Settings,
) -> None:
    harbour, sent, clock = await harbour_at(settings, START)
    try:
        case = await survivor(harbour, "s1", await add_advocate(harbour))
        async with UnitOfWork(harbour.db, harbour.cipher) as uow:
            identity = await uow.people.identity("local", "s1")
            assert identity is not None and identity.survivor_id is not None
            survivor_row = await uow.people.survivor(identity.survivor_id)
            assert survivor_row is not None
            await uow.people.add_identity("sms", "+447700900123", START, survivor=survivor_row)
            for _ in range(2):
                item = uow.outbox.add(
                    channel="local", identity_id=identity.id, payload={"text": "x"}, now=START
                )
                item.status = "failed"
        clock.set(START + timedelta(minutes=1))
        await harbour.run_due()
        (first,) = alerts(sent)
        assert first.startswith("Contact-loss watch — case " + case)
        assert "2 message(s) failed or undelivered" in first
        assert "Channels on file: local (active), sms (active)" in first
        assert "+4477" not in first, "channels are named, numbers never shown"
        await harbour.run_due()
        assert len(alerts(sent)) == 1, "the same level is told once"
        async with UnitOfWork(harbour.db, harbour.cipher) as uow:
            blocked = await uow.people.identity("local", "s1")
            assert blocked is not None
            blocked.status = "blocked"
        clock.set(START + timedelta(hours=2))
        await harbour.run_due()
        second = alerts(sent)[-1]
        assert second.startswith("Contact-loss CONCERN") and "bot is blocked on local" in second
        assert (await watch_row(harbour, case)).alerted_level == 2
        to_survivor = [m for m in sent.to("s1") if "Contact" in m.text]
        assert to_survivor == [], "never to the survivor"
    finally:
        await harbour.close()


async def test_silence_beyond_their_rhythm_and_unanswered_checkins(settings: Settings) -> None:
    harbour, sent, clock = await harbour_at(settings, START)
    try:
        case = await survivor(harbour, "s1", await add_advocate(harbour))
        for day in range(1, 8):  # writes every day for a week
            clock.set(START + timedelta(days=day))
            await say(harbour, "s1", "menu")
        await say(harbour, ADVOCATE, f"/checkin {case} daily 12:00")
        assert alerts(sent) == []
        await travel(harbour, clock, START + timedelta(days=11, hours=4))
        row = await watch_row(harbour, case)
        assert "silence" in row.reasons and "unanswered_checkins" in row.reasons
        assert row.level >= 2
        told = alerts(sent)
        assert any("silent for 3 days (usually writes every 24 hours)" in t for t in told)
        assert any("check-in(s) unanswered in a row" in t for t in told)
        # Writing again brings the level down; a later rise would be told again.
        await say(harbour, "s1", "1")  # answers the check-in that is waiting
        clock.set(clock.now() + timedelta(hours=1, minutes=1))
        await harbour.run_due()
        assert (await watch_row(harbour, case)).level == 0
        stmt = select(OutboxItem).join(Identity, Identity.id == OutboxItem.identity_id)
        async with UnitOfWork(harbour.db, harbour.cipher) as uow:
            rows = (await uow.session.execute(stmt.where(Identity.survivor_id.is_not(None)))).all()
        assert all(r[0].kind != "alert" for r in rows), "no alert row to a survivor address"
    finally:
        await harbour.close()
