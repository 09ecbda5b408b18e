"""A staff request made in the console: the chat command's answer is kept for the page
instead of being queued to the staff member's chat."""

from __future__ import annotations

from datetime import datetime

from bot.staff.commands import StaffRequest
from bot.staff.texts import StaffTexts
from bot.store.models import Identity, Staff
from bot.store.uow import UnitOfWork

DENIED = "staff.denied"


class ConsoleRequest(StaffRequest):
    def __init__(self, uow: UnitOfWork, now: datetime, staff: Staff, texts: StaffTexts) -> None:
        # Not stored: the console has no chat address. Nothing reads it but replies to a
        # relayed Telegram message, which the console never makes.
        nowhere = Identity(channel="console", address_hash="", address_enc=b"")
        super().__init__(uow, now, nowhere, staff, texts)
        self.said: list[tuple[str, str]] = []

    def say(self, key: str, sensitive: bool = False, **params: str) -> None:
        self.said.append((key, self.texts.text(key, self.staff.language, **params)))

    @property
    def denied(self) -> bool:
        return any(key == DENIED for key, _ in self.said)

    @property
    def answer(self) -> str:
        return " ".join(text for _, text in self.said)
