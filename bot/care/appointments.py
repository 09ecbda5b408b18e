"""Appointments: made, moved and cancelled by staff (chat commands or the CLI), in the
survivor's time zone, with their reminder jobs planned in the same transaction.

Planning, for each configured offset (24 h and 2 h by default):
- due = start - offset, moved earlier to the last safe moment if it falls in quiet hours;
- a reminder whose moment has already passed when the appointment is made is left out,
  unless none would remain: then one goes out as soon as it is safe;
- one "no reply" check for the advocate at `no_reply_before` the start (but never before an
  hour after the first reminder, so the survivor has time to answer).
Moving an appointment cancels its pending jobs and plans new ones; the survivor is told of a
move or a cancellation only if a reminder with the old time already reached them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Protocol, TypeVar
from zoneinfo import ZoneInfo

from babel.dates import format_date

from bot.care.quiet_hours import (
    LocalTimeError,
    QuietHours,
    next_safe,
    parse_hhmm,
    safe_before,
    strict_local,
    zone,
)
from bot.engine import Bundle, render
from bot.engine.effects import Say
from bot.staff.routing import PRIORITY_BACKGROUND
from bot.store.appointments import Appointments
from bot.store.batch import last_inbound_channels
from bot.store.models import Appointment, Identity, Survivor
from bot.store.uow import UnitOfWork

TYPES = ("solicitor", "housing", "gp", "police", "court", "jobcentre", "other")
ALIASES = {
    "lawyer": "solicitor", "legal": "solicitor", "doctor": "gp", "health": "gp",
    "police_interview": "police", "police-interview": "police", "interview": "police",
    "job": "jobcentre", "jobcenter": "jobcentre", "dwp": "jobcentre", "council": "housing",
}  # fmt: skip
# In discreet mode these are named only as "appointment": a phone may be read by others.
SENSITIVE_TYPES = frozenset({"police", "court"})
NO_REPLY_MIN_WAIT = timedelta(hours=1)
_DURATION = re.compile(r"^(\d+)\s*([mhd])$")


class AppointmentError(ValueError):
    """A request staff must correct: a staff-text key and its parameters."""

    def __init__(self, key: str, **params: str) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


def parse_duration(text: str) -> timedelta:
    match = _DURATION.match(text.strip().lower())
    if match is None:
        raise ValueError(f"not a duration: {text!r} (e.g. 24h, 90m, 2d)")
    unit = {"m": "minutes", "h": "hours", "d": "days"}[match.group(2)]
    return timedelta(**{unit: int(match.group(1))})


@dataclass(frozen=True)
class ReminderPolicy:
    offsets: tuple[timedelta, ...] = (timedelta(hours=24), timedelta(hours=2))
    no_reply_before: timedelta = timedelta(hours=3)
    late_grace: timedelta = timedelta(minutes=15)
    min_lead: timedelta = timedelta(minutes=30)

    @classmethod
    def parse(
        cls, offsets: str, no_reply: str, grace_minutes: int, lead_minutes: int
    ) -> ReminderPolicy:
        parsed = sorted({parse_duration(p) for p in offsets.split(",") if p.strip()}, reverse=True)
        return cls(
            offsets=tuple(parsed),
            no_reply_before=parse_duration(no_reply),
            late_grace=timedelta(minutes=grace_minutes),
            min_lead=timedelta(minutes=lead_minutes),
        )


def normalise_type(text: str) -> str:
    word = text.strip().lower()
    kind = ALIASES.get(word, word)
    if kind not in TYPES:
        raise AppointmentError("staff.appt_bad_type", types=", ".join(TYPES))
    return kind


def parse_when(day_text: str, time_text: str, tz: ZoneInfo) -> datetime:
    """A local date and time in the survivor's zone, as UTC; DST gaps and overlaps refused."""
    try:
        day = date.fromisoformat(day_text)
        at = parse_hhmm(time_text)
    except ValueError:
        raise AppointmentError("staff.appt_bad_when") from None
    try:
        return strict_local(day, at, tz)
    except LocalTimeError as exc:
        when = f"{day_text} {time_text}"
        raise AppointmentError(f"staff.appt_{exc.reason}", when=when, zone=str(tz)) from None


class SurvivorFacts(Protocol):
    """What reminders read of a survivor: an ORM Survivor or a batch's plain row."""

    @property
    def language(self) -> str | None: ...
    @property
    def timezone(self) -> str: ...
    @property
    def discreet(self) -> bool: ...
    @property
    def quiet_start(self) -> str | None: ...
    @property
    def quiet_end(self) -> str | None: ...


class AppointmentFacts(Protocol):
    """What reminders read of an appointment: an ORM Appointment or a batch's plain row."""

    @property
    def kind(self) -> str: ...
    @property
    def starts_at(self) -> datetime: ...
    @property
    def timezone(self) -> str: ...


class Reachable(Protocol):
    @property
    def channel(self) -> str: ...
    @property
    def status(self) -> str: ...


IdentityT = TypeVar("IdentityT", bound=Reachable)


def quiet_of(survivor: SurvivorFacts) -> QuietHours | None:
    return QuietHours.parse(survivor.quiet_start, survivor.quiet_end)


@lru_cache(maxsize=2048)
def _local_day(day: date, language: str) -> str:
    """The day as survivors read it ("Thu 3 Dec"); Babel is slow enough to be worth caching
    when a round of reminders names the same few days thousands of times."""
    try:
        return format_date(day, "EEE d MMM", locale=language)
    except (ValueError, LookupError):
        return day.strftime("%a %d %b")


def describe(
    bundle: Bundle, appointment: AppointmentFacts, survivor: SurvivorFacts, place: str | None
) -> dict[str, str]:
    """The {what} {day} {time} {place} of survivor-facing text, in their language."""
    language = survivor.language or "en"
    local = appointment.starts_at.astimezone(zone(survivor.timezone))
    kind = appointment.kind
    if survivor.discreet and kind in SENSITIVE_TYPES:
        kind = "other"
    shown_place = f"\n{place}" if place and not survivor.discreet else ""
    return {
        "what": bundle.catalogue.text(language, f"appt.type.{kind}"),
        "day": _local_day(local.date(), language),
        "time": local.strftime("%H:%M"),
        "place": shown_place,
    }


def staff_when(appointment: AppointmentFacts) -> str:
    local = appointment.starts_at.astimezone(zone(appointment.timezone))
    return f"{local:%a %d %b %Y %H:%M} {appointment.timezone}"


class AppointmentBook:
    def __init__(self, bundle: Bundle, policy: ReminderPolicy) -> None:
        self.bundle = bundle
        self.policy = policy

    async def create(
        self,
        uow: UnitOfWork,
        now: datetime,
        survivor: Survivor,
        kind: str,
        day: str,
        at: str,
        place: str | None,
        actor: str,
    ) -> Appointment:
        kind = normalise_type(kind)
        starts = parse_when(day, at, zone(survivor.timezone))
        if starts <= now:
            raise AppointmentError("staff.appt_past")
        repo = Appointments(uow.session, uow.outbox.cipher)
        appointment = await repo.add(
            survivor.id, kind, starts, survivor.timezone, place or None, actor, now
        )
        planned = self.plan(repo, appointment, survivor, now)
        uow.audit.record(
            actor, "appointment.created", now, survivor_id=survivor.id,
            appointment=appointment.id, kind=kind, reminders=planned,
        )  # fmt: skip
        return appointment

    async def move(
        self,
        uow: UnitOfWork,
        now: datetime,
        appointment: Appointment,
        survivor: Survivor,
        day: str,
        at: str,
        actor: str,
    ) -> None:
        if appointment.status != "scheduled":
            raise AppointmentError("staff.appt_not_scheduled", id=str(appointment.id))
        starts = parse_when(day, at, zone(survivor.timezone))
        if starts <= now:
            raise AppointmentError("staff.appt_past")
        repo = Appointments(uow.session, uow.outbox.cipher)
        await repo.cancel_pending_jobs(appointment.id, now)
        told_before = appointment.reminded_at is not None
        appointment.starts_at, appointment.timezone = starts, survivor.timezone
        appointment.reply = appointment.replied_at = appointment.reminded_at = None
        appointment.updated_at = now
        planned = self.plan(repo, appointment, survivor, now)
        if told_before:  # the survivor has the old time: tell them it changed
            await self._tell_survivor(uow, now, appointment, survivor, "appointments.moved")
        uow.audit.record(
            actor, "appointment.moved", now, survivor_id=survivor.id,
            appointment=appointment.id, reminders=planned,
        )  # fmt: skip

    async def cancel(
        self,
        uow: UnitOfWork,
        now: datetime,
        appointment: Appointment,
        survivor: Survivor,
        actor: str,
    ) -> None:
        if appointment.status != "scheduled":
            raise AppointmentError("staff.appt_not_scheduled", id=str(appointment.id))
        repo = Appointments(uow.session, uow.outbox.cipher)
        await repo.cancel_pending_jobs(appointment.id, now)
        appointment.status, appointment.updated_at = "cancelled", now
        if appointment.reminded_at is not None and appointment.starts_at > now:
            await self._tell_survivor(uow, now, appointment, survivor, "appointments.cancelled")
        uow.audit.record(
            actor, "appointment.cancelled", now, survivor_id=survivor.id, appointment=appointment.id
        )

    def plan(
        self, repo: Appointments, appointment: Appointment, survivor: Survivor, now: datetime
    ) -> int:
        """Queue the reminder jobs and the no-reply check; returns how many reminders."""
        tz, quiet = zone(survivor.timezone), quiet_of(survivor)
        starts = appointment.starts_at
        dues: list[tuple[int, datetime]] = []
        for offset in self.policy.offsets:
            due = safe_before(starts - offset, quiet, tz)
            if due > now:
                dues.append((int(offset.total_seconds() // 60), due))
        if not dues and starts - now >= self.policy.min_lead:
            # Made at short notice: one reminder, as soon as it is safe.
            dues.append((int((starts - now).total_seconds() // 60), next_safe(now, quiet, tz)))
        for minutes, due in dues:
            repo.add_job(appointment.id, "reminder", minutes, due, now)
        if dues:
            first = min(due for _, due in dues)
            check = max(starts - self.policy.no_reply_before, first + NO_REPLY_MIN_WAIT)
            if check < starts:
                minutes = int((starts - check).total_seconds() // 60)
                repo.add_job(appointment.id, "no_reply", minutes, check, now)
        return len(dues)

    async def _tell_survivor(
        self, uow: UnitOfWork, now: datetime, appointment: Appointment, survivor: Survivor, key: str
    ) -> None:
        identity = await reachable_identity(uow, survivor)
        if identity is None:
            return
        repo = Appointments(uow.session, uow.outbox.cipher)
        params = describe(self.bundle, appointment, survivor, repo.place(appointment))
        style = "telegram" if identity.channel in ("telegram", "local") else "sms"
        rendered = render(self.bundle, Say(key, params), survivor.language or "en", style)
        item = uow.outbox.add(
            channel=identity.channel,
            identity_id=identity.id,
            payload={"text": rendered.text, "key": key},
            now=now,
            kind="message",
            priority=PRIORITY_BACKGROUND,
            survivor_id=survivor.id,
        )
        item.next_attempt_at = next_safe(now, quiet_of(survivor), zone(survivor.timezone))


async def reachable_identity(uow: UnitOfWork, survivor: Survivor) -> Identity | None:
    """The survivor's open channel that they allowed, preferring the one they last wrote on."""
    identities = await uow.people.identities_of_survivor(survivor.id)
    last = (await last_inbound_channels(uow.session, [survivor.id])).get(survivor.id)
    return choose_identity(identities, last, survivor.allowed_channels or ())


def choose_identity(
    identities: Sequence[IdentityT], last_channel: str | None, allowed_channels: Sequence[str]
) -> IdentityT | None:
    """Of a survivor's identities (oldest first): the active one on the channel they last wrote
    on (else the oldest active one) if they allowed it, else the oldest active one they
    allowed. The same choice as staff replies make, narrowed to the allowed channels."""
    allowed = set(allowed_channels)
    active = [i for i in identities if i.status == "active"]
    if not active:
        return None
    preferred = next((i for i in active if i.channel == last_channel), active[0])
    if not allowed or preferred.channel in allowed:
        return preferred
    return next((i for i in active if i.channel in allowed), None)
