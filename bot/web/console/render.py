"""Rendering console pages: the templates, the error page, the one-shot notice cookie."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, unquote

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from bot.web.console.context import Console

NOTICE = "harbour_notice"


def console_of(request: Request) -> Console:
    console: Console = request.app.state.console
    return console


def page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    console = console_of(request)
    notice = request.cookies.get(NOTICE)
    context.setdefault("notice", unquote(notice)[:500] if notice else None)
    context.setdefault("signed", None)
    context.setdefault("csrf", "")
    html = console.env.get_template(name).render(request=request, **context)
    response = HTMLResponse(html, status_code=status)
    if notice:
        response.delete_cookie(NOTICE, path="/")
    return response


def error(request: Request, status: int, title: str, detail: str, **context: Any) -> Response:
    return page(request, "error.html", status=status, title=title, detail=detail, **context)


def redirect(request: Request, url: str, notice: str | None = None) -> Response:
    """303 after a form (post, redirect, get), with an optional notice for the next page."""
    response = RedirectResponse(url, status_code=303)
    if notice:
        console = console_of(request)
        response.set_cookie(
            NOTICE,
            quote(notice[:500]),
            httponly=True,
            samesite="strict",
            secure=console.settings.console_secure_cookies,
            path="/",
        )
    return response
