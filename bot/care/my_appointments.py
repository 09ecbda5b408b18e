""" "My appointments" from the main menu: the survivor's upcoming appointments, each with its
day, date and time in their own time zone, police and court named only "Appointment" in
discreet mode, and never the place (a phone may be read by others). A ConversationService
record hook: the menu records "appointments_requested" and this answers it."""

from __future__ import annotations

from datetime import datetime

from bot.care.appointments import describe
from bot.engine import Bundle
from bot.engine.effects import Record, Say
from bot.engine.render import fill
from bot.store.appointments import Appointments
from bot.store.crypto import Cipher
from bot.store.models import Survivor
from bot.store.uow import UnitOfWork

REQUESTED = "appointments_requested"  # flows/menu.yaml
MAX_LISTED = 5  # a short message; the advocate has the rest


class MyAppointments:
    def __init__(self, bundle: Bundle, cipher: Cipher) -> None:
        self.bundle = bundle
        self.cipher = cipher

    async def on_record(
        self, uow: UnitOfWork, now: datetime, survivor: Survivor, record: Record
    ) -> Say | None:
        if record.kind != REQUESTED:
            return None
        upcoming = await Appointments(uow.session, self.cipher).of_survivor(survivor.id, now)
        if not upcoming:
            return Say("appointments.none")
        language = survivor.language or "en"
        item = self.bundle.catalogue.text(language, "appointments.item")
        lines = []
        for appointment in upcoming[:MAX_LISTED]:
            shown = describe(self.bundle, appointment, survivor, place=None)
            lines.append(fill(item, shown))
        return Say("appointments.list", {"list": "\n".join(lines)}, sensitive=True)
