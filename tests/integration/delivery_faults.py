"""Fault-injection scenarios for the outbox, shared by test_delivery_faults.py and
bench/faults.py (this module holds no tests of its own).

Each scenario queues numbered texts to several addresses on the real SMS and Telegram
channels, whose clients talk to the fake Twilio and Telegram servers on loopback, injects one
fault, lets the outbox finish, and counts from what the fakes received: sent, lost,
duplicated and out of order (a text arriving after one queued later to the same address).
"""

from __future__ import annotations

import asyncio
import itertools
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, make_url, select, text

from bot.bootstrap import Harbour, build
from bot.channels.sms.channel import SmsChannel
from bot.channels.telegram.channel import TelegramChannel, build_bot
from bot.messaging.outbox import OutboxSender
from bot.messaging.outcomes import backoff_seconds
from bot.messaging.pacing import ChannelPacer, Limits
from bot.ports import Channel, Clock, SystemClock
from bot.settings import Settings
from bot.staff.routing import PRIORITY_URGENT
from bot.store.models import OutboxItem
from bot.store.uow import UnitOfWork
from tests.fakes.clock import FakeClock
from tests.fakes.telegram_api import DEFAULT_TOKEN, FakeTelegram
from tests.fakes.twilio_api import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, FakeTwilio
from tests.fakes.virtual_time import VirtualTime
from tests.integration.fault_service import HARBOUR_NUMBER, quick_pacers
from tests.integration.telegram_harness import texts_to

FINAL = ("sent", "failed", "cancelled", "delivered", "undelivered")


@dataclass
class Counts:
    scenario: str
    queued: int = 0
    sent: int = 0
    lost: int = 0
    duplicated: int = 0
    out_of_order: int = 0
    in_doubt_resends: int = 0  # Telegram re-sends whose first try's outcome was unknown
    seconds: float = 0.0
    notes: dict[str, Any] = field(default_factory=dict)


def tally(
    scenario: str, queued: Mapping[str, list[str]], received: Mapping[str, list[str]]
) -> Counts:
    counts = Counts(scenario, queued=sum(len(texts) for texts in queued.values()))
    for address, expected in queued.items():
        got = [t for t in received.get(address, []) if t in set(expected)]
        unique = list(dict.fromkeys(got))  # first arrivals, in arrival order
        counts.sent += len(unique)
        counts.lost += len(expected) - len(unique)
        counts.duplicated += len(got) - len(unique)
        positions = [expected.index(t) for t in unique]
        counts.out_of_order += sum(1 for a, b in itertools.pairwise(positions) if b < a)
    return counts


def sms_channel(twilio: FakeTwilio, timeout: float = 5.0, clock: Clock | None = None) -> SmsChannel:
    return SmsChannel(
        account_sid=DEFAULT_ACCOUNT_SID,
        auth_token=DEFAULT_AUTH_TOKEN,
        sender=HARBOUR_NUMBER,
        api_url=twilio.url,
        public_url="http://127.0.0.1:9",  # receipts are not part of these scenarios
        timeout=timeout,
        clock=clock,
    )


def telegram_channel(telegram: FakeTelegram, read_timeout: float = 60.0) -> TelegramChannel:
    return TelegramChannel(
        build_bot(DEFAULT_TOKEN, telegram.url, send_read_timeout=read_timeout), flood_window=0
    )


@dataclass
class World:
    """A Harbour sending SMS and Telegram to the fakes, and the addresses it sends to."""

    harbour: Harbour
    twilio: FakeTwilio
    telegram: FakeTelegram
    channels: dict[str, Channel]
    numbers: list[str] = field(default_factory=list)
    chats: list[int] = field(default_factory=list)

    async def enrol(self, sms: int, telegram: int) -> None:
        async with UnitOfWork(self.harbour.db, self.harbour.cipher) as uow:
            now = self.harbour.clock.now()
            for n in range(sms):
                number = f"+4477009{n:05d}"
                survivor = await uow.people.new_survivor(now, status="active", language="en")
                await uow.people.add_identity("sms", number, now, survivor=survivor)
                self.numbers.append(number)
            for n in range(telegram):
                chat = 6_100_000 + n
                survivor = await uow.people.new_survivor(now, status="active", language="en")
                await uow.people.add_identity("telegram", str(chat), now, survivor=survivor)
                self.chats.append(chat)

    async def queue(self, per_address: int, urgent_every: int = 0) -> dict[str, list[str]]:
        """Numbered texts to every address, queued in order; every `urgent_every`-th row to
        an address is an urgent one (they may overtake, so they are counted on their own)."""
        queued: dict[str, list[str]] = {}
        async with UnitOfWork(self.harbour.db, self.harbour.cipher) as uow:
            now = self.harbour.clock.now()
            for channel, address in self.addresses():
                identity = await uow.people.identity(channel, address)
                assert identity is not None
                for n in range(per_address):
                    urgent = bool(urgent_every) and n % urgent_every == urgent_every - 1
                    key = f"{channel}:{address}" + ("!" if urgent else "")
                    line = f"{address} #{n}" + (" urgent" if urgent else "")
                    queued.setdefault(key, []).append(line)
                    uow.outbox.add(
                        channel=channel, identity_id=identity.id, payload={"text": line},
                        now=now, priority=PRIORITY_URGENT if urgent else 0,
                        kind="escalation" if urgent else "message",
                    )  # fmt: skip
        return queued

    def addresses(self) -> list[tuple[str, str]]:
        return [("sms", n) for n in self.numbers] + [("telegram", str(c)) for c in self.chats]

    def received(self) -> dict[str, list[str]]:
        got: dict[str, list[str]] = {}
        for number in self.numbers:
            texts = [record.body for record in self.twilio.sent_to(number)]
            got[f"sms:{number}"] = [t for t in texts if not t.endswith("urgent")]
            got[f"sms:{number}!"] = [t for t in texts if t.endswith("urgent")]
        for chat in self.chats:
            texts = texts_to(self.telegram, chat)
            got[f"telegram:{chat}"] = [t for t in texts if not t.endswith("urgent")]
            got[f"telegram:{chat}!"] = [t for t in texts if t.endswith("urgent")]
        return got

    def received_count(self) -> int:
        return sum(len(self.twilio.sent_to(n)) for n in self.numbers) + sum(
            len(self.telegram.sent_to(c)) for c in self.chats
        )

    async def unfinished(self) -> int:
        async with UnitOfWork(self.harbour.db, self.harbour.cipher) as uow:
            stmt = (
                select(func.count()).select_from(OutboxItem).where(OutboxItem.status.not_in(FINAL))
            )
            return int((await uow.session.execute(stmt)).scalar_one())

    async def doubt_resends(self) -> int:
        async with UnitOfWork(self.harbour.db, self.harbour.cipher) as uow:
            stmt = select(func.coalesce(func.sum(OutboxItem.doubt_resends), 0))
            return int((await uow.session.execute(stmt)).scalar_one())

    async def count(self, scenario: str, queued: Mapping[str, list[str]], started: float) -> Counts:
        received = self.received()
        counts = tally(scenario, queued, received)
        counts.in_doubt_resends = await self.doubt_resends()
        for channel in ("sms", "telegram"):
            mine = {k: v for k, v in queued.items() if k.startswith(channel)}
            doubled = tally(scenario, mine, received).duplicated
            if doubled:
                counts.notes[f"doubled_{channel}"] = doubled
        counts.seconds = round(time.monotonic() - started, 1)
        return counts


async def open_world(
    settings: Settings,
    twilio: FakeTwilio,
    telegram: FakeTelegram,
    *,
    clock: Clock | None = None,
    pacers: Mapping[str, ChannelPacer] | None = None,
    sms_timeout: float = 5.0,
    telegram_timeout: float = 60.0,
) -> World:
    clock = clock or SystemClock()
    channels: dict[str, Channel] = {
        "sms": sms_channel(twilio, sms_timeout, clock),
        "telegram": telegram_channel(telegram, telegram_timeout),
    }
    harbour = await build(settings, channels, clock=clock, pacers=pacers or {})
    return World(harbour, twilio, telegram, channels)


async def close_world(world: World) -> None:
    for channel in world.channels.values():
        stop = getattr(channel, "stop", None)
        if stop is not None:
            await stop()
    await world.harbour.close()


async def until(condition: Callable[[], Awaitable[bool]], within: float) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if await condition():
            return True
        await asyncio.sleep(0.05)
    return False


# -- the scenarios --------------------------------------------------------------------------


async def paced_sms(
    settings: Settings, twilio: FakeTwilio, telegram: FakeTelegram, queued_rows: int = 90
) -> Counts:
    """SMS paced at 0.4/s with 90 queued, on virtual time (225 s of sending, leases of 120 s),
    by two senders at once, with expired leases released every 60 s."""
    started = time.monotonic()
    clock = FakeClock()
    vt = VirtualTime(clock)

    def pacer() -> ChannelPacer:
        return ChannelPacer(
            Limits(per_second=0.4, per_address_interval=1.0), vt.monotonic, vt.sleep
        )

    world = await open_world(settings, twilio, telegram, clock=clock, pacers={"sms": pacer()})
    try:
        await world.enrol(sms=30, telegram=0)
        queued = await world.queue(per_address=queued_rows // 30)
        h = world.harbour
        h.sender._sleep = vt.sleep
        other = OutboxSender(
            h.db, h.cipher, {"sms": world.channels["sms"]}, {"sms": pacer()}, h.sender.notices,
            clock, lease=h.sender.lease, sleep=vt.sleep,
        )  # fmt: skip
        stop, wake = asyncio.Event(), asyncio.Event()

        async def release_every_minute() -> None:
            while not stop.is_set():
                await vt.sleep(60)
                await h.sender.release_expired()

        tasks = [
            asyncio.create_task(h.sender.run(wake, stop, idle=0.02)),
            asyncio.create_task(other.run(wake, stop, idle=0.02)),
            asyncio.create_task(release_every_minute()),
        ]
        finished = False

        def done() -> bool:
            return finished

        async def watch() -> None:
            nonlocal finished
            await until(lambda: _zero(world), 120)
            finished = True

        def busy() -> bool:
            in_flight = any(r.status is None for r in twilio.requests[-40:])
            return in_flight or h.db.engine.pool.checkedout() > 0  # type: ignore[attr-defined]

        watcher = asyncio.create_task(watch())
        await vt.drive(done, limit=3600, busy=busy)
        await watcher
        stop.set()
        for _ in range(200):  # wake whatever still sleeps in virtual time, so tasks end
            if all(t.done() for t in tasks):
                break
            await vt.drive(lambda: all(t.done() for t in tasks), limit=120)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        counts = await world.count("SMS paced at 0.4/s, 90 queued", queued, started)
        counts.notes["virtual_seconds"] = round(clock.monotonic() - 1000.0)
        return counts
    finally:
        await close_world(world)


async def _zero(world: World) -> bool:
    return await world.unfinished() == 0


async def provider_outage(
    settings: Settings,
    twilio: FakeTwilio,
    telegram: FakeTelegram,
    hours: float = 1.0,
    addresses: int = 4,
) -> Counts:
    """Every send answers 5xx for `hours` (virtual time), then the providers come back."""
    started = time.monotonic()
    clock = FakeClock()
    world = await open_world(settings, twilio, telegram, clock=clock)
    try:
        await world.enrol(sms=addresses, telegram=addresses)
        queued = await world.queue(per_address=4, urgent_every=4)
        twilio.fail_next(10**9, status=503)
        telegram.fail_next(10**9, status=502)
        outage_ends = clock.now() + timedelta(hours=hours)
        passes = 0
        while await world.unfinished():
            await world.harbour.sender.send_due(limit=200)
            due = await _next_retry(world)
            # Retries due within 30 s of each other are taken together (fewer passes).
            step = max(due or clock.now(), clock.now() + timedelta(seconds=30))
            if clock.now() < outage_ends <= step:
                step = outage_ends
            clock.set(step)
            passes += 1
            if clock.now() >= outage_ends:
                twilio.faults.clear()
                telegram.faults.clear()
        counts = await world.count(f"{hours:g} h of provider 5xx (virtual time)", queued, started)
        counts.notes["passes"] = passes
        counts.notes["longest_backoff_s"] = await _longest_backoff(world)
        return counts
    finally:
        await close_world(world)


async def slow_answers(
    settings: Settings,
    twilio: FakeTwilio,
    telegram: FakeTelegram,
    *,
    answer_after: float = 2.0,
    sms_timeout: float = 0.5,
    telegram_timeout: float = 4.0,
    label: str = "provider answers slower than the timeout",
) -> Counts:
    """The first sends are carried out but answered late: SMS after its (short) timeout,
    Telegram after `answer_after`, which `telegram_timeout` may or may not cover."""
    started = time.monotonic()
    world = await open_world(
        settings, twilio, telegram, pacers=quick_pacers(),
        sms_timeout=sms_timeout, telegram_timeout=telegram_timeout,
    )  # fmt: skip
    try:
        await world.enrol(sms=3, telegram=3)
        queued = await world.queue(per_address=3)
        twilio.hang_next(3, seconds=answer_after)
        telegram.hang_next(3, seconds=answer_after, method="sendMessage", processed=True)
        stop, wake = asyncio.Event(), asyncio.Event()
        task = asyncio.create_task(world.harbour.sender.run(wake, stop, idle=0.05))
        await until(lambda: _zero(world), 60)
        stop.set()
        await task
        return await world.count(label, queued, started)
    finally:
        await close_world(world)


async def write_lock(
    settings: Settings, twilio: FakeTwilio, telegram: FakeTelegram, seconds: float = 25.0
) -> Counts:
    """Another connection holds the database's write lock for `seconds` while sends go on."""
    started = time.monotonic()
    world = await open_world(settings, twilio, telegram, pacers=quick_pacers())
    try:
        await world.enrol(sms=6, telegram=6)
        queued = await world.queue(per_address=8)
        stop, wake = asyncio.Event(), asyncio.Event()
        task = asyncio.create_task(world.harbour.sender.run(wake, stop, idle=0.05))
        await until(_received_at_least(world, 12), 30)
        async with _write_locked(settings.async_database_url):
            await asyncio.sleep(seconds)
        await until(lambda: _zero(world), 60 + seconds)
        stop.set()
        await task
        return await world.count(f"{seconds:g} s database write lock", queued, started)
    finally:
        await close_world(world)


async def _longest_backoff(world: World) -> float:
    """Rows queued are sent by now; their attempt counts say how far backoff went."""
    async with UnitOfWork(world.harbour.db, world.harbour.cipher) as uow:
        most = (await uow.session.execute(select(func.max(OutboxItem.attempts)))).scalar_one()
    return round(max(backoff_seconds(n) for n in range(1, int(most or 1) + 1)))


async def _next_retry(world: World) -> datetime | None:
    """When the next row waiting for a retry is due (rows held back behind it are due
    already, and wait for it)."""
    async with UnitOfWork(world.harbour.db, world.harbour.cipher) as uow:
        stmt = select(func.min(OutboxItem.next_attempt_at)).where(
            OutboxItem.status == "pending", OutboxItem.attempts > 0
        )
        due: datetime | None = (await uow.session.execute(stmt)).scalar_one_or_none()
        return due


def _received_at_least(world: World, n: int) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return world.received_count() >= n

    return check


class _write_locked:
    """Hold the write lock: SQLite BEGIN IMMEDIATE; PostgreSQL LOCK TABLE outbox."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._sqlite: sqlite3.Connection | None = None
        self._pg: Any = None

    async def __aenter__(self) -> None:
        parsed = make_url(self.url)
        if parsed.get_backend_name() == "sqlite":
            self._sqlite = sqlite3.connect(str(parsed.database), isolation_level=None)
            self._sqlite.execute("BEGIN IMMEDIATE")
            return
        from sqlalchemy.ext.asyncio import create_async_engine

        self._engine = create_async_engine(self.url)
        self._pg = await self._engine.connect()
        await self._pg.begin()
        await self._pg.execute(text("LOCK TABLE outbox IN EXCLUSIVE MODE"))

    async def __aexit__(self, *_exc: object) -> None:
        if self._sqlite is not None:
            self._sqlite.execute("ROLLBACK")
            self._sqlite.close()
        if self._pg is not None:
            await self._pg.rollback()
            await self._pg.close()
            await self._engine.dispose()


# -- kill -9 --------------------------------------------------------------------------------

SERVICE = "tests.integration.fault_service"


def _service_env(settings: Settings) -> dict[str, str]:
    assert settings.secret_key is not None
    clean = {k: v for k, v in os.environ.items() if not k.startswith("HARBOUR_")}
    return {
        **clean,
        "HARBOUR_DATABASE_URL": settings.async_database_url,
        "HARBOUR_SECRET_KEY": settings.secret_key.get_secret_value(),
        "HARBOUR_DATA_DIR": str(settings.data_dir),
        "HARBOUR_CONFIG": str(Path(settings.data_dir) / "none.toml"),
        "HARBOUR_OUTBOX_LEASE_SECONDS": "2",
    }


async def killed(
    settings: Settings,
    twilio: FakeTwilio,
    telegram: FakeTelegram,
    loops: int = 3,
    addresses: int = 10,
    seed: int = 15,
) -> Counts:
    """A sending process killed with SIGKILL `loops` times, each after a few sends, and
    started again; then left to finish."""
    started = time.monotonic()
    chooser = random.Random(seed)
    world = await open_world(settings, twilio, telegram)
    try:
        await world.enrol(sms=addresses, telegram=addresses)
        queued = await world.queue(per_address=10)
        env = _service_env(settings)
        args = [sys.executable, "-m", SERVICE, twilio.url, telegram.url]
        kills = 0
        for _ in range(loops):
            before = world.received_count()
            if before >= sum(len(t) for t in queued.values()):
                break
            child = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL)  # noqa: ASYNC220
            await until(_received_at_least(world, before + chooser.randint(2, 10)), 30)
            await asyncio.sleep(chooser.uniform(0, 0.05))  # land mid-send, not between
            child.send_signal(signal.SIGKILL)
            await asyncio.to_thread(child.wait)
            kills += 1
        child = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL)  # noqa: ASYNC220
        try:
            await until(lambda: _zero(world), 90)
        finally:
            child.send_signal(signal.SIGTERM)
            await asyncio.to_thread(child.wait)
        counts = await world.count(f"kill -9 during sends ({kills} times)", queued, started)
        counts.notes["kills"] = kills
        return counts
    finally:
        await close_world(world)
