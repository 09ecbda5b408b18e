"""One inbound message's turn: what it touches, and the hooks other areas add to it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bot.engine.effects import Record, Say
from bot.ports import Channel
from bot.store.models import Identity, Survivor
from bot.store.uow import UnitOfWork


class RecordHook(Protocol):
    """Another area acting on a recorded answer (an appointment reply, a check-in). It may
    return what to say to the survivor in answer ("My appointments" lists them)."""

    async def __call__(
        self, uow: UnitOfWork, now: datetime, survivor: Survivor, record: Record
    ) -> Say | None: ...


@dataclass
class Turn:
    """Everything one inbound message touches, passed between the steps below."""

    uow: UnitOfWork
    now: datetime
    channel: Channel
    identity: Identity
    survivor: Survivor
    inbox_id: int
    erase_requested: bool = False  # "delete my data", confirmed: done when the turn ends
    unheard: bool = False  # a relay reached nobody: "passed on" would not be true
