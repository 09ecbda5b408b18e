"""The case page (`/case/CODE`): the timeline, the reply box and the panels.

Reading needs "read_case" from the one access policy, and every read is audited. A reply
is the chat command `#CODE text` run through StaffCommands.dispatch: the same relay, the
same translation, the same checks. Panels (appointments, check-ins and consent, notes,
quick replies; more can be added) come from `console.panels`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.staff.access import Action
from bot.staff.case_access import case_access
from bot.staff.commands import REPLY_TO_CASE
from bot.store.models import Survivor
from bot.web.console import timeline
from bot.web.console.auth import Page, signed_in
from bot.web.console.render import error, page, redirect


@dataclass
class CaseView:
    """What a panel's loader gets: the page (transaction, staff, clock) and the case."""

    page: Page
    survivor: Survivor
    may_reply: bool


def refused(request: Request, current: Page, attempted: str, survivor: Survivor | None) -> Response:
    """The one neutral refusal, audited: the same for an unknown case and someone else's."""
    current.uow.audit.record(
        f"staff:{current.staff.handle}", "access.denied", current.now,
        survivor_id=survivor.id if survivor else None, attempted=attempted, via="console",
    )  # fmt: skip
    return error(
        request, 403, "Not possible", "That case is not one you can open.", **current.context()
    )


async def permitted(current: Page, code: str, action: Action) -> Survivor | None:
    """The survivor with this case code if the one access policy lets this staff member do
    `action` on it now; None for an unknown case and a refused one alike."""
    survivor = await current.uow.people.survivor_by_code(code.upper()[:16])
    if survivor is None:
        return None
    if not await case_access(current.uow, current.staff, survivor, action, current.now):
        return None
    return survivor


def _message_id(raw: str) -> int | None:
    """?before=ID for older messages: a plain id that fits the column, else the newest."""
    return int(raw) if raw.isdigit() and len(raw) <= 9 else None


async def _case(request: Request, current: Page) -> Response:
    code = request.path_params["code"]
    survivor = await permitted(current, code, "read_case")
    if survivor is None:
        found = await current.uow.people.survivor_by_code(code.upper()[:16])
        return refused(request, current, "read_case", found)
    before = request.query_params.get("before", "")
    line = await timeline.load(
        current.uow, survivor.id, current.staff.language,
        _message_id(before), survivor.language,
    )  # fmt: skip
    current.uow.audit.record(
        f"staff:{current.staff.handle}", "case.read", current.now, survivor_id=survivor.id,
        via="console",
    )  # fmt: skip
    may_reply = await case_access(current.uow, current.staff, survivor, "reply", current.now)
    view = CaseView(current, survivor, may_reply)
    panels: list[tuple[str, dict[str, Any]]] = []
    for panel in current.console.panels:
        data = await panel.load(view)
        if data is not None:
            panels.append((panel.template, data))
    return page(
        request, "case.html", survivor=survivor, timeline=line, may_reply=may_reply,
        panels=panels, **current.context(),
    )  # fmt: skip


async def run_command(
    request: Request, current: Page, code: str, name: str, args: list[str], rest: str = ""
) -> Response:
    """Run a chat command for the console and go back to the case with its answer."""
    ask = current.request()
    await current.console.commands.dispatch(name, ask, args, rest)
    if ask.denied:
        return error(request, 403, "Not possible", ask.answer, **current.context())
    return redirect(request, f"/case/{code}", ask.answer)


async def _reply(request: Request, current: Page) -> Response:
    code = request.path_params["code"].upper()[:16]
    text = current.form.get("text", "").strip()
    if not text:
        return redirect(request, f"/case/{code}", "Nothing to send: the reply was empty.")
    return await run_command(request, current, code, REPLY_TO_CASE, [code], text)


def routes() -> list[Route]:
    return [
        Route("/case/{code}", signed_in(_case), methods=["GET"]),
        Route("/case/{code}/reply", signed_in(_reply), methods=["POST"]),
    ]
