"""Reminders: claim-and-enqueue rate, lateness and memory, on SQLite and PostgreSQL.

Run: .venv/bin/python bench/reminders.py [--sizes 1000,10000,100000] [--first 5000]
                                          [--backends sqlite,postgresql]

For each backend and each size N: a fresh database (a temporary SQLite file; a PostgreSQL
database created and dropped on HARBOUR_TEST_POSTGRES_URL or postgresql+asyncpg://postgres@
127.0.0.1:5432/postgres, never the shared `postgres` database itself), N reminders for one
survivor per 50 appointments, all due at the same moment (the worst case: a burst, or a
restart after downtime), plus 1,000 due a minute earlier and drained untimed to warm up.
They are seeded by a child process, so this process holds only
what the service itself holds. PostgreSQL is ANALYZEd after seeding, as autovacuum would.
The reminder ticker then drains them exactly as production does (`ReminderService.drain`:
batches of 500, two side by side on PostgreSQL), everything durable and encrypted:
- rate at N: reminders claimed, rendered and written to the outbox per second over the
  first `--first` of them, i.e. with about N pending (flat if it does not fall with N);
- burst: the whole of the largest N, drained; its rate and lateness p50/p99, from the due
  moment to the commit of each reminder's outbox row, i.e. before the channel's own rate
  limit applies (sending is not part of this benchmark);
- resident memory of this process with 0 pending (built, idle) and its peak while N are
  pending and being drained: the ticker holds one batch per lane, never the backlog.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pydantic import SecretStr  # noqa: E402
from sqlalchemy import insert, make_url, text  # noqa: E402
from sqlalchemy.ext.asyncio import create_async_engine  # noqa: E402

from bot.bootstrap import build  # noqa: E402
from bot.care.reminders import ReminderService  # noqa: E402
from bot.channels.local import LocalChannel  # noqa: E402
from bot.ports import ManualClock  # noqa: E402
from bot.settings import Settings, load_settings  # noqa: E402
from bot.store.database import open_store  # noqa: E402
from bot.store.models import Appointment, AppointmentJob  # noqa: E402
from bot.store.uow import UnitOfWork  # noqa: E402

PER_SURVIVOR = 50
DUE = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
WARM_UP = 1000
WARM_DUE = DUE - timedelta(minutes=1)
DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"


def machine() -> str:
    memory = cpu = "?"
    with open("/proc/meminfo") as meminfo:
        memory = f"{int(meminfo.readline().split()[1]) / 1024 / 1024:.1f} GiB"
    with open("/proc/cpuinfo") as cpuinfo:
        names = [line.split(":", 1)[1].strip() for line in cpuinfo if "model name" in line]
        cpu = names[0] if names else platform.machine()
    return (
        f"machine: {os.cpu_count()} cores ({cpu}), {memory} memory,"
        f" Python {platform.python_version()}, {platform.system()} {platform.release()}"
    )


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def bench_settings(url: str, data_dir: Path, key: str) -> Settings:
    return load_settings(database_url=url, data_dir=data_dir, secret_key=SecretStr(key))


async def seed(settings: Settings, count: int) -> None:
    """`count` appointments with one reminder each, due at DUE, inserted in bulk (the child).
    The first WARM_UP of them are due a minute earlier: drained untimed, they warm the
    statement caches and the connection pool, as any running service has them."""
    db, cipher = await open_store(settings)
    now = DUE - timedelta(days=2)
    try:
        async with UnitOfWork(db, cipher) as uow:
            advocate = await uow.people.add_staff("bench", "advocate", "en", now)
            await uow.people.add_identity("local", "advocate:bench", now, staff=advocate)
            survivor_ids = []
            for number in range((count + PER_SURVIVOR - 1) // PER_SURVIVOR):
                survivor = await uow.people.new_survivor(
                    now, status="active", language="en", advocate_id=advocate.id
                )
                await uow.people.add_identity("local", f"s{number}", now, survivor=survivor)
                survivor_ids.append(survivor.id)
        common = {"timezone": "Europe/London", "status": "scheduled", "created_by": "bench"}
        for start in range(0, count, 10_000):
            async with UnitOfWork(db, cipher) as uow:
                rows = [
                    {
                        "survivor_id": survivor_ids[n // PER_SURVIVOR], "kind": "gp",
                        "starts_at": DUE + timedelta(hours=2), "created_at": now,
                        "updated_at": now, **common,
                    }
                    for n in range(start, min(start + 10_000, count))
                ]  # fmt: skip
                result = await uow.session.execute(
                    insert(Appointment).returning(Appointment.id), rows
                )
                jobs = [
                    {
                        "appointment_id": i, "purpose": "reminder", "offset_minutes": 120,
                        "due_at": DUE if n >= WARM_UP else WARM_DUE, "status": "pending",
                        "created_at": now,
                    }
                    for n, i in enumerate(result.scalars(), start)
                ]  # fmt: skip
                await uow.session.execute(insert(AppointmentJob), jobs)
        if not db.is_sqlite:
            async with db.engine.connect() as conn:
                await conn.execute(text("ANALYZE"))
                await conn.commit()
    finally:
        await db.close()


def seed_in_child(url: str, data_dir: Path, key: str, count: int) -> None:
    env = {**os.environ, "BENCH_SEED_KEY": key}
    command = [sys.executable, __file__, "--seed", url, str(data_dir), str(count)]
    subprocess.run(command, check=True, env=env, timeout=600)


@dataclass
class Figures:
    first_rate: float  # reminders/s over the first `first`
    burst_rate: float  # reminders/s over all of them
    p50: float
    p99: float
    rss_idle: float
    rss_peak: float


async def measure(url: str, data_dir: Path, count: int, first: int) -> Figures:
    key = secrets.token_urlsafe(48)
    settings = bench_settings(url, data_dir, key)
    clock = ManualClock(DUE - timedelta(days=2))
    harbour = await build(
        settings, {"local": LocalChannel(lambda _m: None)}, pacers={}, clock=clock
    )
    try:
        idle = rss_mb()
        await asyncio.to_thread(seed_in_child, url, data_dir, key, count + WARM_UP)
        ticker = next(t for t in harbour.pacemaker.tickers if isinstance(t, ReminderService))
        clock.set(WARM_DUE)
        assert await ticker.drain(WARM_DUE) == WARM_UP
        done_at: list[float] = []  # one entry per reminder: when its batch committed
        peak = [idle]
        run_batch: Callable[[datetime], Awaitable[int]] = ticker.run_batch

        async def timed_batch(now: datetime) -> int:
            handled = await run_batch(now)
            done_at.extend([time.perf_counter() - started] * handled)
            peak[0] = max(peak[0], rss_mb())
            return handled

        ticker.run_batch = timed_batch  # type: ignore[method-assign]
        clock.set(DUE)
        started = time.perf_counter()
        drained = await ticker.drain(DUE)
        assert drained == count == len(done_at), f"{drained} of {count} done"
        done_at.sort()
        head = min(first, count)
        quantiles = statistics.quantiles(done_at, n=100)
        return Figures(
            first_rate=head / done_at[head - 1],
            burst_rate=count / done_at[-1],
            p50=quantiles[49],
            p99=quantiles[98],
            rss_idle=idle,
            rss_peak=peak[0],
        )
    finally:
        await harbour.close()


async def on_backend(backend: str, count: int, first: int) -> Figures:
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            return await measure(f"sqlite+aiosqlite:///{tmp}/bench.db", Path(tmp), count, first)
    admin = make_url(os.environ.get("HARBOUR_TEST_POSTGRES_URL") or DEFAULT_PG)
    admin = admin.set(drivername="postgresql+asyncpg")
    name = f"harbour_bench_{uuid.uuid4().hex[:8]}"
    engine = create_async_engine(admin, isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = admin.set(database=name).render_as_string(hide_password=False)
        with tempfile.TemporaryDirectory() as tmp:
            return await measure(url, Path(tmp), count, first)
    finally:
        async with engine.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await engine.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--first", type=int, default=5000, help="reminders timed for the rate")
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print(machine())
    print(f"reminders all due at once ({PER_SURVIVOR} per survivor), batches of 500")
    header = f"{'backend':<11}{'pending':>9}{'rate/s':>9}{'burst/s':>9}{'p50 s':>8}{'p99 s':>8}"
    print(f"{header}{'RSS 0 MB':>10}{'peak MB':>9}{'growth':>8}")
    for backend in args.backends.split(","):
        rates = []
        for size in sizes:
            f = await on_backend(backend, size, args.first)
            rates.append(f.first_rate)
            print(
                f"{backend:<11}{size:>9}{f.first_rate:>9.0f}{f.burst_rate:>9.0f}{f.p50:>8.2f}"
                f"{f.p99:>8.2f}{f.rss_idle:>10.0f}{f.rss_peak:>9.0f}{f.rss_peak - f.rss_idle:>8.0f}"
            )
        spread = min(rates) / max(rates)
        verdict = "flat" if spread >= 0.8 else "NOT flat"
        print(f"{backend}: rate at {sizes[0]}..{sizes[-1]} pending: {verdict} ({spread:.2f})")


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--seed":
        _, _, seed_url, seed_dir, seed_count = sys.argv
        seed_key = os.environ["BENCH_SEED_KEY"]
        seed_settings = bench_settings(seed_url, Path(seed_dir), seed_key)
        asyncio.run(seed(seed_settings, int(seed_count)))
    else:
        asyncio.run(main())
