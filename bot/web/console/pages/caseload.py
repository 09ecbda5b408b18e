"""My caseload (`/`): each case with its language, last contact, next appointment,
contact-loss level and open alerts. Sortable; covered cases are marked.

The cases listed are those /cases lists in chat: own and covered, and for duty staff the
cases nobody is responsible for. Four queries whatever the size of the caseload.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.staff.case_access import OPEN_ALERT, self_access
from bot.store.escalation_models import Escalation
from bot.store.models import Appointment, ContactWatch, Survivor
from bot.store.uow import UnitOfWork
from bot.web.console.auth import Page, signed_in
from bot.web.console.render import page

LEVELS = {0: "none", 1: "watch", 2: "concern", 3: "high"}


@dataclass
class Row:
    code: str
    language: str
    status: str
    last_contact: datetime | None
    next_appointment: datetime | None
    level: int
    alerts: int
    relation: str  # own | cover | duty

    @property
    def level_name(self) -> str:
        return LEVELS.get(self.level, str(self.level))


def _stamp(when: datetime | None) -> float:
    return when.timestamp() if when is not None else 0.0


SORTS: dict[str, Callable[[Row], tuple[Any, ...]]] = {
    "code": lambda r: (r.code,),
    "language": lambda r: (r.language, r.code),
    "last": lambda r: (r.last_contact is None, -_stamp(r.last_contact)),
    "next": lambda r: (r.next_appointment is None, _stamp(r.next_appointment)),
    "risk": lambda r: (-r.level, -r.alerts, r.code),
    "alerts": lambda r: (-r.alerts, -r.level, r.code),
}


async def caseload_rows(uow: UnitOfWork, staff_id: int, role: str, now: datetime) -> list[Row]:
    covered = [s.id for s in await uow.people.staff_covered_by(staff_id, now)]
    survivors = await uow.people.caseload([staff_id, *covered])
    if role == "duty":
        survivors += await uow.people.unassigned_cases()
    ids = [s.id for s in survivors]
    if not ids:
        return []
    upcoming = await uow.session.execute(
        select(Appointment.survivor_id, func.min(Appointment.starts_at))
        .where(
            Appointment.survivor_id.in_(ids),
            Appointment.status == "scheduled",
            Appointment.starts_at >= now,
        )
        .group_by(Appointment.survivor_id)
    )
    next_at = {sid: at for sid, at in upcoming}
    watched = await uow.session.execute(
        select(ContactWatch.survivor_id, ContactWatch.level).where(
            ContactWatch.survivor_id.in_(ids)
        )
    )
    levels = {sid: level for sid, level in watched}
    raised = await uow.session.execute(
        select(Escalation.survivor_id, func.count())
        .where(Escalation.survivor_id.in_(ids), Escalation.status.in_(OPEN_ALERT))
        .group_by(Escalation.survivor_id)
    )
    alerts = {sid: int(n) for sid, n in raised}
    return [_row(s, staff_id, role, next_at, levels, alerts) for s in survivors]


def _row(
    s: Survivor,
    staff_id: int,
    role: str,
    next_at: dict[int, datetime],
    levels: dict[int, int],
    alerts: dict[int, int],
) -> Row:
    relation = "own" if s.advocate_id == staff_id else ("duty" if role == "duty" else "cover")
    at = next_at.get(s.id)
    if at is not None and at.tzinfo is None:  # SQLite's MIN() loses the column type
        at = at.replace(tzinfo=UTC)
    return Row(
        code=s.case_code,
        language=s.language or "?",
        status=s.status,
        last_contact=s.last_inbound_at,
        next_appointment=at,
        level=levels.get(s.id, 0),
        alerts=alerts.get(s.id, 0),
        relation=relation,
    )


async def _caseload(request: Request, current: Page) -> Response:
    staff = current.staff
    sort = request.query_params.get("sort", "risk")
    sort = sort if sort in SORTS else "risk"
    allowed = self_access(staff, "list_cases", current.now)
    rows = await caseload_rows(current.uow, staff.id, staff.role, current.now) if allowed else []
    rows.sort(key=SORTS[sort])
    if allowed:
        current.uow.audit.record(
            f"staff:{staff.handle}", "case.list", current.now, count=len(rows), via="console"
        )
    return page(
        request, "caseload.html", rows=rows, sort=sort, allowed=allowed, now=current.now,
        **current.context(),
    )  # fmt: skip


def routes() -> list[Route]:
    return [Route("/", signed_in(_caseload), methods=["GET"])]
