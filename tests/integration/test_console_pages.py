"""Console pages over HTTP: caseload, case timeline (originals, language, marked machine
translation), reply through the relay, quick replies, notes, appointments, alerts with ACK,
the duty view, and the one access policy (403 for another advocate's case)."""

from __future__ import annotations

from sqlalchemy import select

from bot.settings import Settings
from bot.store.console_models import CaseNote
from bot.store.escalation_models import Escalation
from bot.store.models import AuditEvent
from bot.store.uow import UnitOfWork
from tests.harness import add_advocate, enrol, onboard, say
from tests.integration.console_harness import site


async def audit_actions(s) -> list[str]:  # type: ignore[no-untyped-def]
    async with UnitOfWork(s.harbour.db, s.harbour.cipher) as uow:
        return list((await uow.session.execute(select(AuditEvent.action))).scalars())


async def test_caseload_case_reply_note_and_refusal(settings: Settings) -> None:
    async with site(settings) as s:
        amira = await add_advocate(s.harbour, "amira")
        await add_advocate(s.harbour, "bo")
        case = await enrol(s.harbour, "s1", amira, language="pl")
        other = await enrol(s.harbour, "s2", None)
        await onboard(s.harbour, "s1")
        await say(s.harbour, "s1", "Dzień dobry, potrzebuję pomocy z mieszkaniem")
        await s.set_password("amira")
        await s.sign_in("amira")
        caseload = await s.client.get("/?sort=code")
        assert case in caseload.text and other not in caseload.text
        page = await s.client.get(f"/case/{case}")
        assert page.status_code == 200 and "mieszkaniem" in page.text
        assert 'dir="auto"' in page.text and page.headers["cache-control"] == "no-store"
        reply = await s.post(f"/case/{case}/reply", {"text": "Hello, I can help"}, f"/case/{case}")
        assert reply.status_code == 303
        await s.harbour.drain()
        assert any("Hello, I can help" in m.text for m in s.sent.to("s1"))
        quick = await s.post(f"/case/{case}/quick", {"name": "call_tomorrow"}, f"/case/{case}")
        assert quick.status_code == 303
        await s.harbour.drain()
        assert s.sent.to("s1")[-1].text == "Amira: Zadzwonię do Ciebie jutro."
        page = await s.client.get(f"/case/{case}")
        assert "quick reply" in page.text
        note = await s.post(f"/case/{case}/notes", {"note": "Prefers calls after 6pm"}, "/")
        assert note.status_code == 303
        await s.harbour.drain()
        assert not any("6pm" in m.text for m in s.sent.sent)
        page = await s.client.get(f"/case/{case}")
        assert "Prefers calls after 6pm" in page.text
        async with UnitOfWork(s.harbour.db, s.harbour.cipher) as uow:
            stored = (await uow.session.execute(select(CaseNote))).scalar_one()
            assert b"6pm" not in stored.body_enc
        actions = await audit_actions(s)
        assert actions.count("case.read") >= 2 and "case.notes_read" in actions
        refused = await s.client.get(f"/case/{other}")
        assert refused.status_code == 403
        unknown = await s.client.get("/case/NOPE12")
        assert unknown.status_code == 403
        await s.post("/logout", {})
        await s.set_password("bo")
        await s.sign_in("bo")
        assert (await s.client.get(f"/case/{case}")).status_code == 403
        assert (await s.post(f"/case/{case}/reply", {"text": "hi"}, "/")).status_code == 403


async def test_alerts_page_ack_and_appointments(settings: Settings) -> None:
    async with site(settings) as s:
        amira = await add_advocate(s.harbour, "amira")
        await add_advocate(s.harbour, "duty1", role="duty")
        case = await enrol(s.harbour, "s1", amira)
        await onboard(s.harbour, "s1")
        await say(s.harbour, "s1", "HELP NOW he is here and he hit me")
        await s.set_password("amira")
        await s.sign_in("amira")
        async with UnitOfWork(s.harbour.db, s.harbour.cipher) as uow:
            escalation = (await uow.session.execute(select(Escalation))).scalars().first()
            assert escalation is not None
            code = escalation.code
        alerts = await s.client.get("/alerts")
        assert code in alerts.text and 'hx-get="/alerts/table"' in alerts.text
        table = await s.client.get("/alerts/table")
        assert code in table.text and "<html" not in table.text
        acked = await s.post(f"/alerts/{code}/ack", {}, "/alerts")
        assert acked.status_code == 303
        async with UnitOfWork(s.harbour.db, s.harbour.cipher) as uow:
            row = (await uow.session.execute(select(Escalation))).scalars().first()
            assert row is not None and row.status == "acknowledged"
        async with UnitOfWork(s.harbour.db, s.harbour.cipher) as uow:
            survivor = await uow.people.survivor_by_code(case)
            assert survivor is not None and s.harbour.escalations is not None
            later = await s.harbour.escalations.raise_(
                uow, s.harbour.clock.now(), survivor, "help_now", False
            )
        page = await s.client.get(f"/case/{case}")  # a notice after the last message shows
        assert "Notice to staff" in page.text and later.code in page.text
        day = s.harbour.clock.now().date().toordinal() + 10
        from datetime import date

        when = date.fromordinal(day).isoformat()
        added = await s.post(
            f"/case/{case}/appointments",
            {"day": when, "time": "10:30", "kind": "solicitor", "place": "High St"},
            f"/case/{case}",
        )
        assert added.status_code == 303
        page = await s.client.get(f"/case/{case}")
        assert "solicitor" in page.text and "High St" in page.text
        assert (await s.client.get("/duty")).status_code == 403  # advocates have no duty view
        await s.post("/logout", {})
        await s.set_password("duty1")
        await s.sign_in("duty1")
        duty = await s.client.get("/duty")
        assert duty.status_code == 200 and "On call now" in duty.text


async def test_erasure_removes_case_notes_and_moving_or_cancelling_appointments(
    settings: Settings,
) -> None:
    from datetime import timedelta

    from bot.privacy.erasure import erase
    from bot.store.models import Appointment

    async with site(settings) as s:
        amira = await add_advocate(s.harbour, "amira")
        case = await enrol(s.harbour, "s1", amira)
        await onboard(s.harbour, "s1")
        await s.set_password("amira")
        await s.sign_in("amira")
        day = (s.harbour.clock.now() + timedelta(days=10)).date().isoformat()
        later = (s.harbour.clock.now() + timedelta(days=12)).date().isoformat()
        await s.post(f"/case/{case}/appointments", {"day": day, "time": "10:30", "kind": "gp"}, "/")
        async with UnitOfWork(s.harbour.db, s.harbour.cipher) as uow:
            appointment = (await uow.session.execute(select(Appointment))).scalar_one()
            ident = appointment.id
        moved = await s.post(
            f"/case/{case}/appointments/{ident}/move", {"day": later, "time": "11:00"}, "/"
        )
        assert moved.status_code == 303
        cancelled = await s.post(f"/case/{case}/appointments/{ident}/cancel", {}, "/")
        assert cancelled.status_code == 303
        async with UnitOfWork(s.harbour.db, s.harbour.cipher) as uow:
            appointment = (await uow.session.execute(select(Appointment))).scalar_one()
            assert appointment.status == "cancelled"
            assert appointment.starts_at.date().isoformat() == later
        await s.post(f"/case/{case}/notes", {"note": "a note to be erased"}, "/")
        async with UnitOfWork(s.harbour.db, s.harbour.cipher) as uow:
            survivor = await uow.people.survivor_by_code(case)
            assert survivor is not None
            await erase(uow, s.harbour.clock.now(), survivor, actor="cli:root")
        async with UnitOfWork(s.harbour.db, s.harbour.cipher) as uow:
            assert (await uow.session.execute(select(CaseNote))).first() is None
        assert (await s.client.get(f"/case/{case}")).status_code == 403


class Dictionary:
    """A translator that always answers: the text, marked, in the target language."""

    async def translate(self, text: str, source: str | None, target: str) -> str | None:
        return f"[{target}] {text[::-1]}"


async def test_the_timeline_marks_machine_translation(settings: Settings) -> None:
    import httpx

    from bot.web.console.app import create_console_app
    from tests.harness import start
    from tests.integration.console_harness import Site, console_for

    harbour, sent = await start(settings, translator=Dictionary())
    console = console_for(harbour)
    transport = httpx.ASGITransport(app=create_console_app(console))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        s = Site(harbour, sent, console, client)
        try:
            case = await enrol(harbour, "s1", await add_advocate(harbour, "amira"), "pl")
            await onboard(harbour, "s1")
            await say(harbour, "s1", "Potrzebuję pomocy z mieszkaniem")
            await s.set_password("amira")
            await s.sign_in("amira")
            page = await s.client.get(f"/case/{case}")
            assert "Machine translation (en), may be wrong" in page.text
            assert "[en] " + "Potrzebuję pomocy z mieszkaniem"[::-1] in page.text
            assert page.text.index("Potrzebuję pomocy") < page.text.index("Machine translation")
        finally:
            await harbour.close()


async def test_another_capability_can_add_a_case_panel(settings: Settings) -> None:
    from jinja2 import ChoiceLoader, DictLoader

    from bot.web.console.context import CasePanel

    async with site(settings) as s:
        extra = DictLoader({"panels/plan.html": "<section><p>{{ data.steps }}</p></section>"})
        s.console.env.loader = ChoiceLoader([s.console.env.loader, extra])  # type: ignore[list-item]

        async def load(view):  # type: ignore[no-untyped-def]
            return {"steps": f"3 steps for {view.survivor.case_code}"}

        s.console.panels.append(CasePanel("plan", "panels/plan.html", load))
        case = await enrol(s.harbour, "s1", await add_advocate(s.harbour, "amira"))
        await s.set_password("amira")
        await s.sign_in("amira")
        page = await s.client.get(f"/case/{case}")
        assert f"3 steps for {case}" in page.text
        assert page.text.index("Case notes") < page.text.index("3 steps")
