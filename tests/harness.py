"""Building a real Harbour for tests, with a local channel that records what it sent."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.bootstrap import Harbour, build
from bot.channels.local import LocalChannel
from bot.ports import Channel, OutboundMessage
from bot.settings import Settings
from bot.store.uow import UnitOfWork


@dataclass
class Recorder:
    sent: list[OutboundMessage] = field(default_factory=list)

    def __call__(self, message: OutboundMessage) -> None:
        self.sent.append(message)

    def to(self, address: str) -> list[OutboundMessage]:
        return [m for m in self.sent if m.address == address]

    def kinds(self, address: str) -> list[str]:
        return [m.kind for m in self.to(address)]


async def start(
    settings: Settings, channels: Mapping[str, Channel] | None = None, **kwargs: Any
) -> tuple[Harbour, Recorder]:
    recorder = Recorder()
    if channels is None:
        channels = {"local": LocalChannel(recorder, render_as="telegram")}
    return await build(settings, channels, pacers={}, **kwargs), recorder


async def add_advocate(harbour: Harbour, handle: str = "amira", role: str = "advocate") -> int:
    async with UnitOfWork(harbour.db, harbour.cipher) as uow:
        now = harbour.clock.now()
        staff = await uow.people.add_staff(handle, role, "en", now)
        prefix = "advocate" if role == "advocate" else "staff"
        await uow.people.add_identity("local", f"{prefix}:{handle}", now, staff=staff)
        return staff.id


async def enrol(
    harbour: Harbour, address: str, advocate_id: int | None, language: str | None = "en"
) -> str:
    """An enrolled survivor on the local channel; returns the case code."""
    async with UnitOfWork(harbour.db, harbour.cipher) as uow:
        now = harbour.clock.now()
        survivor = await uow.people.new_survivor(
            now, status="active", language=language, advocate_id=advocate_id
        )
        await uow.people.add_identity("local", address, now, survivor=survivor)
        return survivor.case_code


async def say(harbour: Harbour, address: str, text: str, provider_id: str | None = None) -> bool:
    """Deliver one message as the local channel would, then process and send everything."""
    stored = await harbour.inbound.accept(
        "local", provider_id or uuid.uuid4().hex, {"from": address, "text": text}
    )
    await harbour.drain()
    return stored


async def onboard(harbour: Harbour, address: str) -> None:
    """Walk an enrolled survivor through the safety check and consent to the main menu."""
    for text in ("hello", "1", "1"):
        await say(harbour, address, text)
