"""Who is on call: duty staff in office hours, the rota out of hours.

Office hours are configured as e.g. "mon-fri 09:00-17:00" in the office's time zone. Out of
hours, whoever has a rota shift covering the moment is on call; with no shift on record, the
duty team is called rather than nobody.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.staff.routing import is_available
from bot.store.escalation_models import RotaShift
from bot.store.models import Staff
from bot.store.uow import UnitOfWork

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class RotaError(ValueError):
    pass


@dataclass(frozen=True)
class OfficeHours:
    days: frozenset[int]  # 0 = Monday
    start: time
    end: time
    zone: ZoneInfo

    @classmethod
    def parse(cls, spec: str, zone: str) -> OfficeHours:
        """ "mon-fri 09:00-17:00" or "mon,wed,fri 10:00-16:00"."""
        try:
            day_part, hours = spec.strip().lower().split()
            start_text, end_text = hours.split("-")
            start, end = time.fromisoformat(start_text), time.fromisoformat(end_text)
            days: set[int] = set()
            for piece in day_part.split(","):
                first, _, last = piece.partition("-")
                a, b = DAYS.index(first), DAYS.index(last or first)
                days.update(range(a, b + 1))
            return cls(frozenset(days), start, end, ZoneInfo(zone))
        except (ValueError, KeyError) as exc:
            raise RotaError(f"office hours {spec!r}: use e.g. 'mon-fri 09:00-17:00'") from exc

    def contains(self, when: datetime) -> bool:
        local = when.astimezone(self.zone)
        return local.weekday() in self.days and self.start <= local.time() < self.end


async def on_call(uow: UnitOfWork, now: datetime, office: OfficeHours) -> list[Staff]:
    duty = [s for s in await uow.people.active_staff("duty") if is_available(s, now)]
    if office.contains(now):
        return duty
    stmt = (
        select(Staff)
        .join(RotaShift, RotaShift.staff_id == Staff.id)
        .where(RotaShift.starts_at <= now, RotaShift.ends_at > now, Staff.active.is_(True))
        .order_by(RotaShift.starts_at)
    )
    shift = list(dict.fromkeys((await uow.session.execute(stmt)).scalars()))
    return shift or duty
