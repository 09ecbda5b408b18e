"""`harbour run` as a real process with HARBOUR_TWILIO_* and HARBOUR_PUBLIC_URL set: it accepts
signed webhooks, replies through the (fake) Twilio REST API and tracks delivery receipts."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
from sqlalchemy import select

from bot.settings import Settings
from bot.store.database import open_store
from bot.store.models import OutboxItem
from bot.store.uow import UnitOfWork
from tests.fakes.twilio_api import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, FakeTwilio
from tests.fakes.twilio_webhooks import inbound_sms_params, signed_webhook
from tests.integration.test_sms_support import HARBOUR_NUMBER, free_socket

ROOT = Path(__file__).resolve().parents[2]
NEWCOMER = "+447700900555"
CANARY_BODY = "canary-run-body-k2p8"


async def wait_for(check: Callable[[], object], seconds: float = 20.0) -> None:
    """Poll another process's effect (no event can cross the process boundary)."""
    async with asyncio.timeout(seconds):
        while not check():  # noqa: ASYNC110
            await asyncio.sleep(0.05)


async def test_harbour_run_serves_sms_end_to_end(settings: Settings, tmp_path: Path) -> None:
    sock = free_socket()
    port = sock.getsockname()[1]
    sock.close()  # harbour binds it itself
    public_url = f"http://127.0.0.1:{port}"
    assert settings.secret_key is not None
    async with FakeTwilio() as twilio:
        env = {
            **os.environ,
            "HARBOUR_CONFIG": str(tmp_path / "none.toml"),
            "HARBOUR_DATABASE_URL": settings.async_database_url,
            "HARBOUR_SECRET_KEY": settings.secret_key.get_secret_value(),
            "HARBOUR_DATA_DIR": str(settings.data_dir),
            "HARBOUR_HTTP_PORT": str(port),
            "HARBOUR_CONSOLE_PORT": "0",
            "HARBOUR_TWILIO_ACCOUNT_SID": DEFAULT_ACCOUNT_SID,
            "HARBOUR_TWILIO_AUTH_TOKEN": DEFAULT_AUTH_TOKEN,
            "HARBOUR_TWILIO_FROM": HARBOUR_NUMBER,
            "HARBOUR_TWILIO_API_URL": twilio.url,
            "HARBOUR_PUBLIC_URL": public_url,
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            cwd=ROOT,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            async with httpx.AsyncClient(base_url=public_url, timeout=5) as http:
                await wait_until_healthy(http, process)
                params = inbound_sms_params(
                    from_=NEWCOMER,
                    to=HARBOUR_NUMBER,
                    body=f"hello {CANARY_BODY}",
                    account_sid=DEFAULT_ACCOUNT_SID,
                )
                headers, body = signed_webhook(public_url + "/twilio/sms", params, "wrong")
                forged = await http.post("/twilio/sms", content=body, headers=headers)
                headers, body = signed_webhook(
                    public_url + "/twilio/sms", params, DEFAULT_AUTH_TOKEN
                )
                accepted = await http.post("/twilio/sms", content=body, headers=headers)
            assert forged.status_code == 403
            assert accepted.status_code == 200 and accepted.text.endswith("<Response/>")
            await wait_for(lambda: twilio.sent_to(NEWCOMER))
            (reply,) = twilio.sent_to(NEWCOMER)  # the language menu, numbered
            assert "\n1 " in reply.body and reply.status_callback == public_url + "/twilio/status"
            assert await twilio.set_status(reply.sid, "delivered") == 200
            assert await outbox_status(settings, reply.sid) == "delivered"
        finally:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
            async with asyncio.timeout(20):
                out, err = await process.communicate()
    assert process.returncode == 0, err.decode(errors="replace")[-2000:]
    logged = (out + err).decode(errors="replace")
    for secret in (NEWCOMER, NEWCOMER[1:], CANARY_BODY, DEFAULT_AUTH_TOKEN):
        assert secret not in logged


async def wait_until_healthy(http: httpx.AsyncClient, process: asyncio.subprocess.Process) -> None:
    async with asyncio.timeout(30):
        while True:
            if process.returncode is not None:
                raise AssertionError("harbour run exited early")
            try:
                if (await http.get("/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)


async def outbox_status(settings: Settings, sid: str) -> str | None:
    db, cipher = await open_store(settings, migrate=False)
    try:
        async with UnitOfWork(db, cipher) as uow:
            stmt = select(OutboxItem.status).where(OutboxItem.provider_id == sid)
            return (await uow.session.execute(stmt)).scalar_one_or_none()
    finally:
        await db.close()
