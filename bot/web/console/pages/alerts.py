"""Alerts (`/alerts`): open and acknowledged escalations this staff member may act on, with
their age, tier and who was told; ACK and RESOLVE buttons (plain forms, the chat commands
ACK and RESOLVE underneath). The table refreshes itself every few seconds with htmx."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.safety.escalation import TIERS
from bot.staff.case_access import OPEN_ALERT, case_access
from bot.staff.commands import ACK_BUTTON
from bot.store.escalation_models import Escalation
from bot.web.console.auth import Page, signed_in
from bot.web.console.render import error, page, redirect

POLL_SECONDS = 5


@dataclass
class AlertRow:
    code: str
    case: str
    status: str
    tier: str
    reason: str
    raised_at: datetime
    age_minutes: int
    told: list[str]
    may_read: bool


async def alert_rows(current: Page) -> list[AlertRow]:
    uow, now, staff = current.uow, current.now, current.staff
    escalations = current.console.escalations
    stmt = select(Escalation).where(Escalation.status.in_(OPEN_ALERT)).order_by(Escalation.id)
    rows = []
    for escalation in (await uow.session.execute(stmt)).scalars():
        survivor = await uow.people.survivor(escalation.survivor_id)
        if survivor is None:
            continue
        told = await escalations.recipients(uow, survivor, escalation.tier, now)
        alerted = frozenset(s.id for s in told)
        if not await case_access(uow, staff, survivor, "acknowledge", now, alerted=alerted):
            continue
        rows.append(
            AlertRow(
                code=escalation.code,
                case=survivor.case_code,
                status=escalation.status,
                tier=TIERS[min(escalation.tier, len(TIERS) - 1)].replace("_", " "),
                reason=escalation.reason.split(":")[-1].replace("_", " "),
                raised_at=escalation.created_at,
                age_minutes=int((now - escalation.created_at).total_seconds() // 60),
                told=[s.handle for s in told],
                may_read=await case_access(uow, staff, survivor, "read_case", now),
            )
        )
    return rows


async def _alerts(request: Request, current: Page) -> Response:
    rows = await alert_rows(current)
    return page(request, "alerts.html", rows=rows, poll=POLL_SECONDS, **current.context())


async def _table(request: Request, current: Page) -> Response:
    rows = await alert_rows(current)
    return page(request, "alerts_table.html", rows=rows, poll=POLL_SECONDS, **current.context())


async def _act(request: Request, current: Page, name: str, args: list[str]) -> Response:
    ask = current.request()
    await current.console.commands.dispatch(name, ask, args)
    if ask.denied:
        return error(request, 403, "Not possible", ask.answer, **current.context())
    return redirect(request, "/alerts", ask.answer)


async def _ack(request: Request, current: Page) -> Response:
    return await _act(request, current, ACK_BUTTON, [str(request.path_params["code"])[:8]])


async def _resolve(request: Request, current: Page) -> Response:
    outcome = current.form.get("outcome", "").split()
    return await _act(request, current, "resolve", [str(request.path_params["code"])[:8], *outcome])


def routes() -> list[Route]:
    return [
        Route("/alerts", signed_in(_alerts), methods=["GET"]),
        Route("/alerts/table", signed_in(_table), methods=["GET"]),
        Route("/alerts/{code}/ack", signed_in(_ack), methods=["POST"]),
        Route("/alerts/{code}/resolve", signed_in(_resolve), methods=["POST"]),
    ]
