"""The web console for `harbour run`: its app on its own bind, and in local mode the demo
advocate's console password, made and printed once, at first start."""

from __future__ import annotations

import logging
import secrets
import sys
from typing import TextIO

import uvicorn

from bot.bootstrap import Harbour
from bot.cli.simulate import DEMO_ADVOCATE, ensure_demo_advocate
from bot.settings import Settings
from bot.staff import credentials
from bot.store.uow import UnitOfWork
from bot.web.console.app import create_console_app
from bot.web.console.context import Console

log = logging.getLogger(__name__)


def console_server(settings: Settings, harbour: Harbour) -> uvicorn.Server | None:
    """The console's server, or None when HARBOUR_CONSOLE=off."""
    if settings.console == "off":
        return None
    assert harbour.commands is not None and harbour.escalations is not None

    def wake() -> None:
        harbour.relay_wake.set()
        harbour.outbox_wake.set()

    console = Console(
        settings=settings,
        db=harbour.db,
        cipher=harbour.cipher,
        clock=harbour.clock,
        commands=harbour.commands,
        escalations=harbour.escalations,
        bundle=harbour.bundle,
        wake=wake,
    )
    config = uvicorn.Config(
        create_console_app(console),
        host=settings.console_host,
        port=settings.console_port,
        log_config=None,
        access_log=False,
        lifespan="off",
    )
    return uvicorn.Server(config)


async def serve_console(server: uvicorn.Server) -> None:
    """Serve until told to stop. A bind that fails (the port is taken) ends this task with a
    logged error instead of uvicorn's SystemExit, so `harbour run` stops cleanly."""
    try:
        await server.serve()
    except SystemExit:
        return  # uvicorn logged why; bot/cli/run.py reports it and exits 1


async def demo_password(harbour: Harbour, out: TextIO = sys.stdout) -> str | None:
    """Local mode: give the demo advocate a console password if they have none, and print
    it this once. Returns the password when one was made."""
    await ensure_demo_advocate(harbour)
    async with UnitOfWork(harbour.db, harbour.cipher) as uow:
        staff = await uow.people.staff_by_handle(DEMO_ADVOCATE)
        if staff is None or await credentials.credential(uow, staff.id) is not None:
            return None
        password = secrets.token_urlsafe(12)
        await credentials.set_password(uow, staff, password, harbour.clock.now())
    settings = harbour.settings
    out.write(
        f"Console: http://{settings.console_host}:{settings.console_port}/login "
        f"user '{DEMO_ADVOCATE}', password {password}\n"
        "(shown once; set another with: harbour staff set-password demo)\n"
    )
    out.flush()
    return password
