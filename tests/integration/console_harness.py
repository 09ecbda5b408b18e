"""A real Harbour with its console app, driven in-process over httpx (same event loop, so
both SQLite and PostgreSQL connections stay on it)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx

from bot.bootstrap import Harbour
from bot.settings import Settings
from bot.staff import credentials
from bot.store.uow import UnitOfWork
from bot.web.console.app import create_console_app
from bot.web.console.context import Console
from tests.harness import Recorder, start

PASSWORD = "correct horse battery staple"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def console_for(harbour: Harbour) -> Console:
    assert harbour.commands is not None and harbour.escalations is not None
    return Console(
        settings=harbour.settings,
        db=harbour.db,
        cipher=harbour.cipher,
        clock=harbour.clock,
        commands=harbour.commands,
        escalations=harbour.escalations,
        bundle=harbour.bundle,
    )


@dataclass
class Site:
    harbour: Harbour
    sent: Recorder
    console: Console
    client: httpx.AsyncClient

    async def set_password(self, handle: str, password: str = PASSWORD) -> None:
        async with UnitOfWork(self.harbour.db, self.harbour.cipher) as uow:
            staff = await uow.people.staff_by_handle(handle)
            assert staff is not None
            await credentials.set_password(uow, staff, password, self.harbour.clock.now())

    async def csrf(self, path: str) -> str:
        response = await self.client.get(path)
        found = CSRF.search(response.text)
        assert found, f"no csrf token on {path}: {response.status_code}"
        return found.group(1)

    async def sign_in(self, handle: str, password: str = PASSWORD) -> httpx.Response:
        token = await self.csrf("/login")
        return await self.client.post(
            "/login", data={"username": handle, "password": password, "csrf": token}
        )

    async def post(self, path: str, data: dict[str, str], page: str = "/") -> httpx.Response:
        token = await self.csrf(page)
        return await self.client.post(path, data={**data, "csrf": token})


@asynccontextmanager
async def site(settings: Settings) -> AsyncIterator[Site]:
    harbour, sent = await start(settings)
    console = console_for(harbour)
    app = create_console_app(console)
    transport = httpx.ASGITransport(app=app)
    client = httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8081")
    try:
        yield Site(harbour, sent, console, client)
    finally:
        await client.aclose()
        await harbour.close()
