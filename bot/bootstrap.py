"""The composition root: the one place that builds the database, the engine, the services and
the adapters, real or fake. Nothing is created when a module is imported.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.engine import Bundle
from bot.flows.files import load_bundle
from bot.messaging.conversation import ConversationService
from bot.messaging.inbound import InboundPipeline
from bot.messaging.outbox import OutboxSender
from bot.messaging.pacing import ChannelPacer, Limits
from bot.messaging.relay import RelayPreparer
from bot.messaging.staff_notices import StaffNotices
from bot.pacemaker import Pacemaker
from bot.ports import Channel, Clock, SystemClock, Ticker, Translator
from bot.privacy.retention import Periods, RetentionTicker
from bot.safety.escalation import Escalations, EscalationTicker
from bot.safety.rota import OfficeHours, RotaError
from bot.safety.second_opinion import SecondOpinion
from bot.settings import ConfigError, Settings
from bot.staff.codes import CodeSettings
from bot.staff.commands import StaffCommands
from bot.staff.routing import PRIORITY_URGENT
from bot.staff.texts import StaffTexts
from bot.store.crypto import Cipher
from bot.store.database import Database, open_store
from bot.translation.language_detection import LanguageDetector
from bot.translation.translator import translator_from_settings

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
FLOWS_DIR = ROOT / "flows"
LOCALES_DIR = ROOT / "locales"


@dataclass
class Harbour:
    """A running Harbour: its parts, its background tasks, and a clean stop."""

    settings: Settings
    db: Database
    cipher: Cipher
    bundle: Bundle
    channels: dict[str, Channel]
    conversations: ConversationService
    inbound: InboundPipeline
    sender: OutboxSender
    clock: Clock
    outbox_wake: asyncio.Event
    relay: RelayPreparer
    relay_wake: asyncio.Event
    pacemaker: Pacemaker
    urgent_wake: asyncio.Event
    commands: StaffCommands | None = None  # the staff command table (chat and console)
    escalations: Escalations | None = None
    stop_event: asyncio.Event = field(default_factory=asyncio.Event)
    scheduler: AsyncIOScheduler | None = None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def drain(self, rounds: int = 50) -> None:
        """Process every queued message and send everything due (simulate, tests, shutdown)."""
        for _ in range(rounds):
            await self.inbound.drain()
            prepared = await self.relay.prepare_due()
            if not await self.sender.send_due() and not prepared:
                return

    async def run_due(self) -> datetime | None:
        """Run every periodic job once at the clock's time, then send what they queued."""
        due = await self.pacemaker.tick_all()
        await self.drain()
        return due

    async def start_background(self) -> None:
        """Recover leftovers, then run the inbound worker, the outbox loop and the scheduler."""
        await self.sender.release_expired()
        await self.inbound.recover()
        self.tasks.append(asyncio.create_task(self.inbound.run(self.stop_event)))
        self.tasks.append(asyncio.create_task(self.sender.run(self.outbox_wake, self.stop_event)))
        urgent_lane = self.sender.run(
            self.urgent_wake, self.stop_event, idle=0.5, min_priority=PRIORITY_URGENT
        )
        self.tasks.append(asyncio.create_task(urgent_lane))
        self.tasks.append(asyncio.create_task(self.relay.run(self.relay_wake, self.stop_event)))
        scheduler = AsyncIOScheduler(timezone="UTC")
        # APScheduler only sets the pace; the database says what is due.
        interval_jobs = (
            (self.inbound.recover, 30, "inbox-recover"),
            (self.sender.release_expired, self._lease_check_seconds(), "outbox-leases"),
            (self.outbox_wake.set, 5, "outbox-tick"),
        )
        for job, seconds, name in interval_jobs:
            scheduler.add_job(
                job, "interval", seconds=seconds, id=name, max_instances=1, coalesce=True
            )
        self.pacemaker.schedule(scheduler)
        scheduler.start()
        self.scheduler = scheduler
        # What start-up built (flows, catalogues, phrase banks, mappers, libraries) lives as
        # long as the process: out of the collector's sight, a full collection under load
        # takes milliseconds instead of ~90 ms, a pause every webhook waiting then shared.
        gc.freeze()

    def _lease_check_seconds(self) -> float:
        """Rows a dead sender held are released soon after their lease runs out."""
        return max(0.5, min(60.0, self.sender.lease.total_seconds() / 2))

    async def close(self) -> None:
        self.stop_event.set()
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)
        for task in self.tasks:
            try:
                await asyncio.wait_for(task, timeout=5)
            except (TimeoutError, asyncio.CancelledError):
                task.cancel()
        await self.db.close()


def office_hours(settings: Settings) -> OfficeHours:
    try:
        return OfficeHours.parse(settings.office_hours, settings.office_timezone)
    except RotaError as exc:
        raise ConfigError(f"HARBOUR_OFFICE_HOURS / HARBOUR_OFFICE_TIMEZONE: {exc}") from None


def default_pacers(settings: Settings) -> dict[str, ChannelPacer]:
    return {
        # Telegram: 30 messages a second per bot, 1 a second per chat; stay just under.
        "telegram": ChannelPacer(Limits(per_second=29.0, per_address_interval=1.05, ceiling=30)),
        # SMS: the sending number's rate (1 a second for a long code unless Twilio raised it).
        "sms": ChannelPacer(Limits(per_second=settings.sms_per_second, per_address_interval=1.0)),
    }


def appointment_tickers(
    settings: Settings,
    db: Database,
    cipher: Cipher,
    bundle: Bundle,
    texts: StaffTexts,
    conversations: ConversationService,
    commands: StaffCommands,
) -> list[Ticker]:
    """Appointments, reminders, check-ins and the contact-loss watch: their staff commands,
    the hooks that hear the survivor's answers, and their tickers."""
    from bot.care.appointments import AppointmentBook, ReminderPolicy
    from bot.care.checkins import CheckinService
    from bot.care.commands import AppointmentCommands
    from bot.care.contact_watch import ContactWatchService
    from bot.care.my_appointments import MyAppointments
    from bot.care.reminders import ReminderService

    policy = ReminderPolicy.parse(
        settings.reminder_offsets,
        settings.reminder_no_reply_alert,
        settings.reminder_late_grace_minutes,
        settings.reminder_min_lead_minutes,
    )
    book = AppointmentBook(bundle, policy)
    AppointmentCommands(book).register(commands)
    reminders = ReminderService(db, cipher, conversations, book, texts)
    checkins = CheckinService(db, cipher, conversations, texts)
    listing = MyAppointments(bundle, cipher)
    conversations.record_hooks += [reminders.on_record, checkins.on_record, listing.on_record]
    return [reminders, checkins, ContactWatchService(db, cipher, texts)]


def code_settings(settings: Settings) -> CodeSettings:
    return CodeSettings(
        settings.enrolment_code_hours, settings.telegram_bot_username, settings.twilio_from
    )


def staff_commands(
    texts: StaffTexts, bundle: Bundle, escalations: Escalations, codes: CodeSettings
) -> StaffCommands:
    """The staff command table: each capability registers its own commands (appointments are
    added with their service in `appointment_tickers`)."""
    from bot.messaging import quick_replies, replies
    from bot.safety import commands as safety_commands
    from bot.staff import caseload
    from bot.staff import codes as join_codes

    commands = StaffCommands(texts, bundle)
    caseload.register(commands)
    join_codes.register(commands, codes)
    replies.register(commands)
    quick_replies.register(commands)
    safety_commands.register(commands, escalations)
    return commands


async def build(
    settings: Settings,
    channels: Mapping[str, Channel],
    *,
    clock: Clock | None = None,
    bundle: Bundle | None = None,
    pacers: Mapping[str, ChannelPacer] | None = None,
    translator: Translator | None = None,
) -> Harbour:
    clock = clock or SystemClock()
    bundle = bundle or load_bundle(FLOWS_DIR, LOCALES_DIR)
    texts = StaffTexts.load(LOCALES_DIR / "staff")
    db, cipher = await open_store(settings)
    db.channels = frozenset(channels)  # staff are reached only where this process sends
    escalations = Escalations(
        texts, office_hours(settings), timedelta(minutes=settings.escalation_timeout_minutes)
    )
    notices = StaffNotices(texts, escalations)
    commands = staff_commands(texts, bundle, escalations, code_settings(settings))
    conversations = ConversationService(db, cipher, bundle, channels, notices, commands, clock)
    wake, relay_wake, urgent_wake = asyncio.Event(), asyncio.Event(), asyncio.Event()
    relay = RelayPreparer(
        db,
        cipher,
        translator or translator_from_settings(settings),
        LanguageDetector(),
        texts,
        lambda key, language: bundle.catalogue.text(language, key),
        clock,
        released=wake,
    )
    relay.reply_mark = settings.reply_mark
    sender = OutboxSender(
        db,
        cipher,
        channels,
        pacers if pacers is not None else default_pacers(settings),
        notices,
        clock,
        max_attempts=settings.outbox_max_attempts,
        retry_window=timedelta(hours=settings.outbox_retry_hours),
        lease=timedelta(seconds=settings.outbox_lease_seconds),
    )
    if settings.translator != "none" or translator is not None:
        relay.second_opinion = SecondOpinion(bundle.urgent_bank, relay.translator, escalations)
    # The periodic jobs (reminders, re-alerts, retention...): each area adds its ticker here.
    periodic: list[Ticker] = [EscalationTicker(db, cipher, escalations)]
    periodic += appointment_tickers(settings, db, cipher, bundle, texts, conversations, commands)
    periodic.append(RetentionTicker(db, cipher, Periods.from_settings(settings)))
    return Harbour(
        settings=settings,
        db=db,
        cipher=cipher,
        bundle=bundle,
        channels=dict(channels),
        conversations=conversations,
        inbound=InboundPipeline(conversations, clock, wake, [urgent_wake, relay_wake]),
        sender=sender,
        clock=clock,
        outbox_wake=wake,
        relay=relay,
        relay_wake=relay_wake,
        pacemaker=Pacemaker(periodic, clock),
        urgent_wake=urgent_wake,
        commands=commands,
        escalations=escalations,
    )
