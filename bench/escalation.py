"""Urgent message to staff alert, under load: a 10,000-message outbox backlog being sent at
Telegram's pace, and a translator that hangs on every relay.

Each urgent message is stored through the inbound pipeline as the webhook would store it; the
latency is measured until the fake Bot API receives the sendMessage that alerts the advocate.
Everything runs as in `harbour run`: the inbound worker, both outbox lanes and the relay worker.

Run: .venv/bin/python bench/escalation.py   (SQLite in a temporary directory; about a minute)
"""

from __future__ import annotations

import asyncio
import os
import platform
import secrets
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.pop(0)  # bench/ must not shadow the `telegram` package
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.bootstrap import build, default_pacers
from bot.channels.telegram.channel import TelegramChannel, build_bot
from bot.settings import load_settings
from bot.store.uow import UnitOfWork
from bot.translation.translator import BoundedTranslator, LibreTranslate
from tests.fakes.telegram_api import DEFAULT_TOKEN, FakeTelegram
from tests.fakes.translator_api import FakeLibreTranslate

BACKLOG, BACKLOG_CHATS = 10_000, 200
URGENT = 30  # urgent messages, each from its own survivor to their own advocate
ADVOCATE_CHAT, SURVIVOR_CHAT = 7_000_000, 6_000_000


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * pct / 100))]


def alert_time(fake: FakeTelegram, chat: int, since: float) -> float | None:
    """When the fake received a sendMessage to `chat` after `since` (monotonic), if it has."""
    for call in fake.calls:
        if call.method == "sendMessage" and call.at >= since:
            if str(call.params.get("chat_id")) == str(chat):
                return call.at
    return None


async def main() -> None:
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    with tempfile.TemporaryDirectory() as directory:
        settings = load_settings(
            database_url=os.environ.get("HARBOUR_BENCH_DATABASE_URL")
            or f"sqlite+aiosqlite:///{directory}/bench.db",
            data_dir=Path(directory) / "var",
            secret_key=secrets.token_urlsafe(48),
        )
        async with FakeTelegram() as fake, FakeLibreTranslate(hang_seconds=30) as translate:
            await translate.set_mode("hang")
            translator = BoundedTranslator(
                LibreTranslate(translate.url, "k", httpx.AsyncClient()), timeout=5.0
            )
            channel = TelegramChannel(build_bot(DEFAULT_TOKEN, fake.url))
            harbour = await build(
                settings,
                {"telegram": channel},
                pacers=default_pacers(settings),
                translator=translator,
            )
            async with UnitOfWork(harbour.db, harbour.cipher) as uow:
                now = harbour.clock.now()
                backlog = []
                for n in range(BACKLOG_CHATS):
                    survivor = await uow.people.new_survivor(now, status="active", language="en")
                    backlog.append(
                        await uow.people.add_identity(
                            "telegram", str(5_000_000 + n), now, survivor=survivor
                        )
                    )
                for n in range(BACKLOG):
                    uow.outbox.add(
                        channel="telegram",
                        identity_id=backlog[n % BACKLOG_CHATS].id,
                        payload={"text": f"reminder {n}"},
                        now=now,
                    )
                for n in range(URGENT):
                    advocate = await uow.people.add_staff(f"adv{n}", "advocate", "en", now)
                    await uow.people.add_identity(
                        "telegram", str(ADVOCATE_CHAT + n), now, staff=advocate
                    )
                    survivor = await uow.people.new_survivor(
                        now, status="active", language="pl", advocate_id=advocate.id
                    )
                    await uow.people.add_identity(
                        "telegram", str(SURVIVOR_CHAT + n), now, survivor=survivor
                    )
            await harbour.start_background()
            await asyncio.sleep(2.0)  # the backlog is flowing
            latencies: list[float] = []
            for n in range(URGENT):
                # A relay first, so the translator is hanging when the urgent message comes.
                relay = fake.updates.text(SURVIVOR_CHAT + n, "Mam pytanie o list z urzędu miasta")
                await harbour.inbound.accept("telegram", str(relay["update_id"]), relay)
                update = fake.updates.text(SURVIVOR_CHAT + n, "on tu jest, boję się")
                started = time.monotonic()
                await harbour.inbound.accept("telegram", str(update["update_id"]), update)
                arrived = alert_time(fake, ADVOCATE_CHAT + n, started)
                while arrived is None:
                    await asyncio.sleep(0.001)
                    arrived = alert_time(fake, ADVOCATE_CHAT + n, started)
                latencies.append(arrived - started)
                await asyncio.sleep(0.3)
            backlog_sent = sum(1 for c in fake.calls_to("sendMessage") if c.status == 200)
            print(f"urgent message -> staff alert at the fake Bot API ({URGENT} urgent messages)")
            print(
                f"  backlog: {BACKLOG} queued to {BACKLOG_CHATS} chats"
                f" ({backlog_sent} sent meanwhile);"
                " translator hanging (5 s deadline)"
            )
            print(
                f"  latency p50 {percentile(latencies, 50) * 1000:7.1f} ms   "
                f"p99 {percentile(latencies, 99) * 1000:7.1f} ms   "
                f"max {max(latencies) * 1000:7.1f} ms   (target p99 < 100 ms)"
            )
            print(f"  429 answers from the fake: {fake.too_many_requests_sent}")
            await channel.stop()
            await harbour.close()


if __name__ == "__main__":
    asyncio.run(main())
