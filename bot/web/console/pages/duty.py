"""The duty view (`/duty`), for duty staff and admins: who is on call now, the open alerts
by tier, and the cases nobody is responsible for (their codes; duty staff can open them)."""

from __future__ import annotations

from collections import Counter

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.safety.rota import on_call
from bot.web.console.auth import Page, signed_in
from bot.web.console.pages.alerts import alert_rows
from bot.web.console.render import error, page

ROLES = ("duty", "admin")


async def _duty(request: Request, current: Page) -> Response:
    if current.staff.role not in ROLES:
        return error(
            request, 403, "Not possible", "The duty view is for duty staff.", **current.context()
        )
    uow = current.uow
    office = current.console.escalations.office
    people_on_call = [s.handle for s in await on_call(uow, current.now, office)]
    alerts = await alert_rows(current)
    by_tier = Counter(a.tier for a in alerts)
    unassigned = await uow.people.unassigned_cases() if current.staff.role == "duty" else []
    uow.audit.record(f"staff:{current.staff.handle}", "console.duty_view", current.now)
    return page(
        request,
        "duty.html",
        on_call=people_on_call,
        alerts=alerts,
        by_tier=sorted(by_tier.items()),
        unassigned=unassigned,
        office_hours=office.contains(current.now),
        **current.context(),
    )


def routes() -> list[Route]:
    return [Route("/duty", signed_in(_duty), methods=["GET"])]
