"""Delivery under injected faults: sent, lost, duplicated and out-of-order texts per scenario
and database, through the real SMS and Telegram channels and the fake Twilio and Telegram on
loopback (the scenarios are tests/integration/delivery_faults.py, which the test suite runs
smaller).

Run: .venv/bin/python bench/faults.py [--kills 20] [--lock 25] [--only NAME]
SQLite always; PostgreSQL too when HARBOUR_TEST_POSTGRES_URL is set (a throwaway database is
created per scenario and dropped after). Duplicates are allowed only for Telegram sends in
flight at a kill -9, and are counted as in-doubt re-sends.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import secrets
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.pop(0)  # bench/ must not shadow the `telegram` package
sys.path.insert(0, str(ROOT))

from pydantic import SecretStr  # noqa: E402
from sqlalchemy import make_url, text  # noqa: E402
from sqlalchemy.ext.asyncio import create_async_engine  # noqa: E402

from bot.settings import Settings, load_settings  # noqa: E402
from tests.fakes.telegram_api import FakeTelegram  # noqa: E402
from tests.fakes.twilio_api import FakeTwilio  # noqa: E402
from tests.integration import delivery_faults as faults  # noqa: E402

Scenario = Callable[[Settings, FakeTwilio, FakeTelegram], Awaitable[faults.Counts]]


def scenarios(kills: int, lock: float) -> dict[str, Scenario]:
    return {
        "kill9": lambda s, tw, tg: faults.killed(s, tw, tg, loops=kills, addresses=10),
        "lock": lambda s, tw, tg: faults.write_lock(s, tw, tg, seconds=lock),
        "outage": lambda s, tw, tg: faults.provider_outage(s, tw, tg, hours=1.0, addresses=5),
        "slow": lambda s, tw, tg: faults.slow_answers(s, tw, tg),
        "slow-past-deadline": lambda s, tw, tg: faults.slow_answers(
            s, tw, tg, answer_after=1.5, telegram_timeout=0.5, label="Telegram past the deadline"
        ),
        "paced": lambda s, tw, tg: faults.paced_sms(s, tw, tg),
    }


@asynccontextmanager
async def database(kind: str) -> AsyncIterator[Settings]:
    with tempfile.TemporaryDirectory() as tmp:
        key = SecretStr(secrets.token_urlsafe(48))
        if kind == "sqlite":
            url = f"sqlite+aiosqlite:///{Path(tmp) / 'harbour.db'}"
            yield load_settings(database_url=url, data_dir=Path(tmp) / "var", secret_key=key)
            return
        admin = make_url(os.environ["HARBOUR_TEST_POSTGRES_URL"]).set(
            drivername="postgresql+asyncpg"
        )
        name = f"harbour_faults_{uuid.uuid4().hex[:10]}"
        engine = create_async_engine(admin, isolation_level="AUTOCOMMIT")
        async with engine.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            url = admin.set(database=name).render_as_string(hide_password=False)
            yield load_settings(database_url=url, data_dir=Path(tmp) / "var", secret_key=key)
        finally:
            async with engine.connect() as conn:
                await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            await engine.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--lock", type=float, default=25.0, help="seconds of write lock")
    parser.add_argument("--only", choices=sorted(scenarios(0, 0)), default=None)
    options = parser.parse_args()
    logging.basicConfig(level=logging.CRITICAL)  # the faults are expected; figures below
    kinds = ["sqlite"] + (["postgresql"] if os.environ.get("HARBOUR_TEST_POSTGRES_URL") else [])
    chosen = scenarios(options.kills, options.lock)
    if options.only:
        chosen = {options.only: chosen[options.only]}
    header = f"{'database':<11}{'scenario':<44}{'queued':>7}{'sent':>6}{'lost':>6}"
    print(header + f"{'doubled':>9}{'disorder':>10}{'in-doubt':>10}{'wall s':>8}  notes")
    for kind in kinds:
        for run in chosen.values():
            async with database(kind) as settings:
                async with (
                    FakeTwilio() as twilio,
                    FakeTelegram(per_chat_limit=1000, overall_limit=100_000) as telegram,
                ):
                    c = await run(settings, twilio, telegram)
            notes = ", ".join(f"{k}={v}" for k, v in c.notes.items())
            print(
                f"{kind:<11}{c.scenario:<44}{c.queued:>7}{c.sent:>6}{c.lost:>6}"
                f"{c.duplicated:>9}{c.out_of_order:>10}{c.in_doubt_resends:>10}"
                f"{c.seconds:>8}  {notes}",
                flush=True,
            )


if __name__ == "__main__":
    asyncio.run(main())
