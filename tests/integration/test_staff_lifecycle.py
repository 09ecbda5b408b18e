"""Staff lifecycle through chat and the admin operations: cover ends with /back, deactivated
staff can do nothing, a deactivation moves the cases explicitly and whoever receives them can
read and reply, and one audited refusal for unknown and unauthorised alert codes."""

from __future__ import annotations

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
        await say(harbour, "staff:duty1", f"/case {first}")
        assert "not possible" not in last(sent.to("staff:duty1"))
        await say(harbour, "staff:duty1", f"#{first} the duty team here")
        assert [m.text for m in sent.to("s1") if m.kind == "reply"][-1] == "the duty team here"
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
