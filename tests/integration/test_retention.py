"""Retention with time travel: after the purge, a search of the whole database (decrypted)
finds nothing older than its period; a dry run changes nothing; counts, never content."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.ports import ManualClock
from bot.privacy.retention import Periods, purge
from bot.settings import Settings
from bot.store.models import AuditEvent, ErasureTombstone, Survivor
from bot.store.records import unseal_detail
from bot.store.uow import UnitOfWork
from tests.harness import add_advocate, enrol, onboard, say, start
from tests.security.database_scan import readable_dump

OLD = "canary-old-r5t1"
NEW = "canary-new-h2j7"
CLOSED = "canary-closed-w9q4"
START = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


async def test_purge_removes_everything_past_its_period(settings: Settings) -> None:
    clock = ManualClock(START)
    harbour, _sent = await start(settings, clock=clock)
    try:
        advocate = await add_advocate(harbour)
        code = await enrol(harbour, "+447700900101", advocate)
        closed_code = await enrol(harbour, "+447700900202", advocate)
        for address, canary in (("+447700900101", OLD), ("+447700900202", CLOSED)):
            await onboard(harbour, address)
            await say(harbour, address, f"about my housing {canary} thanks")
        await say(harbour, "advocate:amira", f"#{code} noted {OLD}")
        async with UnitOfWork(harbour.db, harbour.cipher) as uow:
            closed = await uow.people.survivor_by_code(closed_code)
            assert closed is not None
            closed.status = "closed"
        clock.set(START + timedelta(days=800))  # past every default period
        await say(harbour, "+447700900101", f"still here {NEW} thanks")
        periods = Periods.from_settings(settings)

        before = await readable_dump(harbour.db, harbour.cipher)
        assert OLD in before and CLOSED in before and NEW in before
        dry = await purge(harbour.db, harbour.cipher, clock.now(), periods, apply=False)
        assert dry.message_bodies > 0 and dry.inbox_payloads > 0 and dry.outbox_rows > 0
        assert dry.audit_details > 0 and dry.closed_cases == 1
        assert await readable_dump(harbour.db, harbour.cipher) == before  # nothing changed

        await harbour.run_due()  # the nightly ticker purges on its first tick
        after = await readable_dump(harbour.db, harbour.cipher)
        assert OLD not in after and CLOSED not in after
        assert NEW in after  # recent data is untouched
        async with UnitOfWork(harbour.db, harbour.cipher) as uow:
            stones = list((await uow.session.execute(select(ErasureTombstone))).scalars())
            assert [s.case_code for s in stones] == [closed_code]
            assert await uow.people.survivor_by_code(code) is not None  # active case kept
            old_details = (
                await uow.session.execute(
                    select(AuditEvent.detail_enc).where(
                        AuditEvent.at < clock.now() - periods.audit_details
                    )
                )
            ).scalars()
            assert all(detail is None for detail in old_details)
            purged = (
                await uow.session.execute(
                    select(AuditEvent).where(AuditEvent.action == "retention.purged")
                )
            ).scalar_one()
            detail = unseal_detail(harbour.cipher, purged)
            assert detail == {k: v for k, v in detail.items() if isinstance(v, int)}
            assert detail["closed_cases"] == 1
            statuses = (await uow.session.execute(select(Survivor.status))).scalars()
            assert "closed" not in set(statuses)
    finally:
        await harbour.close()


async def test_a_second_purge_finds_nothing(settings: Settings) -> None:
    clock = ManualClock(START)
    harbour, _sent = await start(settings, clock=clock)
    try:
        await enrol(harbour, "+447700900303", await add_advocate(harbour))
        await onboard(harbour, "+447700900303")
        clock.set(START + timedelta(days=365))
        periods = Periods.from_settings(settings)
        first = await purge(harbour.db, harbour.cipher, clock.now(), periods, apply=True)
        second = await purge(harbour.db, harbour.cipher, clock.now(), periods, apply=False)
        assert first.message_bodies > 0
        assert (second.message_bodies, second.inbox_payloads, second.outbox_rows) == (0, 0, 0)
    finally:
        await harbour.close()
