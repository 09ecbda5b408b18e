"""Shared set-up for the SMS tests (this module holds no tests of its own).

`sms_rig` builds a real Harbour with the real SmsChannel, whose twilio client talks to the
fake Twilio on loopback, and serves Harbour's web app with uvicorn on a loopback port. That
port is HARBOUR_PUBLIC_URL, so the fake's signed delivery receipts reach /twilio/status the
way Twilio's do. Staff sit on the local channel, so their alerts are recorded.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import uvicorn
from sqlalchemy import func, select

from bot.bootstrap import Harbour, build
from bot.channels.local import LocalChannel
from bot.channels.sms.channel import SmsChannel
from bot.messaging.pacing import ChannelPacer
from bot.ports import Channel
from bot.settings import Settings
from bot.store.models import Identity, OutboxItem
from bot.store.uow import UnitOfWork
from bot.web.app import create_app
from tests.fakes.clock import FakeClock
from tests.fakes.twilio_api import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, FakeTwilio
from tests.fakes.twilio_webhooks import inbound_sms_params, signed_webhook
from tests.harness import Recorder

HARBOUR_NUMBER = "+447700900999"
SURVIVOR = "+447700900123"
MAX_BODY_BYTES = 8192


def sms_channel(
    twilio: FakeTwilio, public_url: str, *, timeout: float = 5.0, clock: FakeClock | None = None
) -> SmsChannel:
    channel = SmsChannel(
        account_sid=DEFAULT_ACCOUNT_SID,
        auth_token=DEFAULT_AUTH_TOKEN,
        sender=HARBOUR_NUMBER,
        api_url=twilio.url,
        public_url=public_url,
        timeout=timeout,
        clock=clock,
    )
    channel.receipt_wait = 0.3  # an unknown message id is looked for briefly in tests
    return channel


@dataclass
class SmsRig:
    harbour: Harbour
    channel: SmsChannel
    twilio: FakeTwilio
    staff: Recorder  # what staff on the local channel received
    public_url: str
    clock: FakeClock

    async def post(
        self, path: str, params: Mapping[str, str], *, token: str = DEFAULT_AUTH_TOKEN
    ) -> httpx.Response:
        """POST a form signed as Twilio signs it, over real HTTP."""
        headers, body = signed_webhook(self.public_url + path, dict(params), token)
        async with httpx.AsyncClient(timeout=10) as http:
            return await http.post(self.public_url + path, content=body, headers=headers)

    async def text(
        self, body: str, *, sender: str = SURVIVOR, sid: str | None = None
    ) -> httpx.Response:
        """The survivor texts Harbour: a signed inbound webhook, then everything processed."""
        params = inbound_sms_params(
            from_=sender,
            to=HARBOUR_NUMBER,
            body=body,
            account_sid=DEFAULT_ACCOUNT_SID,
            message_sid=sid,
        )
        response = await self.post("/twilio/sms", params)
        await self.harbour.drain()
        return response

    def replies(self, number: str = SURVIVOR) -> list[str]:
        return [record.body for record in self.twilio.sent_to(number)]

    async def outbox(self, *where: Any) -> list[OutboxItem]:
        async with UnitOfWork(self.harbour.db, self.harbour.cipher) as uow:
            stmt = select(OutboxItem).where(*where).order_by(OutboxItem.id)
            return list((await uow.session.execute(stmt)).scalars())

    async def identity(self, number: str = SURVIVOR) -> Identity:
        async with UnitOfWork(self.harbour.db, self.harbour.cipher) as uow:
            found = await uow.people.identity("sms", number)
            assert found is not None
            return found

    async def count(self, model: type, *where: Any) -> int:
        async with UnitOfWork(self.harbour.db, self.harbour.cipher) as uow:
            stmt = select(func.count()).select_from(model).where(*where)
            return int((await uow.session.execute(stmt)).scalar_one())


async def add_sms_advocate(harbour: Harbour, handle: str = "amira") -> int:
    """An advocate reached on the local channel (address "advocate:<handle>")."""
    async with UnitOfWork(harbour.db, harbour.cipher) as uow:
        staff = await uow.people.add_staff(handle, "advocate", "en", harbour.clock.now())
        await uow.people.add_identity(
            "local", f"advocate:{handle}", harbour.clock.now(), staff=staff
        )
        return staff.id


async def enrol_sms(
    harbour: Harbour, number: str, advocate_id: int | None, language: str = "en"
) -> str:
    """A survivor enrolled on SMS who has finished onboarding earlier; returns the case code."""
    async with UnitOfWork(harbour.db, harbour.cipher) as uow:
        now = harbour.clock.now()
        survivor = await uow.people.new_survivor(
            now, status="active", language=language, advocate_id=advocate_id
        )
        survivor.allowed_channels = ["sms"]
        await uow.people.add_identity("sms", number, now, survivor=survivor)
        return survivor.case_code


def free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@asynccontextmanager
async def serve_rig(
    settings: Settings,
    *,
    send_deadline: float = 5.0,
    pacers: Mapping[str, ChannelPacer] | None = None,
) -> AsyncIterator[SmsRig]:
    clock = FakeClock()
    sock = free_socket()
    public_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    async with FakeTwilio(clock=clock) as twilio:
        channel = sms_channel(twilio, public_url, timeout=send_deadline, clock=clock)
        staff = Recorder()
        channels: dict[str, Channel] = {"sms": channel, "local": LocalChannel(staff)}
        harbour = await build(settings, channels, clock=clock, pacers=pacers or {})
        app = create_app(harbour.db, channel.web_routes(harbour.inbound), MAX_BODY_BYTES)
        config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="off", ws="none")
        server = uvicorn.Server(config)
        task = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started:  # noqa: ASYNC110 - uvicorn offers no event for this
            await asyncio.sleep(0.01)
        try:
            yield SmsRig(harbour, channel, twilio, staff, public_url, clock)
        finally:
            server.should_exit = True
            await task
            await channel.stop()
            await harbour.close()
            sock.close()
