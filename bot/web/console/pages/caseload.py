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

from markupsafe import Markup, escape
from sqlalchemy import ColumnElement, func, select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.staff.case_access import OPEN_ALERT, self_access
from bot.store.escalation_models import Escalation
from bot.store.models import Appointment, ContactWatch, Staff, Survivor
from bot.store.people import CLOSED_STATUSES
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
    level: int
    alerts: int
    relation: str  # own | cover | duty
    last_iso: str = ""
    last_text: str = ""
    next_iso: str = ""
    next_text: str = ""

    @property
    def level_name(self) -> str:
        return LEVELS.get(self.level, str(self.level))

    def html(self) -> Markup:
        """The table row. Built here rather than in the template: a caseload of thousands of
        rows renders several times faster (bench/console.py). Every value is escaped."""
        code = escape(self.code)
        tag = {
            "cover": ' <span class="tag">covered</span>',
            "duty": ' <span class="tag">duty</span>',
        }
        last = f'<time datetime="{self.last_iso}">{self.last_text}</time>' if self.last_iso else "—"
        upcoming = (
            f'<time datetime="{self.next_iso}">{self.next_text} UTC</time>'
            if self.next_iso
            else "—"
        )
        alerts = f'<a class="alert-count" href="/alerts">{self.alerts}</a>' if self.alerts else "0"
        # Each value is escaped, or made here from digits and fixed text.
        return Markup(  # noqa: S704
            f'<tr class="level-{self.level}"><th scope="row"><a href="/case/{code}">{code}</a>'
            f"{tag.get(self.relation, '')}</th><td>{escape(self.language)}</td><td>{last}</td>"
            f"<td>{upcoming}</td><td>{escape(self.level_name)}</td><td>{alerts}</td></tr>\n"
        )


def _stamp(when: datetime | None) -> float:
    return when.timestamp() if when is not None else 0.0


SORTS: dict[str, Callable[[Row], tuple[Any, ...]]] = {
    "code": lambda r: (r.code,),
    "language": lambda r: (r.language, r.code),
    "last": lambda r: (r.last_contact is None, -_stamp(r.last_contact)),
    "next": lambda r: (not r.next_iso, r.next_iso),
    "risk": lambda r: (-r.level, -r.alerts, r.code),
    "alerts": lambda r: (-r.alerts, -r.level, r.code),
}


MONTHS = ("", "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _when(at: datetime | None) -> tuple[str, str]:
    """(ISO, short text) for a <time> element, in UTC; formatted by hand, not by strftime or
    the template: a caseload of thousands formats two of these a row."""
    if at is None:
        return "", ""
    if at.tzinfo is not None and at.utcoffset():
        at = at.astimezone(UTC)
    hm = f"{at.hour:02d}:{at.minute:02d}"
    return f"{at.year}-{at.month:02d}-{at.day:02d}T{hm}Z", f"{at.day:02d} {MONTHS[at.month]} {hm}"


def _cases(staff_ids: list[int], duty: bool) -> ColumnElement[bool]:
    """The same cases as /cases in chat (People.caseload, and for duty unassigned_cases)."""
    cases = Survivor.advocate_id.in_(staff_ids) & Survivor.status.not_in(CLOSED_STATUSES)
    if duty:
        inactive = select(Staff.id).where(Staff.active.is_(False))
        nobody = Survivor.advocate_id.is_(None) | Survivor.advocate_id.in_(inactive)
        cases = cases | (nobody & Survivor.status.not_in((*CLOSED_STATUSES, "intake", "closed")))
    return cases


async def caseload_rows(uow: UnitOfWork, staff_id: int, role: str, now: datetime) -> list[Row]:
    """One query of plain columns (no ORM objects), whatever the size of the caseload: the
    next appointment and the open alerts are correlated subqueries on indexed columns."""
    covered = [s.id for s in await uow.people.staff_covered_by(staff_id, now)]
    next_at = (
        select(func.min(Appointment.starts_at))
        .where(
            Appointment.survivor_id == Survivor.id,
            Appointment.status == "scheduled",
            Appointment.starts_at >= now,
        )
        .scalar_subquery()
    )
    open_alerts = (
        select(func.count())
        .where(Escalation.survivor_id == Survivor.id, Escalation.status.in_(OPEN_ALERT))
        .scalar_subquery()
    )
    stmt = (
        select(
            Survivor.case_code,
            Survivor.language,
            Survivor.status,
            Survivor.advocate_id,
            Survivor.last_inbound_at,
            ContactWatch.level,
            next_at,
            open_alerts,
        )
        .outerjoin(ContactWatch, ContactWatch.survivor_id == Survivor.id)
        .where(_cases([staff_id, *covered], role == "duty"))
    )
    rows = []
    for (
        code,
        language,
        status,
        advocate_id,
        last,
        level,
        upcoming,
        alerts,
    ) in await uow.session.execute(stmt):
        own = advocate_id == staff_id
        last_iso, last_text = _when(last)
        next_iso, next_text = _when(
            upcoming if isinstance(upcoming, datetime) else _parse(upcoming)
        )
        rows.append(
            Row(
                code=code,
                language=language or "?",
                status=status,
                last_contact=last,
                level=level or 0,
                alerts=int(alerts or 0),
                relation="own" if own else ("duty" if role == "duty" else "cover"),
                last_iso=last_iso,
                last_text=last_text,
                next_iso=next_iso,
                next_text=next_text,
            )
        )
    return rows


def _parse(value: object) -> datetime | None:
    """SQLite returns a subquery's MIN() of a date as text."""
    if not isinstance(value, str):
        return None
    return datetime.fromisoformat(value)


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
        request, "caseload.html", rows=rows, sort=sort, allowed=allowed, levels=LEVELS,
        **current.context(),
    )  # fmt: skip


def routes() -> list[Route]:
    return [Route("/", signed_in(_caseload), methods=["GET"])]
