"""The part every fake server shares: an aiohttp app on 127.0.0.1, on a free port.

A fake is used either as an async context manager inside a test::

    async with FakeTelegram() as telegram:
        bot = telegram.Bot(...)

or standalone for benchmarks and demos (`python -m tests.fakes.telegram_api --port 8081`).
Access logging is off on purpose: the URLs carry bot tokens and, for the translator, the
text being translated.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import socket
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Self

from aiohttp import web

LOOPBACK = "127.0.0.1"


class LoopbackServer:
    """Base class: subclasses add routes in `build_app()`."""

    def __init__(self, *, port: int = 0) -> None:
        self._requested_port = port
        self._port: int | None = None
        self._runner: web.AppRunner | None = None
        self._site: web.SockSite | None = None
        self._stopping = asyncio.Event()

    def build_app(self) -> web.Application:
        raise NotImplementedError

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("server not started")
        return self._port

    @property
    def url(self) -> str:
        """Base URL without a trailing slash, e.g. http://127.0.0.1:40123."""
        return f"http://{LOOPBACK}:{self.port}"

    async def start(self) -> None:
        self._stopping = asyncio.Event()
        # A short shutdown timeout: handlers that hang on purpose watch `_stopping` and end.
        self._runner = web.AppRunner(self.build_app(), access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await self._listen(self._requested_port)

    async def stop(self) -> None:
        self._stopping.set()
        if self._runner is not None:
            await self._runner.cleanup()
        self._runner = None
        self._site = None

    async def stop_listening(self) -> None:
        """Close the listening socket so new connections are refused; the port is kept."""
        if self._site is not None:
            await self._site.stop()
            self._site = None

    async def resume_listening(self) -> None:
        if self._site is None:
            await self._listen(self.port)

    async def pause(self, seconds: float) -> bool:
        """Sleep up to `seconds`, cut short when the server stops. True if the full time passed."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)
            return False
        return True

    async def _listen(self, port: int) -> None:
        assert self._runner is not None
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((LOOPBACK, port))
        self._port = sock.getsockname()[1]
        self._site = web.SockSite(self._runner, sock)
        await self._site.start()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()


def run_standalone(
    make_server: Callable[[int], LoopbackServer],
    description: str,
    argv: Sequence[str] | None = None,
) -> None:
    """Entry point for `python -m tests.fakes.<module> --port N`: serve until SIGINT/SIGTERM."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free)")
    args = parser.parse_args(argv)

    async def serve() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        async with make_server(args.port) as server:
            print(f"{type(server).__name__} listening on {server.url}", flush=True)
            await stop.wait()

    asyncio.run(serve())
