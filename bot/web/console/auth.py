"""Signing in and out, and the guard every other page goes through.

    /login         GET the form, POST username + password (+ csrf)
    /login/totp    GET the form, POST code: the second step where TOTP applies
    /logout        POST: the session ends at once

`signed_in(handler)` opens the unit of work, finds the live session (else: to /login),
checks the CSRF token on every POST (else: 403), and hands the page to the handler.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.staff import credentials
from bot.store.models import Staff
from bot.store.uow import UnitOfWork
from bot.web.console import csrf, sessions
from bot.web.console.context import Console
from bot.web.console.render import console_of, error, page, redirect
from bot.web.console.requests import ConsoleRequest

log = logging.getLogger(__name__)
MAX_FIELD = 20_000
LOCKED = "Too many failed attempts. Wait a while, then try again."


@dataclass
class Page:
    """One signed-in request: its transaction, clock reading, staff member and form."""

    console: Console
    uow: UnitOfWork
    now: datetime
    signed: sessions.Signed
    form: dict[str, str] = field(default_factory=dict)

    @property
    def staff(self) -> Staff:
        return self.signed.staff

    @property
    def csrf(self) -> str:
        return csrf.token_for(self.console.cipher, self.signed.token)

    def request(self) -> ConsoleRequest:
        return ConsoleRequest(self.uow, self.now, self.signed.staff, self.console.commands.texts)

    def context(self) -> dict[str, Any]:
        return {"signed": self.signed.staff, "csrf": self.csrf}


Handler = Callable[[Request, Page], Awaitable[Response]]


async def read_form(request: Request) -> dict[str, str] | None:
    """The posted fields as strings, or None when the body is not a small form."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "application/x-www-form-urlencoded":
        return None
    try:
        form: FormData = await request.form(max_files=0, max_fields=50)
    except Exception:  # a malformed body: a clear 400, never a traceback
        return None
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    if any(len(v) > MAX_FIELD for v in fields.values()):
        return None
    return fields


def _cookie(response: Response, console: Console, name: str, value: str) -> None:
    response.set_cookie(
        name,
        value,
        httponly=True,
        samesite="strict",
        secure=console.settings.console_secure_cookies,
        path="/",
    )


def signed_in(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        console = console_of(request)
        form: dict[str, str] = {}
        if request.method == "POST":
            found = await read_form(request)
            if found is None:
                return error(request, 400, "Bad request", "That form could not be read.")
            form = found
        now = console.clock.now()
        woke = False
        async with console.uow() as uow:
            signed = await sessions.find(
                uow, console.settings, request.cookies.get(sessions.COOKIE), now
            )
            if signed is None or signed.session.verified_at is None:
                response = redirect(request, "/login")
                if request.headers.get("HX-Request"):  # htmx polling: leave the whole page
                    response = Response(status_code=200, headers={"HX-Redirect": "/login"})
            elif request.method == "POST" and not csrf.valid(
                console.cipher, signed.token, form.get(csrf.FIELD)
            ):
                uow.audit.record(f"staff:{signed.staff.handle}", "console.csrf_refused", now)
                response = error(
                    request, 403, "Form refused", "This form has expired. Go back, reload the "
                    "page and try again.", signed=signed.staff,
                    csrf=csrf.token_for(console.cipher, signed.token),
                )  # fmt: skip
            else:
                current = Page(console, uow, now, signed, form)
                response = await handler(request, current)
                woke = request.method == "POST"
        if woke:
            console.wake()
        return response

    return endpoint


# -- the sign-in pages ------------------------------------------------------------------------
async def login_form(request: Request) -> Response:
    console = console_of(request)
    pre = request.cookies.get(sessions.PRE_COOKIE) or secrets.token_urlsafe(24)
    response = page(request, "login.html", csrf=csrf.token_for(console.cipher, pre))
    _cookie(response, console, sessions.PRE_COOKIE, pre)
    return response


async def login(request: Request) -> Response:
    console = console_of(request)
    form = await read_form(request)
    if form is None:
        return error(request, 400, "Bad request", "That form could not be read.")
    pre = request.cookies.get(sessions.PRE_COOKIE)
    if not csrf.valid(console.cipher, pre, form.get(csrf.FIELD)):
        return error(request, 403, "Form refused", "This form has expired. Reload and try again.")
    handle = form.get("username", "").strip()[:64]
    password = form.get("password", "")
    token = csrf.token_for(console.cipher, pre or "")
    now = console.clock.now()
    async with console.uow() as uow:
        if await sessions.locked(uow, console.settings, handle, now):
            uow.audit.record("console", "console.locked_out", now)
            return page(request, "login.html", status=429, csrf=token, username=handle,
                        failure=LOCKED)  # fmt: skip
        staff = await uow.people.staff_by_handle(handle) if handle else None
        ok = await credentials.check_password(uow, staff, password)
        if not ok or staff is None or not staff.active:
            sessions.failed(uow, handle, now)
            return page(request, "login.html", status=401, csrf=token, username=handle,
                        failure="Wrong user name or password.")  # fmt: skip
        await sessions.clear_failures(uow, handle)
        found = await credentials.credential(uow, staff.id)
        secret = credentials.totp_secret(uow, found)
        must = console.settings.console_require_totp and staff.role == "admin"
        if must and secret is None:
            return page(request, "login.html", status=403, csrf=token, username=handle,
                        failure="An administrator needs a TOTP code: ask for one to be set up "
                        "with 'harbour staff set-password HANDLE --totp'.")  # fmt: skip
        session_token = await sessions.start(uow, staff, now, verified=secret is None)
    response = redirect(request, "/" if secret is None else "/login/totp")
    _cookie(response, console, sessions.COOKIE, session_token)
    response.delete_cookie(sessions.PRE_COOKIE, path="/")
    return response


async def _pending(request: Request, uow: UnitOfWork, now: datetime) -> sessions.Signed | None:
    console = console_of(request)
    token = request.cookies.get(sessions.COOKIE)
    signed = await sessions.find(uow, console.settings, token, now)
    return signed if signed is not None and signed.session.verified_at is None else None


async def totp_form(request: Request) -> Response:
    console = console_of(request)
    async with console.uow() as uow:
        signed = await _pending(request, uow, console.clock.now())
    if signed is None:
        return redirect(request, "/login")
    return page(request, "totp.html", csrf=csrf.token_for(console.cipher, signed.token))


async def totp(request: Request) -> Response:
    console = console_of(request)
    form = await read_form(request)
    if form is None:
        return error(request, 400, "Bad request", "That form could not be read.")
    now = console.clock.now()
    async with console.uow() as uow:
        signed = await _pending(request, uow, now)
        if signed is None:
            return redirect(request, "/login")
        token = csrf.token_for(console.cipher, signed.token)
        if not csrf.valid(console.cipher, signed.token, form.get(csrf.FIELD)):
            return error(request, 403, "Form refused", "This form has expired.")
        handle = signed.staff.handle
        if await sessions.locked(uow, console.settings, handle, now):
            signed.session.revoked_at = now
            return page(request, "login.html", status=429, csrf="", failure=LOCKED)
        secret = credentials.totp_secret(uow, await credentials.credential(uow, signed.staff.id))
        if secret is None or not credentials.check_totp(secret, form.get("code", ""), now):
            sessions.failed(uow, handle, now)
            return page(request, "totp.html", status=401, csrf=token, failure="Wrong code.")
        signed.session.verified_at = now
    return redirect(request, "/")


async def _logout(request: Request, current: Page) -> Response:
    await sessions.end(current.uow, current.signed, current.now)
    response = redirect(request, "/login")
    response.delete_cookie(sessions.COOKIE, path="/")
    return response


def routes() -> list[Route]:
    return [
        Route("/login", login_form, methods=["GET"]),
        Route("/login", login, methods=["POST"]),
        Route("/login/totp", totp_form, methods=["GET"]),
        Route("/login/totp", totp, methods=["POST"]),
        Route("/logout", signed_in(_logout), methods=["POST"]),
    ]
