"""The console's Starlette app: the pages of each area, static files, security headers and
the body limit. Built by `harbour run` (bot/cli/run.py) on its own bind."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp

from bot.web.app import BodyLimit
from bot.web.console import auth
from bot.web.console.context import STATIC, CasePanel, Console
from bot.web.console.headers import SecurityHeaders
from bot.web.console.pages import alerts, appointments, case, caseload, duty, notes, quick
from bot.web.console.render import error

MAX_BODY = 64 * 1024


def default_panels() -> list[CasePanel]:
    """The case page's own panels, in order; panels other capabilities put in
    `console.panels` (the support plan, say) come after them."""
    return [appointments.PANEL, appointments.CARE_PANEL, quick.PANEL, notes.PANEL]


async def _not_found(request: Request, exc: Exception) -> Response:
    return error(request, 404, "Not found", "There is no such page.")


async def _not_allowed(request: Request, exc: Exception) -> Response:
    return error(request, 405, "Not allowed", "That page does not take this kind of request.")


async def _failed(request: Request, exc: Exception) -> Response:
    return error(request, 500, "Something went wrong", "The error was logged; please try again.")


def create_console_app(console: Console) -> ASGIApp:
    names = {panel.name for panel in console.panels}
    console.panels[:0] = [p for p in default_panels() if p.name not in names]
    routes = [
        *auth.routes(),
        *caseload.routes(),
        *case.routes(),
        *notes.routes(),
        *appointments.routes(),
        *quick.routes(),
        *alerts.routes(),
        *duty.routes(),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    app = Starlette(
        routes=routes,
        exception_handlers={404: _not_found, 405: _not_allowed, 500: _failed},
    )
    app.state.console = console
    return SecurityHeaders(BodyLimit(app, MAX_BODY))
