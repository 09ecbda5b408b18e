"""Harbour's HTTP side: a Starlette app with /healthz and /metrics, to which channels add
their webhooks.

Every request body is bounded before it is read in full, so an oversized body gets 413
and never reaches a parser.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.store.database import Database
from bot.store.delivery import outbox_figures

log = logging.getLogger(__name__)


class BodyLimit:
    """ASGI middleware: 413 for a body over `max_bytes`, whether declared or streamed."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await _too_large(scope, receive, send)
            return
        # Read the (small) body here, so an oversized stream is refused before any handler
        # runs, then replay it to the app.
        chunks: list[bytes] = []
        seen = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunk = message.get("body", b"")
            seen += len(chunk)
            if seen > self.max_bytes:
                await _too_large(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


# What the webhooks speak: Telegram posts JSON, Twilio posts forms. Anything else declared is
# refused before a handler runs (each handler still checks its own type and parses strictly).
ACCEPTED_TYPES = frozenset({"application/json", "application/x-www-form-urlencoded"})


class ContentTypes:
    """ASGI middleware: 400 for a request body declared as any other content type."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            raw = dict(scope.get("headers", [])).get(b"content-type")
            if raw is not None:
                media = raw.split(b";", 1)[0].strip().lower().decode("latin-1")
                if media not in ACCEPTED_TYPES:
                    response = JSONResponse({"error": "unsupported content type"}, status_code=400)
                    await response(scope, receive, send)
                    return
        await self.app(scope, receive, send)


async def _too_large(scope: Scope, receive: Receive, send: Send) -> None:
    await JSONResponse({"error": "request body too large"}, status_code=413)(scope, receive, send)


PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8"


def metrics_text(figures: Sequence[tuple[str, str, int, int]]) -> str:
    """Prometheus text: outbox rows by channel and status, and in-doubt re-sends by channel
    (Telegram sends re-sent once because an earlier try's outcome was unknown: each may
    have arrived twice). Counts only; over the rows kept (retention_outbox_days)."""
    lines = [
        "# HELP harbour_outbox_rows Outbox rows kept, by channel and status.",
        "# TYPE harbour_outbox_rows gauge",
    ]
    doubt: dict[str, int] = {}
    for channel, status, rows, resends in sorted(figures):
        lines.append(f'harbour_outbox_rows{{channel="{channel}",status="{status}"}} {rows}')
        doubt[channel] = doubt.get(channel, 0) + resends
    lines += [
        "# HELP harbour_outbox_in_doubt_resends Sends re-sent once without knowing whether the"
        " earlier try arrived (possible duplicates), over the rows kept.",
        "# TYPE harbour_outbox_in_doubt_resends gauge",
    ]
    lines += [
        f'harbour_outbox_in_doubt_resends{{channel="{c}"}} {n}' for c, n in sorted(doubt.items())
    ]
    return "\n".join(lines) + "\n"


def create_app(
    db: Database, routes: Sequence[BaseRoute] = (), max_body_bytes: int = 65536
) -> ASGIApp:
    async def healthz(_request: Request) -> Response:
        try:
            async with db.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception as exc:
            log.warning("health check: database unavailable (%s)", type(exc).__name__)
            return JSONResponse({"status": "unavailable", "database": "down"}, status_code=503)
        return JSONResponse({"status": "ok"})

    async def metrics(_request: Request) -> Response:
        try:
            async with db.sessions() as session:
                figures = await outbox_figures(session)
        except Exception as exc:
            log.warning("metrics: database unavailable (%s)", type(exc).__name__)
            return PlainTextResponse("database unavailable\n", status_code=503)
        return PlainTextResponse(metrics_text(figures), media_type=PROMETHEUS_TEXT)

    app = Starlette(
        routes=[
            Route("/healthz", healthz, methods=["GET"]),
            Route("/metrics", metrics, methods=["GET"]),
            *routes,
        ]
    )
    return BodyLimit(ContentTypes(app), max_body_bytes)
