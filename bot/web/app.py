"""Harbour's HTTP side: a Starlette app with /healthz, to which channels add their webhooks.

Every request body is bounded before it is read in full, so an oversized body gets 413
and never reaches a parser.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.store.database import Database

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

    app = Starlette(routes=[Route("/healthz", healthz, methods=["GET"]), *routes])
    return BodyLimit(ContentTypes(app), max_body_bytes)
