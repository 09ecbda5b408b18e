"""The web app: health, oversized bodies and unknown routes."""

from __future__ import annotations

import httpx

from bot.settings import Settings
from bot.store.database import open_database, open_store
from bot.web import create_app


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
        async with client(create_app(db, max_body_bytes=2048)) as http:
            declared = await http.post("/healthz", content=b"x" * 5000)

            async def chunks():  # type: ignore[no-untyped-def]
                for _ in range(10):
                    yield b"y" * 1000

            streamed = await http.post("/healthz", content=chunks())
            small = await http.post("/healthz", content=b"{}")
            missing = await http.get("/nowhere")
        assert declared.status_code == 413
        assert streamed.status_code in (405, 413)  # 405: the route refuses before reading
        assert small.status_code == 405
        assert missing.status_code == 404
    finally:
        await db.close()
