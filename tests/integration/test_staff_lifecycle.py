"""Staff lifecycle through chat and the admin operations: cover ends with /back, deactivated
staff can do nothing, a deactivation moves the cases explicitly and whoever receives them can
read and reply, and one audited refusal for unknown and unauthorised alert codes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bot.admin import operations as admin
from bot.admin.operations import AdminError
from bot.bootstrap import Harbour
from bot.settings import Settings
from bot.store.escalation_models import Escalation
from bot.store.models import AuditEvent
from bot.store.uow import UnitOfWork
from tests.harness import add_advocate, enrol, onboard, say, start


async def actions(harbour: Harbour) -> list[str]:
    async with UnitOfWork(harbour.db, harbour.cipher) as uow:
        return list((await uow.session.execute(select(AuditEvent.action))).scalars())


async def deactivate(
    harbour: Harbour, handle: str, to: str | None = None, to_duty: bool = False
) -> str:
    async with UnitOfWork(harbour.db, harbour.cipher) as uow:
        out = await admin.staff_deactivate(
            uow, harbour.clock.now(), handle, to, to_duty, harbour.bundle
        )
    await harbour.drain()  # the warm introductions go out
    return out


def last(sent: list[object]) -> str:
    return str(getattr(sent[-1], "text", ""))


async def test_back_clears_cover_and_a_deactivated_advocate_leaves_nothing_to_the_cover(
    settings: Settings,
) -> None:
    harbour, sent = await start(settings)
    try:
        case = await enrol(harbour, "s1", await add_advocate(harbour, "amira"))
        await onboard(harbour, "s1")
        await add_advocate(harbour, "bo")
        await add_advocate(harbour, "duty1", role="duty")
        await say(harbour, "advocate:amira", "/away bo")
        await say(harbour, "advocate:bo", f"/case {case}")
        assert "not possible" not in last(sent.to("advocate:bo")), "bo covers while amira is away"
        await say(harbour, "advocate:amira", "/back")
        async with UnitOfWork(harbour.db, harbour.cipher) as uow:
            amira = await uow.people.staff_by_handle("amira")
            assert amira is not None and amira.cover_id is None and amira.away_until is None
        await deactivate(harbour, "amira", to_duty=True)
        for text in (f"/case {case}", f"#{case} hello again"):
            await say(harbour, "advocate:bo", text)
            assert "not possible" in last(sent.to("advocate:bo"))
        assert not [m for m in sent.to("s1") if m.kind == "reply"]
    finally:
        await harbour.close()


async def test_an_inactive_advocate_is_not_away_so_the_old_cover_gets_nothing(
    settings: Settings,
) -> None:
    """Data left by the old code: amira inactive, still away and covered by bo."""
    harbour, sent = await start(settings)
    try:
        case = await enrol(harbour, "s1", await add_advocate(harbour, "amira"))
        await onboard(harbour, "s1")
        bo = await add_advocate(harbour, "bo")
        await add_advocate(harbour, "duty1", role="duty")
        async with UnitOfWork(harbour.db, harbour.cipher) as uow:
            amira = await uow.people.staff_by_handle("amira")
            assert amira is not None
            amira.active, amira.cover_id = False, bo
        await say(harbour, "advocate:bo", f"#{case} hello")
        assert "not possible" in last(sent.to("advocate:bo"))
        await say(harbour, "s1", "I need to ask about my appointment next week")
        assert [m.kind for m in sent.to("staff:duty1")] == ["relay"]
        await say(harbour, "staff:duty1", f"/case {case}")  # nobody answers it: duty may
        assert "appointment next week" in last(sent.to("staff:duty1"))
    finally:
        await harbour.close()


async def test_deactivated_staff_can_do_nothing(settings: Settings) -> None:
    harbour, sent = await start(settings)
    try:
        case = await enrol(harbour, "s1", await add_advocate(harbour, "amira"))
        await add_advocate(harbour, "bo")
        await deactivate(harbour, "amira", to="bo")
        before = await actions(harbour)
        for text in ("/cases", "/away bo", "/back", f"/case {case}", f"#{case} hi", "hello"):
            await say(harbour, "advocate:amira", text)
            assert last(sent.to("advocate:amira")) == "That is not possible for this case."
        async with UnitOfWork(harbour.db, harbour.cipher) as uow:
            amira = await uow.people.staff_by_handle("amira")
            assert amira is not None and amira.cover_id is None and amira.away_until is None
        denied = (await actions(harbour))[len(before) :]
        assert denied.count("access.denied") == 6
    finally:
        await harbour.close()


async def test_deactivation_moves_cases_explicitly(settings: Settings) -> None:
    harbour, sent = await start(settings)
    try:
        amira = await add_advocate(harbour, "amira")
        first = await enrol(harbour, "s1", amira)
        second = await enrol(harbour, "s2", amira)
        await onboard(harbour, "s1")
        await add_advocate(harbour, "bo")
        await add_advocate(harbour, "duty1", role="duty")
        with pytest.raises(AdminError, match="--to HANDLE"):
            await deactivate(harbour, "amira")  # two cases: say where they go
        with pytest.raises(AdminError, match="another active advocate"):
            await deactivate(harbour, "amira", to="duty1")
        out = await deactivate(harbour, "amira", to="bo")
        assert "2 case(s) moved to bo" in out
        assert "bo" in last(sent.to("s1")), "the survivor is introduced to bo"
        await say(harbour, "advocate:bo", f"/case {first}")
        assert "not possible" not in last(sent.to("advocate:bo"))
        await say(harbour, "advocate:bo", f"#{second} hello from bo")
        assert "not possible" not in last(sent.to("advocate:bo"))

        await deactivate(harbour, "bo", to_duty=True)
        await say(harbour, "staff:duty1", "/cases")
        assert first in last(sent.to("staff:duty1")) and second in last(sent.to("staff:duty1"))
        await say(harbour, "staff:duty1", f"/case {first}")
        assert "not possible" not in last(sent.to("staff:duty1"))
        await say(harbour, "staff:duty1", f"#{first} the duty team here")
        assert [m.text for m in sent.to("s1") if m.kind == "reply"][
            -1
        ] == "Duty1: the duty team here"
    finally:
        await harbour.close()


async def test_reactivated_staff_work_again(settings: Settings) -> None:
    harbour, sent = await start(settings)
    try:
        await add_advocate(harbour, "amira")
        await deactivate(harbour, "amira")
        async with UnitOfWork(harbour.db, harbour.cipher) as uow:
            out = await admin.staff_reactivate(uow, harbour.clock.now(), "amira")
        assert "reactivated amira" in out
        await say(harbour, "advocate:amira", "/cases")
        assert "not possible" not in last(sent.to("advocate:amira"))
    finally:
        await harbour.close()


async def test_unknown_and_unauthorised_alert_codes_get_one_audited_refusal(
    settings: Settings,
) -> None:
    """The hole: an unknown code said "no open alert", someone else's "not possible"."""
    harbour, sent = await start(settings)
    try:
        await enrol(harbour, "s1", await add_advocate(harbour, "amira"))
        await onboard(harbour, "s1")
        await add_advocate(harbour, "cy")
        await say(harbour, "s1", "he is here, he found me")
        async with UnitOfWork(harbour.db, harbour.cipher) as uow:
            (code,) = (await uow.session.execute(select(Escalation.code))).scalars()
        answers = []
        for text in (f"ACK {code}", "ACK EZZZZ", f"RESOLVE {code} fine", "RESOLVE EZZZZ fine"):
            await say(harbour, "advocate:cy", text)
            answers.append(last(sent.to("advocate:cy")))
        assert len(set(answers)) == 1 and answers[0] == "That is not possible for this case."
        assert (await actions(harbour)).count("access.denied") == 4
        await say(harbour, "advocate:amira", f"ACK {code}")
        assert "Acknowledged" in last(sent.to("advocate:amira"))
    finally:
        await harbour.close()


async def test_code_command_issues_a_new_code_and_revokes_the_old(settings: Settings) -> None:
    harbour, sent = await start(settings)
    try:
        await add_advocate(harbour, "amira")
        await add_advocate(harbour, "cy")
        async with UnitOfWork(harbour.db, harbour.cipher) as uow:
            printed = await admin.survivor_enrol(
                uow, harbour.clock.now(), "amira", "en", "Europe/London", 72, None, None
            )
        case, old = printed.split()[1], printed.split("one-time code: ")[1].split()[0]
        await say(harbour, "advocate:cy", f"/code {case}")
        assert "not possible" in last(sent.to("advocate:cy"))
        await say(harbour, "advocate:amira", f"/code {case}")
        answer = sent.to("advocate:amira")[-1]
        assert answer.sensitive and "New one-time code" in answer.text
        new = answer.text.split(": ")[1].split()[0]
        assert new != old
        async with UnitOfWork(harbour.db, harbour.cipher) as uow:
            now = harbour.clock.now()
            assert await uow.people.redeem_code(old, now) is None, "the old code is revoked"
            assert await uow.people.redeem_code(new, now) is not None
    finally:
        await harbour.close()


async def test_a_closed_case_is_purged_after_its_retention_period(settings: Settings) -> None:
    from datetime import timedelta

    from bot.admin import cases
    from bot.ports import ManualClock
    from bot.privacy.retention import Periods, purge
    from bot.store.models import ErasureTombstone

    clock = ManualClock(datetime(2026, 1, 5, 12, 0, tzinfo=UTC))
    harbour, _sent = await start(settings, clock=clock)
    try:
        case = await enrol(harbour, "s1", await add_advocate(harbour, "amira"))
        kept = await enrol(harbour, "s2", await add_advocate(harbour, "bo"))
        clock.set(clock.now() + timedelta(days=30))
        async with UnitOfWork(harbour.db, harbour.cipher) as uow:
            await cases.survivor_close(uow, clock.now(), case, 90)
        periods = Periods.from_settings(settings)
        clock.set(clock.now() + periods.closed_cases - timedelta(days=1))
        assert (
            await purge(harbour.db, harbour.cipher, clock.now(), periods, apply=True)
        ).closed_cases == 0
        clock.set(clock.now() + timedelta(days=2))
        counts = await purge(harbour.db, harbour.cipher, clock.now(), periods, apply=True)
        assert counts.closed_cases == 1
        async with UnitOfWork(harbour.db, harbour.cipher) as uow:
            assert await uow.people.survivor_by_code(case) is None
            assert await uow.people.survivor_by_code(kept) is not None
            stones = (await uow.session.execute(select(ErasureTombstone.case_code))).scalars()
            assert list(stones) == [case]
            listed = await cases.survivor_erased(uow, clock.now())
        assert case in listed
    finally:
        await harbour.close()
