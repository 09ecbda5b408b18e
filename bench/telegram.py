"""Telegram outbound against the loopback fake Bot API, with the real PTB client.

A backlog of 5,000 messages to 200 chats goes through the outbox with the production pacer
(bot/bootstrap.py: default_pacers) and flood guard, against a fake that enforces Telegram's
limits strictly: a second message to one chat within 1 s, or a 31st overall within 1 s, is
refused with 429. Printed: messages per second achieved, the 429s received, and the smallest
gap between two messages to one chat as the fake saw them arrive.
(Inbound through the webhook is measured by bench/inbound.py.)

Run: .venv/bin/python bench/telegram.py [--messages 5000] [--chats 200]   (about 3 minutes)
SQLite in a temporary directory; HARBOUR_BENCH_DATABASE_URL may name an empty database.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import secrets
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

# This file is named like the `telegram` package: put the repository first, not bench/.
sys.path.pop(0)
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.inbound import machine
from bot.bootstrap import build, default_pacers
from bot.channels.telegram.channel import TelegramChannel, build_bot
from bot.settings import Settings, load_settings
from bot.store.uow import UnitOfWork
from tests.fakes.telegram_api import DEFAULT_TOKEN, FakeTelegram

TARGET_RATE = 28.5  # 95% of Telegram's 30 a second


async def outbound(settings: Settings, backlog: int, chats: int) -> None:
    async with FakeTelegram() as fake:  # Telegram's limits, strictly
        channel = TelegramChannel(build_bot(DEFAULT_TOKEN, fake.url))
        harbour = await build(settings, {"telegram": channel}, pacers=default_pacers(settings))
        async with UnitOfWork(harbour.db, harbour.cipher) as uow:
            now = harbour.clock.now()
            identities = []
            for n in range(chats):
                survivor = await uow.people.new_survivor(now, status="active", language="en")
                identities.append(
                    await uow.people.add_identity(
                        "telegram", str(8_000_000 + n), now, survivor=survivor
                    )
                )
            for n in range(backlog):
                identity = identities[n % chats]
                uow.outbox.add(
                    channel="telegram", identity_id=identity.id, payload={"text": f"m{n}"}, now=now
                )
        started, started_monotonic = time.perf_counter(), time.monotonic()
        await harbour.start_background()  # the outbox lanes as `harbour run` runs them
        while len(fake.calls) < backlog + fake.too_many_requests_sent:
            if time.perf_counter() - started > backlog / 10:
                break  # far too slow: report what was sent
            await asyncio.sleep(0.05)
        accepted = [c for c in fake.calls_to("sendMessage") if c.status == 200]
        elapsed = (accepted[-1].at - started_monotonic) if accepted else float("nan")
        arrivals: dict[str, list[float]] = defaultdict(list)
        for call in accepted:
            arrivals[str(call.params.get("chat_id"))].append(call.at)
        gaps = [b - a for times in arrivals.values() for a, b in itertools.pairwise(times)]
        span = accepted[-1].at - accepted[0].at if len(accepted) > 1 else float("nan")
        print(f"outbound: backlog of {backlog} messages to {chats} chats")
        print(f"  sent                  : {len(accepted)} in {elapsed:.1f} s")
        print(
            f"  rate                  : {len(accepted) / elapsed:8.2f} msgs/s"
            f"   (first to last arrival: {(len(accepted) - 1) / span:.2f}/s;"
            f" target >= {TARGET_RATE}, limit 30/s)"
        )
        print(f"  429 answers received  : {fake.too_many_requests_sent}   (target 0)")
        print(f"  smallest gap, one chat: {min(gaps, default=float('nan')):.3f} s   (limit 1 s)")
        await channel.stop()
        await harbour.close()


async def main(backlog: int, chats: int) -> None:
    print(machine())
    with tempfile.TemporaryDirectory() as directory:
        database = os.environ.get("HARBOUR_BENCH_DATABASE_URL") or (
            f"sqlite+aiosqlite:///{directory}/outbound.db"
        )
        settings = load_settings(
            database_url=database,
            data_dir=Path(directory) / "var",
            secret_key=secrets.token_urlsafe(48),
        )
        await outbound(settings, backlog, chats)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--messages", type=int, default=5_000)
    parser.add_argument("--chats", type=int, default=200)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.messages, arguments.chats))
