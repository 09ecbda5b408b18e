"""The web app: health, oversized bodies and unknown routes."""

from __future__ import annotations

import httpx
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.settings import Settings
from bot.store.database import open_database, open_store
from bot.web.app import create_app


def client(app: object) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")  # type: ignore[arg-type]


async def test_healthz_ok(settings: Settings) -> None:
    db, _ = await open_store(settings)
    try:
        async with client(create_app(db)) as http:
            response = await http.get("/healthz")
        assert response.status_code == 200 and response.json() == {"status": "ok"}
    finally:
        await db.close()


async def test_healthz_reports_a_database_outage_as_503() -> None:
    db = open_database("postgresql+asyncpg://nobody@127.0.0.1:9/none")  # nothing listens on 9
    try:
        async with client(create_app(db)) as http:
            response = await http.get("/healthz")
        assert response.status_code == 503
    finally:
        await db.close()


async def test_oversized_bodies_get_413_declared_or_streamed(settings: Settings) -> None:
    db, _ = await open_store(settings)
    try:

        async def echo(request: Request) -> Response:
            return Response(str(len(await request.body())))

        app = create_app(db, [Route("/echo", echo, methods=["POST"])], max_body_bytes=2048)
        async with client(app) as http:
            declared = await http.post("/echo", content=b"x" * 5000)

            async def chunks():  # type: ignore[no-untyped-def]
                for _ in range(10):
                    yield b"y" * 1000

            streamed = await http.post("/echo", content=chunks())
            small = await http.post("/echo", content=b"{}")
            wrong_method = await http.post("/healthz", content=b"{}")
            missing = await http.get("/nowhere")
        assert declared.status_code == 413
        assert streamed.status_code == 413
        assert small.status_code == 200 and small.text == "2"
        assert wrong_method.status_code == 405
        assert missing.status_code == 404
    finally:
        await db.close()


async def test_metrics_count_outbox_rows_and_in_doubt_resends(settings: Settings) -> None:
    from datetime import UTC, datetime

    from bot.store.models import OutboxItem
    from bot.store.uow import UnitOfWork

    db, cipher = await open_store(settings)
    try:
        async with UnitOfWork(db, cipher) as uow:
            now = datetime.now(UTC)
            identity = await uow.people.add_identity("telegram", "42", now)
            await uow.session.flush()
            row = uow.outbox.add(
                channel="telegram", identity_id=identity.id, payload={"text": "hi"}, now=now
            )
            await uow.session.flush()
            row.status, row.doubt_resends = "sent", 1
            assert isinstance(row, OutboxItem)
        async with client(create_app(db)) as http:
            response = await http.get("/metrics")
        assert response.status_code == 200
        assert 'harbour_outbox_rows{channel="telegram",status="sent"} 1' in response.text
        assert 'harbour_outbox_in_doubt_resends{channel="telegram"} 1' in response.text
        assert "hi" not in response.text.split()
    finally:
        await db.close()
