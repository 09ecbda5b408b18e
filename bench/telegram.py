"""Telegram throughput against the loopback fake Bot API, with the real PTB client.

1. Inbound: updates POSTed to /telegram/webhook (real HTTP, uvicorn) by 20 concurrent
   senders while the inbound worker processes them; updates acknowledged per second and the
   p50/p99 acknowledgement latency (an answer means the update is stored).
2. Outbound: a backlog of 1,000 messages to 50 chats through the outbox with the production
   pacer, against the fake's strict limits (1 a second per chat, 30 a second overall);
   messages per second achieved and the number of 429s.

Run: .venv/bin/python bench/telegram.py   (SQLite in a temporary directory; about a minute)
Set HARBOUR_BENCH_DATABASE_URL to a postgresql+asyncpg:// URL of an empty database to use it.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import socket
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import uvicorn
from sqlalchemy import func, select

# This file is named like the `telegram` package: put the repository first, not bench/.
sys.path.pop(0)
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.adapters.telegram import TelegramChannel, build_bot
from bot.bootstrap import build, default_pacers
from bot.settings import Settings, load_settings
from bot.store.models import InboxItem
from bot.store.uow import UnitOfWork
from bot.web import create_app
from tests.fakes.telegram_api import DEFAULT_TOKEN, FakeTelegram
from tests.fakes.telegram_wire import SECRET_HEADER

SECRET = "bench-secret"
UPDATES, SENDERS, INBOUND_CHATS = 1000, 20, 100
PROCESSING_WAIT = 20.0  # seconds to watch the worker after the last acknowledgement
BACKLOG, OUTBOUND_CHATS = 1000, 50


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * pct / 100))]


async def inbound(settings: Settings) -> None:
    async with FakeTelegram(per_chat_limit=10_000, overall_limit=100_000) as fake:
        channel = TelegramChannel(
            build_bot(DEFAULT_TOKEN, fake.url), mode="webhook", webhook_secret=SECRET
        )
        harbour = await build(settings, {"telegram": channel}, pacers={})
        async with UnitOfWork(harbour.db, harbour.cipher) as uow:  # new contacts alert duty
            duty = await uow.people.add_staff("duty1", "duty", "en", harbour.clock.now())
            await uow.people.add_identity("telegram", "8999999", harbour.clock.now(), staff=duty)
        port = free_port()
        app = create_app(harbour.db, channel.web_routes(harbour.inbound))
        server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="off")
        )
        serving = asyncio.create_task(server.serve())
        await harbour.start_background()
        while not server.started:  # noqa: ASYNC110 - uvicorn offers no event to wait on
            await asyncio.sleep(0.01)
        url = f"http://127.0.0.1:{port}/telegram/webhook"
        bodies = [
            json.dumps(fake.updates.text(9_000_000 + n % INBOUND_CHATS, f"hello {n}")).encode()
            for n in range(UPDATES)
        ]
        latencies: list[float] = []
        statuses: dict[int, int] = {}
        queue: asyncio.Queue[bytes] = asyncio.Queue()
        for body in bodies:
            queue.put_nowait(body)

        async def sender(session: aiohttp.ClientSession) -> None:
            headers = {SECRET_HEADER: SECRET, "Content-Type": "application/json"}
            while not queue.empty():
                body = queue.get_nowait()
                started = time.perf_counter()
                async with session.post(url, data=body, headers=headers) as response:
                    await response.read()
                latencies.append(time.perf_counter() - started)
                statuses[response.status] = statuses.get(response.status, 0) + 1

        started = time.perf_counter()
        async with aiohttp.ClientSession() as session:
            await asyncio.gather(*(sender(session) for _ in range(SENDERS)))
        acked = time.perf_counter() - started
        deadline = time.perf_counter() + PROCESSING_WAIT
        while not harbour.inbound._queue.empty() and time.perf_counter() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        watched = time.perf_counter() - started
        async with UnitOfWork(harbour.db, harbour.cipher) as uow:
            done = await uow.session.scalar(
                select(func.count())
                .select_from(InboxItem)
                .where(InboxItem.processed_at.is_not(None))
            )
        print(
            f"inbound webhook: {UPDATES} updates to {INBOUND_CHATS} chats"
            f" from {SENDERS} concurrent senders"
        )
        rate = UPDATES / acked
        print(f"  acknowledged (stored) : {rate:8.1f} updates/s   statuses {statuses}")
        print(
            f"  ack latency           : p50 {percentile(latencies, 50) * 1000:6.1f} ms"
            f"   p99 {percentile(latencies, 99) * 1000:6.1f} ms"
            f"   max {max(latencies) * 1000:6.1f} ms"
        )
        print(
            f"  processed meanwhile   : {done} of {UPDATES} in {watched:.1f} s"
            f" ({(done or 0) / watched:.1f} updates/s, replies included)"
        )
        server.should_exit = True
        await serving
        await channel.stop()
        await harbour.close()


async def outbound(settings: Settings) -> None:
    async with FakeTelegram() as fake:  # Telegram's limits, strictly
        channel = TelegramChannel(build_bot(DEFAULT_TOKEN, fake.url))
        harbour = await build(settings, {"telegram": channel}, pacers=default_pacers(settings))
        async with UnitOfWork(harbour.db, harbour.cipher) as uow:
            now = harbour.clock.now()
            identities = []
            for n in range(OUTBOUND_CHATS):
                survivor = await uow.people.new_survivor(now, status="active", language="en")
                identities.append(
                    await uow.people.add_identity(
                        "telegram", str(8_000_000 + n), now, survivor=survivor
                    )
                )
            for n in range(BACKLOG):
                identity = identities[n % OUTBOUND_CHATS]
                uow.outbox.add(
                    channel="telegram", identity_id=identity.id, payload={"text": f"m{n}"}, now=now
                )
        started = time.perf_counter()
        await harbour.drain(rounds=1000)
        elapsed = time.perf_counter() - started
        sent = sum(1 for call in fake.calls_to("sendMessage") if call.status == 200)
        print(f"outbound: backlog of {BACKLOG} messages to {OUTBOUND_CHATS} chats")
        print(f"  sent                  : {sent} in {elapsed:.1f} s")
        print(f"  rate                  : {sent / elapsed:8.1f} msgs/s (limit 30/s overall)")
        print(f"  429 answers received  : {fake.too_many_requests_sent}")
        await channel.stop()
        await harbour.close()


def settings_for(directory: str, name: str, key: str) -> Settings:
    database = os.environ.get("HARBOUR_BENCH_DATABASE_URL") or (
        f"sqlite+aiosqlite:///{directory}/{name}.db"
    )
    return load_settings(database_url=database, data_dir=Path(directory) / "var", secret_key=key)


async def main() -> None:
    key = secrets.token_urlsafe(48)
    with tempfile.TemporaryDirectory() as directory:
        await inbound(settings_for(directory, "inbound", key))
        await outbound(settings_for(directory, "outbound", key))


if __name__ == "__main__":
    asyncio.run(main())
