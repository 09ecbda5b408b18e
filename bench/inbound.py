"""Inbound through the Telegram webhook: sustained throughput on SQLite and PostgreSQL, the
acknowledgement latency at 200 messages a second offered, how throughput grows with the
number of concurrent chats, and the python-telegram-bot baseline measured in the same run.

Run: .venv/bin/python bench/inbound.py [--quick]   (about 2 minutes; --quick: a smoke run)
PostgreSQL: a fresh database is created on HARBOUR_BENCH_POSTGRES_URL (default
postgresql+asyncpg://postgres@127.0.0.1:5432/postgres) and dropped afterwards; nothing is
written to the database named in the URL. If the server cannot be reached, that row says so.

How it is measured:
- The bot under test (Harbour, or the baseline in bench/baseline_ptb.py) runs alone in a child
  process: uvicorn, its web app and its workers, one event loop, as in production. This
  process runs the load (aiohttp, at most 100 connections, as Telegram uses for one bot) and
  the fake Bot API (tests/fakes/telegram_api.py) that both bots reply to.
- Every message moves its chat one step round the same three-state menu in both bots: main
  menu --"4"--> information topics --"1"--> a topic --"3"--> main menu, each answered with
  one message with buttons. Chats are enrolled and brought to the main menu before timing.
- Closed loop: each chat sends its next message once the last was acknowledged (Telegram
  sends one chat's updates in order). Open loop: arrivals paced at a fixed rate whatever the
  answers do; each latency counts from the moment its message was due.
- "Handled" means acknowledged AND its reply handed on. Harbour: the webhook answered 200
  after the update was stored (encrypted, deduplicated), and the update processed: its reply
  (encrypted), the new conversation state and the history committed in the same transaction,
  durably, in the outbox. The baseline: the webhook answered, and the fake Bot API received
  its reply (sendMessage), state kept in memory only. Harbour's outbox sends at Telegram's
  limit, 30 messages a second for one bot, by design; so sent-throughput is bounded by 30/s
  for any bot, and what is compared here is how fast each takes messages in and produces
  their replies.
- Throughput = messages / time from the first send until the last one is handled.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import platform
import secrets
import socket
import sqlite3
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

# This directory holds telegram.py, named like the `telegram` package: put the repository
# first, not bench/.
ROOT = Path(__file__).resolve().parent.parent
if sys.path and Path(sys.path[0]).resolve() == ROOT / "bench":
    sys.path.pop(0)
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402

CYCLE = ("4", "1", "3")
FIRST_CHAT = 9_000_000
SECRET = "bench-webhook-secret"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_CONNECTIONS = 100  # Telegram opens at most 100 webhook connections to one bot
POLL_SECONDS = 0.005
DEFAULT_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"


def machine() -> str:
    memory = "?"
    try:
        with open("/proc/meminfo") as meminfo:
            memory = f"{int(meminfo.readline().split()[1]) / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    cpu = platform.machine()
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            names = [line.split(":", 1)[1].strip() for line in cpuinfo if "model name" in line]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    return (
        f"machine: {os.cpu_count()} cores ({cpu}), {memory} memory,"
        f" Python {platform.python_version()}, {platform.system()} {platform.release()}"
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * pct / 100))]


def text_update(update_id: int, chat_id: int, text: str) -> dict[str, Any]:
    """A Telegram text-message update as the Bot API POSTs it to a webhook."""
    message: dict[str, Any] = {
        "message_id": update_id,
        "date": int(time.time()),
        "chat": {"id": chat_id, "type": "private", "first_name": "User"},
        "from": {"id": chat_id, "is_bot": False, "first_name": "User", "language_code": "en"},
        "text": text,
    }
    if text.startswith("/"):
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text)}]
    return {"update_id": update_id, "message": message}


# -- the bot under test, in its own process --------------------------------------------------

ChildMain = Callable[[dict[str, Any], Connection], Awaitable[None]]


def _child(target: ChildMain, options: dict[str, Any], conn: Connection) -> None:
    try:
        asyncio.run(target(options, conn))
    except BaseException as exc:
        conn.send(f"failed: {type(exc).__name__}: {exc}")
        raise


class BotProcess:
    """`target(options, conn)` in a fresh interpreter. It sends "ready" once serving on
    options["port"], and stops when it receives "stop"."""

    def __init__(self, target: ChildMain, options: dict[str, Any]) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child_conn = context.Pipe()
        self.port = free_port()
        self._process = context.Process(
            target=_child, args=(target, {**options, "port": self.port}, child_conn)
        )

    async def __aenter__(self) -> BotProcess:
        self._process.start()
        message = await asyncio.to_thread(self._conn.recv)
        if message != "ready":
            await asyncio.to_thread(self._process.join, 10)
            raise RuntimeError(f"the bot under test did not start ({message})")
        return self

    async def __aexit__(self, *_exc: object) -> None:
        self._conn.send("stop")
        await asyncio.to_thread(self._process.join, 30)
        if self._process.is_alive():
            self._process.kill()

    @property
    def webhook(self) -> str:
        return f"http://127.0.0.1:{self.port}/telegram/webhook"


async def serve_until_stopped(app: Any, port: int, conn: Connection) -> None:
    """In the child: serve `app` with uvicorn, say ready, and stop when told."""
    import uvicorn

    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_config=None, lifespan="off", access_log=False
    )
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn offers no event to wait on
        await asyncio.sleep(0.01)
    conn.send("ready")
    await asyncio.to_thread(conn.recv)  # "stop"
    server.should_exit = True
    await serving


# -- the load ----------------------------------------------------------------------------------


@dataclass
class Chats:
    """Where each chat is in the menu cycle, so that each run goes on where the last stopped."""

    count: int
    next_update_id: int = 5_000_000
    position: dict[int, int] = field(default_factory=dict)

    def next_update(self, chat: int) -> bytes:
        step = self.position.get(chat, 0)
        self.position[chat] = step + 1
        self.next_update_id += 1
        return json.dumps(text_update(self.next_update_id, chat, CYCLE[step % 3])).encode()

    def ids(self, how_many: int) -> list[int]:
        return [FIRST_CHAT + n for n in range(min(how_many, self.count))]


@dataclass
class RunResult:
    messages: int
    acked_seconds: float
    handled_seconds: float
    latencies: list[float]
    statuses: dict[int, int]

    @property
    def handled_rate(self) -> float:
        return self.messages / self.handled_seconds

    def line(self, label: str) -> str:
        return (
            f"  {label:<30} handled {self.handled_rate:6.0f}/s"
            f"  acked {self.messages / self.acked_seconds:6.0f}/s"
            f"  ack p50 {percentile(self.latencies, 50) * 1000:6.1f} ms"
            f"  p99 {percentile(self.latencies, 99) * 1000:6.1f} ms"
            f"  ({self.messages} msgs, HTTP {self.statuses})"
        )


Handled = Callable[[], Awaitable[int]]  # how many messages the bot has handled so far


async def _post(
    session: aiohttp.ClientSession, url: str, body: bytes, statuses: dict[int, int]
) -> None:
    headers = {SECRET_HEADER: SECRET, "Content-Type": "application/json"}
    async with session.post(url, data=body, headers=headers) as response:
        await response.read()
    statuses[response.status] = statuses.get(response.status, 0) + 1


async def _wait_handled(handled: Handled, target: int, started: float) -> float:
    while (count := await handled()) < target:
        if time.perf_counter() - started > 180:
            raise TimeoutError(f"only {count} of {target} handled after 180 s")
        await asyncio.sleep(POLL_SECONDS)
    return time.perf_counter() - started


async def closed_loop(
    url: str, chats: Chats, concurrent_chats: int, messages: int, handled: Handled
) -> RunResult:
    """`concurrent_chats` chats each send their share of `messages`, one after another."""
    ids = chats.ids(concurrent_chats)
    shares = [messages // len(ids) + (n < messages % len(ids)) for n in range(len(ids))]
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    target = await handled() + messages

    async def chat_sends(session: aiohttp.ClientSession, chat: int, how_many: int) -> None:
        for _ in range(how_many):
            body = chats.next_update(chat)
            began = time.perf_counter()
            await _post(session, url, body, statuses)
            latencies.append(time.perf_counter() - began)

    connector = aiohttp.TCPConnector(limit=MAX_CONNECTIONS)
    async with aiohttp.ClientSession(connector=connector) as session:
        started = time.perf_counter()
        await asyncio.gather(*(chat_sends(session, c, k) for c, k in zip(ids, shares, strict=True)))
        acked = time.perf_counter() - started
    done = await _wait_handled(handled, target, started)
    return RunResult(messages, acked, done, latencies, statuses)


async def open_loop(
    url: str, chats: Chats, concurrent_chats: int, rate: float, seconds: float, handled: Handled
) -> RunResult:
    """Arrivals paced at `rate` a second, round the chats, whatever the answers do."""
    ids = chats.ids(concurrent_chats)
    total = int(rate * seconds)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    target = await handled() + total
    connector = aiohttp.TCPConnector(limit=MAX_CONNECTIONS)
    async with aiohttp.ClientSession(connector=connector) as session:
        started = time.perf_counter()

        async def one(n: int) -> None:
            due = started + n / rate
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            await _post(session, url, chats.next_update(ids[n % len(ids)]), statuses)
            latencies.append(time.perf_counter() - due)

        await asyncio.gather(*(one(n) for n in range(total)))
        acked = time.perf_counter() - started
    done = await _wait_handled(handled, target, started)
    return RunResult(total, acked, done, latencies, statuses)


# -- Harbour, in its child process --------------------------------------------------------------


async def harbour_child(options: dict[str, Any], conn: Connection) -> None:
    """Harbour as `harbour run` runs it in webhook mode: the web app, the inbound worker, the
    outbox lanes (paced at Telegram's limits) and the scheduler; encryption on."""
    from sqlalchemy import update

    from bot.bootstrap import build, default_pacers
    from bot.channels.telegram.channel import TelegramChannel, build_bot
    from bot.settings import load_settings
    from bot.store.models import OutboxItem
    from bot.store.uow import UnitOfWork
    from bot.web.app import create_app
    from tests.fakes.telegram_api import DEFAULT_TOKEN

    settings = load_settings(
        database_url=options["database"],
        data_dir=Path(options["data_dir"]),
        secret_key=options["key"],
    )
    channel = TelegramChannel(
        build_bot(DEFAULT_TOKEN, options["api"]), mode="webhook", webhook_secret=SECRET
    )
    harbour = await build(settings, {"telegram": channel}, pacers=default_pacers(settings))
    try:
        chats = list(range(FIRST_CHAT, FIRST_CHAT + options["chats"]))
        async with UnitOfWork(harbour.db, harbour.cipher) as uow:
            now = harbour.clock.now()
            advocate = await uow.people.add_staff("advocate", "advocate", "en", now)
            await uow.people.add_identity("telegram", "8999999", now, staff=advocate)
            for chat in chats:
                survivor = await uow.people.new_survivor(
                    now, status="active", language="en", advocate_id=advocate.id
                )
                await uow.people.add_identity("telegram", str(chat), now, survivor=survivor)
        update_id = 1
        for text in ("hello", "1", "1"):  # safety check and consent: to the main menu
            for chat in chats:
                update_id += 1
                payload = text_update(update_id, chat, text)
                await harbour.inbound.accept("telegram", str(update_id), payload)
            await harbour.inbound.drain()
        async with UnitOfWork(harbour.db, harbour.cipher) as uow:
            last = await uow.outbox.get(await _last_outbox_id(uow))
            if last is None or uow.outbox.payload(last).get("key") != "menu.main":
                raise RuntimeError("setup did not bring the chats to the main menu")
            # The setup's replies are not part of any measurement: the outbox starts empty.
            await uow.session.execute(update(OutboxItem).values(status="sent"))
        # The periodic jobs' first round (the contact-loss watch reads every survivor's
        # history) is start-up work: done before timing, as it would be long before a burst.
        await harbour.pacemaker.tick_all()
        app = create_app(harbour.db, channel.web_routes(harbour.inbound))
        await harbour.start_background()
        await serve_until_stopped(app, options["port"], conn)
    finally:
        await channel.stop()
        await harbour.close()


async def _last_outbox_id(uow: Any) -> int:
    from sqlalchemy import func, select

    from bot.store.models import OutboxItem

    return int(await uow.session.scalar(select(func.max(OutboxItem.id))) or 0)


def sqlite_handled(path: str) -> Handled:
    """Inbox rows processed, read from the SQLite file (WAL: never blocks the writer)."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)

    async def handled() -> int:
        row = connection.execute(
            "SELECT count(*) FROM inbox WHERE processed_at IS NOT NULL"
        ).fetchone()
        return int(row[0])

    return handled


async def postgres_handled(dsn: str) -> tuple[Handled, Callable[[], Awaitable[None]]]:
    import asyncpg

    connection = await asyncpg.connect(dsn)

    async def handled() -> int:
        return int(
            await connection.fetchval("SELECT count(*) FROM inbox WHERE processed_at IS NOT NULL")
        )

    return handled, connection.close


# -- PostgreSQL: a fresh database for the run, dropped afterwards -------------------------------


async def create_database(server_url: str) -> tuple[str, str] | None:
    """A new, empty database on the server of `server_url`: (SQLAlchemy URL, asyncpg DSN)."""
    import asyncpg

    admin = server_url.replace("postgresql+asyncpg://", "postgresql://", 1)
    name = f"harbour_bench_{secrets.token_hex(4)}"
    try:
        connection = await asyncpg.connect(admin, timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        print(f"  PostgreSQL unreachable ({type(exc).__name__}): its row is not measured")
        return None
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    base = admin.rsplit("/", 1)[0]
    return f"postgresql+asyncpg://{base.split('://', 1)[1]}/{name}", f"{base}/{name}"


async def drop_database(server_url: str, dsn: str) -> None:
    import asyncpg

    admin = server_url.replace("postgresql+asyncpg://", "postgresql://", 1)
    connection = await asyncpg.connect(admin, timeout=5)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{dsn.rsplit("/", 1)[1]}" WITH (FORCE)')
    finally:
        await connection.close()


# -- the runs ----------------------------------------------------------------------------------

SCALING = (1, 10, 100, 1000)


@dataclass
class Sizes:
    sustained: int = 10_000  # messages, from SUSTAINED_CHATS chats
    per_scaling_run: int = 2_000
    latency_seconds: float = 10.0

    @classmethod
    def quick(cls) -> Sizes:
        return cls(sustained=1_000, per_scaling_run=300, latency_seconds=2.0)


SUSTAINED_CHATS = 100
OFFERED_RATE = 200.0


def flatness(rates: dict[int, float]) -> str:
    low, high = min(rates.values()), max(rates.values())
    verdict = "flat" if low >= 0.8 * high else "not flat"
    return f"{verdict} (lowest {low:.0f}/s is {low / high:.0%} of the highest {high:.0f}/s)"


async def measure_harbour_sqlite(
    fake_url: str, key: str, directory: str, sizes: Sizes
) -> dict[str, Any]:
    path = f"{directory}/harbour.db"
    options = {
        "database": f"sqlite+aiosqlite:///{path}",
        "data_dir": f"{directory}/var",
        "key": key,
        "api": fake_url,
        "chats": max(SCALING),
    }
    results: dict[str, Any] = {}
    async with BotProcess(harbour_child, options) as bot:
        chats, handled = Chats(max(SCALING)), sqlite_handled(path)
        results["sustained"] = await closed_loop(
            bot.webhook, chats, SUSTAINED_CHATS, sizes.sustained, handled
        )
        print(results["sustained"].line(f"SQLite, {SUSTAINED_CHATS} chats"))
        results["latency"] = await open_loop(
            bot.webhook, chats, 200, OFFERED_RATE, sizes.latency_seconds, handled
        )
        print(results["latency"].line(f"SQLite, {OFFERED_RATE:.0f}/s offered"))
        for count in SCALING:
            run = await closed_loop(bot.webhook, chats, count, sizes.per_scaling_run, handled)
            results[f"chats{count}"] = run
            print(run.line(f"SQLite, {count} concurrent chat(s)"))
    return results


async def measure_harbour_postgres(
    fake_url: str, key: str, directory: str, sizes: Sizes, server_url: str
) -> tuple[RunResult, RunResult] | None:
    """Sustained throughput, then the acknowledgement latency at OFFERED_RATE."""
    created = await create_database(server_url)
    if created is None:
        return None
    url, dsn = created
    try:
        options = {
            "database": url,
            "data_dir": f"{directory}/var-pg",
            "key": key,
            "api": fake_url,
            "chats": SUSTAINED_CHATS,
        }
        async with BotProcess(harbour_child, options) as bot:
            handled, close = await postgres_handled(dsn)
            try:
                chats = Chats(SUSTAINED_CHATS)
                run = await closed_loop(
                    bot.webhook, chats, SUSTAINED_CHATS, sizes.sustained, handled
                )
                print(run.line(f"PostgreSQL, {SUSTAINED_CHATS} chats"))
                latency = await open_loop(
                    bot.webhook,
                    chats,
                    SUSTAINED_CHATS,
                    OFFERED_RATE,
                    sizes.latency_seconds,
                    handled,
                )
                print(latency.line(f"PostgreSQL, {OFFERED_RATE:.0f}/s offered"))
            finally:
                await close()
        return run, latency
    finally:
        await drop_database(server_url, dsn)


async def main(sizes: Sizes, with_baseline: bool = True) -> None:
    from bench.baseline_ptb import measure_baseline
    from tests.fakes.telegram_api import FakeTelegram

    print(machine())
    print(
        "inbound through the Telegram webhook: Harbour (durable, encrypted) and the"
        " python-telegram-bot baseline, each alone in one process"
    )
    server_url = os.environ.get("HARBOUR_BENCH_POSTGRES_URL", DEFAULT_POSTGRES)
    key = secrets.token_urlsafe(48)
    # Limits lifted: the baseline answers at once and would otherwise be refused; Harbour's
    # outbox paces itself to Telegram's limits whatever the fake allows.
    async with FakeTelegram(per_chat_limit=1_000_000, overall_limit=1_000_000) as fake:
        with tempfile.TemporaryDirectory() as directory:
            harbour = await measure_harbour_sqlite(fake.url, key, directory, sizes)
            postgres = await measure_harbour_postgres(fake.url, key, directory, sizes, server_url)
        baseline = (
            await measure_baseline(fake, sizes, SUSTAINED_CHATS, SCALING) if with_baseline else {}
        )
    sustained: RunResult = harbour["sustained"]
    latency: RunResult = harbour["latency"]
    print("summary (target in brackets)")
    print(f"  SQLite sustained        {sustained.handled_rate:7.0f} msgs/s handled   [>= 1,000]")
    if postgres is not None:
        print(
            f"  PostgreSQL sustained    {postgres[0].handled_rate:7.0f} msgs/s handled   [>= 1,000]"
        )
    if baseline:
        ratio = sustained.handled_rate / baseline["sustained"].handled_rate
        print(f"  Harbour / baseline      {ratio:7.2f} x                   [>= 1.0]")
    p99, p50 = (percentile(latency.latencies, p) * 1000 for p in (99, 50))
    print(
        f"  ack at {OFFERED_RATE:.0f}/s offered     p99 {p99:.1f} ms   p50 {p50:.1f} ms"
        "       [p99 < 25 ms]  (SQLite)"
    )
    if postgres is not None:
        p99, p50 = (percentile(postgres[1].latencies, p) * 1000 for p in (99, 50))
        print(
            f"  ack at {OFFERED_RATE:.0f}/s offered     p99 {p99:.1f} ms   p50 {p50:.1f} ms"
            "       [p99 < 25 ms]  (PostgreSQL)"
        )
    rates = {c: harbour[f"chats{c}"].handled_rate for c in SCALING}
    listed = ", ".join(f"{c}: {r:.0f}/s" for c, r in rates.items())
    print(f"  Harbour by concurrent chats  {listed}: {flatness(rates)}")
    if baseline:
        rates = {c: baseline[f"chats{c}"].handled_rate for c in SCALING}
        listed = ", ".join(f"{c}: {r:.0f}/s" for c, r in rates.items())
        print(f"  baseline by concurrent chats {listed}: {flatness(rates)}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument("--no-baseline", action="store_true", help="Harbour only")
    arguments = parser.parse_args()
    asyncio.run(main(Sizes.quick() if arguments.quick else Sizes(), not arguments.no_baseline))
