"""The web console's server time: the caseload page with 1,000 cases and a case page whose
survivor has 5,000 messages, on SQLite and PostgreSQL. Target (issue 19): p95 < 100 ms.

Server time is measured inside the ASGI app (from the request reaching the console to the
last byte of the response), in process, over httpx's ASGI transport: no network, no browser.
Each request is a full signed-in page: session lookup and touch, access policy, queries,
decryption, audit row and template, committed.

Run: .venv/bin/python bench/console.py [--requests 60] [--backends sqlite,postgresql]
PostgreSQL: a database made and dropped on HARBOUR_TEST_POSTGRES_URL (or the local default).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import secrets
import statistics
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from pydantic import SecretStr  # noqa: E402
from sqlalchemy import insert, make_url, text  # noqa: E402
from sqlalchemy.ext.asyncio import create_async_engine  # noqa: E402

from bench.reminders import machine  # noqa: E402
from bot.bootstrap import build  # noqa: E402
from bot.channels.local import LocalChannel  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from bot.staff import credentials  # noqa: E402
from bot.store.escalation_models import Escalation  # noqa: E402
from bot.store.models import (  # noqa: E402
    Appointment,
    ContactWatch,
    Message,
    OutboxItem,
    Survivor,
)
from bot.store.queues import OUTBOX_PAYLOAD  # noqa: E402
from bot.store.records import BODY  # noqa: E402
from bot.store.uow import UnitOfWork  # noqa: E402
from bot.web.console.app import create_console_app  # noqa: E402
from bot.web.console.context import Console  # noqa: E402

CASES = 1000
MESSAGES = 5000
PASSWORD = "bench password 1234"
DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"


class Timed:
    """ASGI wrapper: records each request's server time in seconds."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.times: list[float] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        started = time.perf_counter()
        await self.app(scope, receive, send)
        self.times.append(time.perf_counter() - started)


async def seed(harbour: Any) -> str:
    """1,000 cases for advocate amira (some with appointments, contact-loss levels and
    alerts), one of them with 5,000 messages and the relay rows of its inbound half."""
    cipher, now = harbour.cipher, harbour.clock.now()
    async with UnitOfWork(harbour.db, harbour.cipher) as uow:
        amira = await uow.people.add_staff("amira", "advocate", "en", now)
        await uow.people.add_identity("local", "advocate:amira", now, staff=amira)
        await credentials.set_password(uow, amira, PASSWORD, now)
        rows = [
            {
                "case_code": f"C{n:05d}",
                "language": ("en", "pl", "ar", "ro")[n % 4],
                "timezone": "Europe/London",
                "allowed_channels": ["local"],
                "status": "active",
                "advocate_id": amira.id,
                "discreet": True,
                "created_at": now,
                "last_inbound_at": now - timedelta(hours=n % 300),
            }
            for n in range(CASES)
        ]
        await uow.session.execute(insert(Survivor), rows)
    async with UnitOfWork(harbour.db, harbour.cipher) as uow:
        big = await uow.people.survivor_by_code("C00000")
        assert big is not None
        identity = await uow.people.add_identity("local", "survivor:big", now, survivor=big)
        await uow.session.flush()
        first_id = big.id
        appointments = [
            {
                "survivor_id": first_id + n,
                "kind": "gp",
                "starts_at": now + timedelta(days=1 + n % 20),
                "timezone": "Europe/London",
                "status": "scheduled",
                "created_by": "bench",
                "created_at": now,
                "updated_at": now,
            }
            for n in range(0, CASES, 3)
        ]
        await uow.session.execute(insert(Appointment), appointments)
        watch = [
            {
                "survivor_id": first_id + n,
                "score": n % 10,
                "level": n % 4,
                "reasons": [],
                "alerted_level": 0,
                "checked_at": now,
            }
            for n in range(0, CASES, 5)
        ]
        await uow.session.execute(insert(ContactWatch), watch)
        alerts = [
            {
                "code": f"E{n:04d}",
                "survivor_id": first_id + n,
                "reason": "help_now",
                "silent": False,
                "status": "open",
                "tier": 0,
                "alerts_sent": 1,
                "created_at": now - timedelta(minutes=n),
            }
            for n in range(0, CASES, 20)
        ]
        await uow.session.execute(insert(Escalation), alerts)
        messages, outbox = [], []
        start = now - timedelta(days=60)
        for n in range(MESSAGES):
            at = start + timedelta(minutes=10 * n)
            body = f"message {n}: " + ("مرحبا، أحتاج إلى مساعدة" if n % 2 == 0 else "Reply text")
            messages.append(
                {
                    "survivor_id": first_id,
                    "direction": "in" if n % 2 == 0 else "out",
                    "channel": "local",
                    "body_enc": cipher.encrypt_text(body, BODY),
                    "created_at": at,
                    "navigation": False,
                }
            )
            if n % 2 == 0:
                payload = {
                    "original": body,
                    "language": "ar",
                    "staff_language": "en",
                    "translation": f"message {n}: hello, I need help",
                    "direction": "to_staff",
                    "text": body,
                }
                outbox.append(
                    {
                        "channel": "local",
                        "identity_id": identity.id,
                        "survivor_id": first_id,
                        "kind": "relay",
                        "priority": 10,
                        "status": "sent",
                        "attempts": 1,
                        "payload_enc": cipher.encrypt_text(json.dumps(payload), OUTBOX_PAYLOAD),
                        "next_attempt_at": at,
                        "created_at": at,
                        "sent_at": at,
                    }
                )
        await uow.session.execute(insert(Message), messages)
        await uow.session.execute(insert(OutboxItem), outbox)
        return big.case_code


async def measure(url: str, data_dir: Path, requests: int) -> dict[str, list[float]]:
    settings = load_settings(
        database_url=url, data_dir=data_dir, secret_key=SecretStr(secrets.token_urlsafe(48))
    )
    harbour = await build(settings, {"local": LocalChannel(lambda _m: None)}, pacers={})
    try:
        code = await seed(harbour)
        gc.collect()
        gc.freeze()  # as `harbour run` does once started (bot/bootstrap.py)
        assert harbour.commands is not None and harbour.escalations is not None
        console = Console(
            settings=settings,
            db=harbour.db,
            cipher=harbour.cipher,
            clock=harbour.clock,
            commands=harbour.commands,
            escalations=harbour.escalations,
            bundle=harbour.bundle,
        )
        timed = Timed(create_console_app(console))
        transport = httpx.ASGITransport(app=timed)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            form = await client.get("/login")
            token = form.text.split('name="csrf" value="')[1].split('"')[0]
            signed = await client.post(
                "/login", data={"username": "amira", "password": PASSWORD, "csrf": token}
            )
            assert signed.status_code == 303, signed.status_code
            figures: dict[str, list[float]] = {}
            for name, path in (("caseload", "/"), ("case", f"/case/{code}")):
                for _ in range(5):  # warm up
                    response = await client.get(path)
                    assert response.status_code == 200, (path, response.status_code)
                timed.times.clear()
                for _ in range(requests):
                    await client.get(path)
                figures[name] = list(timed.times)
            page = await client.get("/")
            assert page.text.count("/case/C") >= CASES, "the caseload lists every case"
        return figures
    finally:
        await harbour.close()


async def on_backend(backend: str, requests: int) -> dict[str, list[float]]:
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            return await measure(f"sqlite+aiosqlite:///{tmp}/bench.db", Path(tmp), requests)
    admin = make_url(os.environ.get("HARBOUR_TEST_POSTGRES_URL") or DEFAULT_PG)
    admin = admin.set(drivername="postgresql+asyncpg")
    name = f"harbour_bench_{uuid.uuid4().hex[:8]}"
    engine = create_async_engine(admin, isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = admin.set(database=name).render_as_string(hide_password=False)
        with tempfile.TemporaryDirectory() as tmp:
            return await measure(url, Path(tmp), requests)
    finally:
        async with engine.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await engine.dispose()


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) > 1 else values[0]


async def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    print(machine())
    print(f"console server time: caseload of {CASES:,} cases; case page of {MESSAGES:,} messages")
    print(
        f"{'backend':<11}{'page':<10}{'p50 ms':>8}{'p95 ms':>8}{'max ms':>8}  target p95 < 100 ms"
    )
    for backend in args.backends.split(","):
        figures = await on_backend(backend, args.requests)
        for page, times in figures.items():
            ms = [t * 1000 for t in times]
            verdict = "met" if p95(ms) < 100 else "NOT met"
            print(
                f"{backend:<11}{page:<10}{statistics.median(ms):>8.1f}{p95(ms):>8.1f}"
                f"{max(ms):>8.1f}  {verdict}"
            )


if __name__ == "__main__":
    asyncio.run(main())
