"""Quick replies on the case page: each saved reply in the survivor's language (marked while
a native speaker has not reviewed it), sent with the chat command `/q CASE name`."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.messaging import quick_replies
from bot.web.console.auth import Page, signed_in
from bot.web.console.context import CasePanel
from bot.web.console.pages.case import CaseView, run_command


async def load(view: CaseView) -> dict[str, Any] | None:
    if not view.may_reply:
        return None
    bundle = view.page.console.bundle
    language = view.survivor.language or "en"
    replies = []
    for name in quick_replies.names(bundle):
        text, reviewed = quick_replies.text_of(bundle, name, language)
        english, _ = quick_replies.text_of(bundle, name, "en")
        replies.append({"name": name, "text": text, "reviewed": reviewed, "english": english})
    return {"replies": replies, "language": language}


PANEL = CasePanel("quick", "panels/quick.html", load)


async def _send(request: Request, current: Page) -> Response:
    code = str(request.path_params["code"]).upper()[:16]
    name = current.form.get("name", "")[:64]
    return await run_command(request, current, code, "q", [code, name])


def routes() -> list[Route]:
    return [Route("/case/{code}/quick", signed_in(_send), methods=["POST"])]
