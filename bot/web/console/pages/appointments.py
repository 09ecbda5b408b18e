"""Appointments on the case page: add, move and cancel, each the chat command of the same
name (/appt, /move, /cancel), and the check-in plan and consent status beside them."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.care.checkins import describe_plan
from bot.privacy import consent
from bot.store.appointments import Appointments
from bot.web.console.auth import Page, signed_in
from bot.web.console.context import CasePanel
from bot.web.console.pages.case import CaseView, run_command
from bot.web.console.render import redirect

KINDS = ("solicitor", "housing", "gp", "police", "court", "jobcentre", "other")


async def load(view: CaseView) -> dict[str, Any]:
    uow = view.page.uow
    repo = Appointments(uow.session, uow.cipher)
    upcoming = [
        {
            "id": a.id,
            "kind": a.kind,
            "starts_at": a.starts_at,
            "timezone": a.timezone,
            "place": repo.place(a),
            "reply": a.reply,
        }
        for a in await repo.of_survivor(view.survivor.id, since=view.page.now)
    ]
    return {"appointments": upcoming, "kinds": KINDS, "may_write": view.may_reply}


async def load_care(view: CaseView) -> dict[str, Any]:
    uow = view.page.uow
    plan = await Appointments(uow.session, uow.cipher).plan(view.survivor.id)
    given = await consent.current(uow.session, view.survivor.id)
    return {
        "plan": describe_plan(plan) if plan is not None and plan.active else None,
        "consent": [(p, given[p].granted if p in given else None) for p in consent.PURPOSES],
        "survivor": view.survivor,
    }


PANEL = CasePanel("appointments", "panels/appointments.html", load)
CARE_PANEL = CasePanel("care", "panels/care.html", load_care)


def _code(request: Request) -> str:
    return str(request.path_params["code"]).upper()[:16]


async def _add(request: Request, current: Page) -> Response:
    code, form = _code(request), current.form
    day, at, kind = form.get("day", ""), form.get("time", ""), form.get("kind", "")
    place = form.get("place", "").split()
    if not (day and at and kind):
        return redirect(request, f"/case/{code}", "Give a day, a time and a kind.")
    return await run_command(request, current, code, "appt", [code, day, at, kind, *place])


def _ident(request: Request) -> str:
    """The appointment id as the chat command takes it ("0", unknown, if it cannot be one)."""
    ident = int(request.path_params["ident"])
    return str(ident) if ident < 2**31 else "0"


async def _move(request: Request, current: Page) -> Response:
    code, form = _code(request), current.form
    ident = _ident(request)
    return await run_command(
        request, current, code, "move", [ident, form.get("day", ""), form.get("time", "")]
    )


async def _cancel(request: Request, current: Page) -> Response:
    return await run_command(request, current, _code(request), "cancel", [_ident(request)])


def routes() -> list[Route]:
    return [
        Route("/case/{code}/appointments", signed_in(_add), methods=["POST"]),
        Route("/case/{code}/appointments/{ident:int}/move", signed_in(_move), methods=["POST"]),
        Route("/case/{code}/appointments/{ident:int}/cancel", signed_in(_cancel), methods=["POST"]),
    ]
