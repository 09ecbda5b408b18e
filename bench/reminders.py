"""Reminders: claim-and-enqueue throughput, lateness and memory, on SQLite and PostgreSQL.

Run: .venv/bin/python bench/reminders.py [--count 100000] [--sample 4000]
                                          [--backends sqlite,postgresql]

For each backend: a fresh database (a temporary SQLite file; a PostgreSQL database created
and dropped on HARBOUR_TEST_POSTGRES_URL or postgresql+asyncpg://postgres@127.0.0.1:5432/
postgres), `count` reminders for 1 survivor per 50 appointments, all due at the same moment
(the worst case: a burst, or a restart after downtime). The reminder ticker then claims and
enqueues them as in production, with its default batch, until `sample` are done (all of
them with --sample 0; the whole burst takes count / throughput seconds, too long for a
quick run).
- throughput: reminders claimed, rendered and written to the outbox per second, with
  `count` pending;
- lateness p50/p99: from the due moment to the commit of the reminder's outbox row, i.e.
  before the channel's own rate limit applies (sending is not part of this benchmark), for
  the sample; the last of a full burst is count / throughput late;
- resident memory of this process with 0 pending reminders and with `count` pending: the
  ticker holds one batch at a time, so pending rows cost database space, not memory.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pydantic import SecretStr  # noqa: E402
from sqlalchemy import insert, make_url, text  # noqa: E402
from sqlalchemy.ext.asyncio import create_async_engine  # noqa: E402

from bot.adapters.local import LocalChannel  # noqa: E402
from bot.bootstrap import Harbour, build  # noqa: E402
from bot.ports import ManualClock  # noqa: E402
from bot.services.reminders import ReminderService  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from bot.store.models import Appointment, AppointmentJob  # noqa: E402
from bot.store.uow import UnitOfWork  # noqa: E402

PER_SURVIVOR = 50
DUE = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


async def seed(harbour: Harbour, count: int) -> None:
    """`count` appointments with one reminder each, due at DUE, inserted in bulk."""
    now = DUE - timedelta(days=2)
    async with UnitOfWork(harbour.db, harbour.cipher) as uow:
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
        async with UnitOfWork(harbour.db, harbour.cipher) as uow:
            rows = [
                {
                    "survivor_id": survivor_ids[n // PER_SURVIVOR], "kind": "gp",
                    "starts_at": DUE + timedelta(hours=2), "created_at": now,
                    "updated_at": now, **common,
                }
                for n in range(start, min(start + 10_000, count))
            ]  # fmt: skip
            ids = (
                await uow.session.execute(insert(Appointment).returning(Appointment.id), rows)
            ).scalars()
            jobs = [
                {
                    "appointment_id": i, "purpose": "reminder", "offset_minutes": 120,
                    "due_at": DUE, "status": "pending", "created_at": now,
                }
                for i in ids
            ]  # fmt: skip
            await uow.session.execute(insert(AppointmentJob), jobs)


async def measure(url: str, data_dir: Path, count: int, sample: int) -> dict[str, float]:
    settings = load_settings(
        database_url=url, data_dir=data_dir, secret_key=SecretStr(secrets.token_urlsafe(48))
    )
    clock = ManualClock(DUE - timedelta(days=2))
    channel = LocalChannel(lambda _message: None)
    harbour = await build(settings, {"local": channel}, pacers={}, clock=clock)
    try:
        idle = rss_mb()
        await seed(harbour, count)
        pending = rss_mb()
        ticker = next(t for t in harbour.pacemaker.tickers if isinstance(t, ReminderService))
        clock.set(DUE)
        lateness: list[float] = []
        started = time.perf_counter()
        target = sample or count
        while len(lateness) < target and (handled := await ticker.run_batch(DUE)) > 0:
            lateness += [time.perf_counter() - started] * handled
        elapsed = time.perf_counter() - started
        assert len(lateness) >= min(target, count), f"{len(lateness)} of {target} enqueued"
        quantiles = statistics.quantiles(lateness, n=100)
        return {
            "throughput": len(lateness) / elapsed,
            "p50": quantiles[49],
            "p99": quantiles[98],
            "rss_idle": idle,
            "rss_pending": pending,
            "rss_after": rss_mb(),
        }
    finally:
        await harbour.close()


async def with_postgres(count: int, sample: int) -> dict[str, float]:
    admin = make_url(os.environ.get("HARBOUR_TEST_POSTGRES_URL") or DEFAULT_PG)
    admin = admin.set(drivername="postgresql+asyncpg")
    name = f"harbour_bench_{uuid.uuid4().hex[:8]}"
    engine = create_async_engine(admin, isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = admin.set(database=name).render_as_string(hide_password=False)
        with tempfile.TemporaryDirectory() as tmp:
            return await measure(url, Path(tmp), count, sample)
    finally:
        async with engine.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await engine.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--sample", type=int, default=4000, help="0: the whole burst")
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    done = args.sample or args.count
    print(f"{args.count} reminders due at once ({PER_SURVIVOR} per survivor); first {done} timed")
    print(
        f"{'backend':<11}{'rem/s':>9}{'p50 s':>9}{'p99 s':>9}{'burst s':>9}"
        f"{'RSS 0 MB':>10}{'RSS N MB':>10}"
    )
    for backend in args.backends.split(","):
        if backend == "sqlite":
            with tempfile.TemporaryDirectory() as tmp:
                url = f"sqlite+aiosqlite:///{tmp}/bench.db"
                figures = await measure(url, Path(tmp), args.count, args.sample)
        else:
            figures = await with_postgres(args.count, args.sample)
        burst = args.count / figures["throughput"]
        print(
            f"{backend:<11}{figures['throughput']:>9.0f}{figures['p50']:>9.1f}"
            f"{figures['p99']:>9.1f}{burst:>9.0f}"
            f"{figures['rss_idle']:>10.0f}{figures['rss_pending']:>10.0f}"
        )


if __name__ == "__main__":
    asyncio.run(main())
