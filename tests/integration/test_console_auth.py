"""Console sign-in: argon2 passwords, server-side sessions (idle and absolute limits, sign
out, deactivation), CSRF on every form, lockout, TOTP for admins, and the headers."""

from __future__ import annotations

from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import select

from bot.settings import Settings
from bot.staff import credentials
from bot.store.console_models import ConsoleSession, StaffCredential
from bot.store.uow import UnitOfWork
from tests.harness import add_advocate
from tests.integration.console_harness import PASSWORD, site


async def test_sign_in_reaches_the_caseload_and_sign_out_ends_the_session(
    settings: Settings,
) -> None:
    async with site(settings) as s:
        await add_advocate(s.harbour, "amira")
        await s.set_password("amira")
        assert (await s.client.get("/")).status_code == 303  # to /login
        response = await s.sign_in("amira")
        assert response.status_code == 303 and response.headers["location"] == "/"
        cookie = response.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
        page = await s.client.get("/")
        assert page.status_code == 200 and "My caseload" in page.text
        assert page.headers["cache-control"] == "no-store"
        csp = page.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
        assert "unsafe-inline" not in csp
        out = await s.post("/logout", {})
        assert out.status_code == 303
        assert (await s.client.get("/")).status_code == 303
        async with UnitOfWork(s.harbour.db, s.harbour.cipher) as uow:
            rows = list((await uow.session.execute(select(ConsoleSession))).scalars())
            assert rows and all(r.revoked_at is not None for r in rows)
            stored = await uow.session.get(StaffCredential, rows[0].staff_id)
            assert stored is not None and stored.password_hash.startswith("$argon2id$")


async def test_a_form_without_its_csrf_token_is_refused(settings: Settings) -> None:
    async with site(settings) as s:
        await add_advocate(s.harbour, "amira")
        await s.set_password("amira")
        await s.client.get("/login")
        bare = await s.client.post("/login", data={"username": "amira", "password": PASSWORD})
        assert bare.status_code == 403
        await s.sign_in("amira")
        refused = await s.client.post("/logout", data={"csrf": "forged"})
        assert refused.status_code == 403 and "expired" in refused.text
        assert (await s.client.get("/")).status_code == 200  # still signed in


async def test_repeated_failures_lock_the_account_even_for_the_right_password(
    settings: Settings,
) -> None:
    async with site(settings) as s:
        await add_advocate(s.harbour, "amira")
        await s.set_password("amira")
        for _ in range(settings.console_lockout_failures):
            assert (await s.sign_in("amira", "wrong password!")).status_code == 401
        locked = await s.sign_in("amira")
        assert locked.status_code == 429 and "Too many" in locked.text
        assert (await s.client.get("/")).status_code == 303


async def test_sessions_end_when_idle_too_long_and_when_deactivated(settings: Settings) -> None:
    async with site(settings) as s:
        await add_advocate(s.harbour, "amira")
        await s.set_password("amira")
        await s.sign_in("amira")
        assert (await s.client.get("/")).status_code == 200
        async with UnitOfWork(s.harbour.db, s.harbour.cipher) as uow:
            row = (await uow.session.execute(select(ConsoleSession))).scalar_one()
            row.last_seen_at -= timedelta(minutes=settings.console_idle_minutes + 1)
        assert (await s.client.get("/")).status_code == 303
        await s.sign_in("amira")
        assert (await s.client.get("/")).status_code == 200
        async with UnitOfWork(s.harbour.db, s.harbour.cipher) as uow:
            staff = await uow.people.staff_by_handle("amira")
            assert staff is not None
            staff.active = False
        assert (await s.client.get("/")).status_code == 303


async def test_absolute_limit(settings: Settings) -> None:
    async with site(settings) as s:
        await add_advocate(s.harbour, "amira")
        await s.set_password("amira")
        await s.sign_in("amira")
        async with UnitOfWork(s.harbour.db, s.harbour.cipher) as uow:
            row = (await uow.session.execute(select(ConsoleSession))).scalar_one()
            row.created_at -= timedelta(hours=settings.console_absolute_hours, minutes=1)
        assert (await s.client.get("/")).status_code == 303


async def test_admins_need_a_totp_code_when_required(settings: Settings) -> None:
    strict = settings.model_copy(update={"console_require_totp": True})
    async with site(strict) as s:
        await add_advocate(s.harbour, "boss", role="admin")
        await s.set_password("boss")
        refused = await s.sign_in("boss")
        assert refused.status_code == 403 and "TOTP" in refused.text
        async with UnitOfWork(s.harbour.db, s.harbour.cipher) as uow:
            staff = await uow.people.staff_by_handle("boss")
            assert staff is not None
            secret = await credentials.set_totp(uow, staff, s.harbour.clock.now())
        step = await s.sign_in("boss")
        assert step.headers["location"] == "/login/totp"
        assert (await s.client.get("/")).status_code == 303  # not until the code is given
        wrong = await s.post("/login/totp", {"code": "000000"}, page="/login/totp")
        assert wrong.status_code == 401
        code = pyotp.TOTP(secret).at(s.harbour.clock.now())
        done = await s.post("/login/totp", {"code": code}, page="/login/totp")
        assert done.status_code == 303 and done.headers["location"] == "/"
        assert (await s.client.get("/")).status_code == 200


@pytest.mark.parametrize("body", [b"\xff\xfe", b"a=" + b"x" * 70000])
async def test_bad_bodies_get_400_or_413_never_500(settings: Settings, body: bytes) -> None:
    async with site(settings) as s:
        await s.client.get("/login")
        response = await s.client.post(
            "/login", content=body, headers={"content-type": "application/x-www-form-urlencoded"}
        )
        assert response.status_code in (400, 403, 413)


async def test_htmx_polling_after_the_session_ended_goes_to_sign_in(settings: Settings) -> None:
    async with site(settings) as s:
        response = await s.client.get("/alerts/table", headers={"HX-Request": "true"})
        assert response.status_code == 200 and response.headers["hx-redirect"] == "/login"


async def test_odd_requests_get_clear_answers(settings: Settings) -> None:
    async with site(settings) as s:
        await add_advocate(s.harbour, "amira")
        await s.set_password("amira")
        await s.sign_in("amira")
        token = await s.csrf("/")
        assert (await s.client.get("/nowhere")).status_code == 404
        assert (await s.client.get("/logout")).status_code == 405
        assert (await s.client.get("/case/X?before=99999999999999999999")).status_code == 403
        huge = "/case/X/appointments/99999999999999999999/cancel"
        assert (await s.client.post(huge, data={"csrf": token})).status_code == 403
        as_json = await s.client.post("/case/X/reply", json={"text": "hi", "csrf": token})
        assert as_json.status_code == 400
        assert (await s.client.get("/?sort=nonsense")).status_code == 200
        assert (await s.client.post("/alerts/EZZZZ/ack", data={"csrf": token})).status_code == 403
