"""`harbour run`: web server, workers, scheduler and, in local mode, the terminal chat."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import stat
import sys

import uvicorn

from bot.bootstrap import build
from bot.channels import configured_channels
from bot.channels.local import LocalChannel
from bot.cli.console_setup import console_server, demo_password, serve_console
from bot.cli.localchat import TerminalChat
from bot.ports import Channel, ChannelRuntime
from bot.settings import Settings
from bot.web.app import create_app

log = logging.getLogger(__name__)


def stdin_is_chat() -> bool:
    """Chat on a terminal, a pipe or a file; not on /dev/null or a closed stdin (a service
    manager), where the service should simply keep serving."""
    try:
        mode = os.fstat(sys.stdin.fileno()).st_mode
    except (OSError, ValueError):
        return False
    return sys.stdin.isatty() or stat.S_ISFIFO(mode) or stat.S_ISREG(mode)


async def serve(settings: Settings, *, chat: bool) -> int:
    channels: dict[str, Channel] = configured_channels(settings)
    terminal = TerminalChat(sys.stdout) if settings.local_mode and chat else None
    if settings.local_mode:
        channels["local"] = LocalChannel(terminal.show if terminal else (lambda _m: None))
    if terminal is not None:  # keep start-up chatter out of the conversation
        for name in ("alembic", "uvicorn.error"):
            logging.getLogger(name).setLevel(logging.WARNING)
    harbour = await build(settings, channels)
    runtimes = [c for c in channels.values() if isinstance(c, ChannelRuntime)]
    routes = [route for runtime in runtimes for route in runtime.web_routes(harbour.inbound)]
    app = create_app(harbour.db, routes, max_body_bytes=settings.max_body_bytes)
    config = uvicorn.Config(
        app,
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        access_log=False,
        lifespan="off",
    )
    server = uvicorn.Server(config)
    console = console_server(settings, harbour)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    if console is not None and settings.local_mode:
        await demo_password(harbour)  # after the handlers: Ctrl-C now still exits cleanly
    await harbour.start_background()
    for runtime in runtimes:
        await runtime.start(harbour.inbound)
    server_task = asyncio.create_task(server.serve())
    console_task = asyncio.create_task(serve_console(console)) if console is not None else None
    log.info(
        "Harbour is running on http://%s:%d (%s)",
        settings.http_host,
        settings.http_port,
        "local mode" if settings.local_mode else "channels: " + ", ".join(channels),
    )
    if console is not None:
        log.info("the console is on http://%s:%d", settings.console_host, settings.console_port)
    waiters = [asyncio.create_task(stop.wait()), server_task]
    if console_task is not None:
        waiters.append(console_task)  # a console that could not start stops the service
    if terminal is not None:
        waiters.append(asyncio.create_task(terminal.run(harbour)))
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        server.should_exit = True
        if console is not None:
            console.should_exit = True
        for runtime in runtimes:
            await runtime.stop()
        await harbour.drain(rounds=5)
        await asyncio.gather(server_task, return_exceptions=True)
        if console_task is not None:
            await asyncio.gather(console_task, return_exceptions=True)
        for task in waiters:
            task.cancel()
        await harbour.close()
    if server_task.done() and not server.started:
        log.error("the web server could not start on %s:%d", settings.http_host, settings.http_port)
        return 1
    if console is not None and console_task is not None and not console.started:
        log.error(
            "the console could not start on %s:%d", settings.console_host, settings.console_port
        )
        return 1
    return 0
