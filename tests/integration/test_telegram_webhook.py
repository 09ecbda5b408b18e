"""POST /telegram/webhook: 403 without the secret, 400 for what is not an update, 413 when too
big, 503 when the database is down (Telegram then retries), 200 only once stored; and the
same update delivered twice, concurrently, late and out of order gives one reply."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator

import httpx
import pytest
import uvicorn
from sqlalchemy import func, select

from bot.bootstrap import Harbour
from bot.settings import Settings
from bot.store.database import open_database
from bot.store.models import InboxItem, Message
from bot.store.uow import UnitOfWork
from bot.web.app import create_app
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.telegram_wire import SECRET_HEADER
from tests.integration.telegram_harness import (
    add_telegram_staff,
    start_harbour,
    stop_harbour,
    texts_to,
    wait_for,
)

SECRET = "s3cret-Token_for-tests"
CHAT = 5_550_201
DEAD_DATABASE = "postgresql+asyncpg://nobody@127.0.0.1:9/none"  # nothing listens on 9


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(per_chat_limit=1000) as server:
        yield server


@pytest.fixture
async def harbour(settings: Settings, fake: FakeTelegram) -> AsyncIterator[Harbour]:
    built, channel = await start_harbour(settings, fake, mode="webhook", secret=SECRET)
    await add_telegram_staff(built)
    yield built
    await stop_harbour(built, channel)


def http_client(harbour: Harbour, max_body: int = 65536) -> httpx.AsyncClient:
    channel = harbour.channels["telegram"]
    routes = channel.web_routes(harbour.inbound)  # type: ignore[attr-defined]
    app = create_app(harbour.db, routes, max_body_bytes=max_body)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


async def post(client: httpx.AsyncClient, body: object, secret: str | None = SECRET) -> int:
    headers = {SECRET_HEADER: secret} if secret is not None else {}
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    response = await client.post("/telegram/webhook", content=content, headers=headers)
    return response.status_code


async def count(harbour: Harbour, model: type, *where: object) -> int:
    async with UnitOfWork(harbour.db, harbour.cipher) as uow:
        stmt = select(func.count()).select_from(model).where(*where)
        return int((await uow.session.execute(stmt)).scalar_one())


async def test_secret_checked_and_bad_bodies_refused(harbour: Harbour, fake: FakeTelegram) -> None:
    update = fake.updates.text(CHAT, "hello")
    async with http_client(harbour, max_body=2048) as client:
        missing = await post(client, update, secret=None)
        wrong = await post(client, update, secret="not-the-secret")
        almost = await post(client, update, secret=SECRET[:-1])
        malformed = await post(client, b"{not json")
        not_utf8 = await post(client, b"\xff\xfe{}")
        array = await post(client, [update])
        no_id = await post(client, {"message": update["message"]})
        oversized = await post(client, {**update, "padding": "x" * 5000})
        wrong_method = await client.get("/telegram/webhook")
    assert (missing, wrong, almost) == (403, 403, 403)
    assert (malformed, not_utf8, array, no_id) == (400, 400, 400, 400)
    assert oversized == 413
    assert wrong_method.status_code == 405
    assert await count(harbour, InboxItem) == 0  # nothing refused was stored


async def test_same_update_concurrently_late_and_out_of_order_is_answered_once(
    harbour: Harbour, fake: FakeTelegram
) -> None:
    first = fake.updates.text(CHAT, "/start")
    second = fake.updates.text(CHAT, "hello again")
    async with http_client(harbour) as client:
        statuses = await asyncio.gather(*(post(client, second) for _ in range(5)))
        statuses += await asyncio.gather(*(post(client, first) for _ in range(5)))
        await harbour.drain()
        replies = len(texts_to(fake, CHAT))
        late = [await post(client, first), await post(client, second)]  # after processing
        await harbour.drain()
    assert statuses == [200] * 10 and late == [200, 200]
    assert replies >= 1 and len(texts_to(fake, CHAT)) == replies
    assert await count(harbour, InboxItem) == 2
    assert await count(harbour, Message, Message.direction == "in") == 2


async def test_database_down_answers_503_and_telegram_retries(
    harbour: Harbour, fake: FakeTelegram
) -> None:
    update = fake.updates.text(CHAT, "please do not lose me")
    real_db = harbour.conversations.db
    dead = open_database(DEAD_DATABASE)
    harbour.conversations.db = dead
    try:
        async with http_client(harbour) as client:
            down = await post(client, update)
            harbour.conversations.db = real_db
            back = await post(client, update)  # Telegram's retry
            again = await post(client, update)
    finally:
        harbour.conversations.db = real_db
        await dead.close()
    await harbour.drain()
    assert (down, back, again) == (503, 200, 200)
    assert await count(harbour, InboxItem) == 1
    assert texts_to(fake, CHAT)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_registered_webhook_receives_real_deliveries(
    settings: Settings, fake: FakeTelegram
) -> None:
    """Over real HTTP: start() registers the webhook with the secret, the fake delivers as
    Telegram does (stopping at a non-2xx answer), and the survivor gets an answer."""
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    harbour, channel = await start_harbour(settings, fake, mode="webhook", secret=SECRET)
    channel.public_url = public
    routes = channel.web_routes(harbour.inbound)
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(harbour.db, routes), host="127.0.0.1", port=port, log_config=None,
            lifespan="off",
        )
    )  # fmt: skip
    serving = asyncio.create_task(server.serve())
    try:
        await add_telegram_staff(harbour)
        await harbour.start_background()
        await channel.start(harbour.inbound)
        await wait_for(lambda: fake.webhook is not None and server.started)
        assert fake.webhook is not None and fake.webhook.secret_token == SECRET
        assert fake.webhook.url == public + "/telegram/webhook"
        fake.push_update(fake.updates.text(CHAT, "/start"))
        fake.push_update(fake.updates.text(CHAT, "/start"))
        assert await fake.deliver_to_webhook() == [200, 200]
        await wait_for(lambda: len(texts_to(fake, CHAT)) >= 1)
        assert fake.pending_updates == []
    finally:
        server.should_exit = True
        await serving
        await stop_harbour(harbour, channel)
