"""Canary scans: no body, number, chat id or token in the logs or in a database dump."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.logs import setup_logging
from bot.ports import OutboundMessage, SendResult
from bot.settings import Settings
from bot.store.uow import UnitOfWork
from tests.conftest import all_tables
from tests.harness import add_advocate, enrol, say, start

CANARY_BODY = "canary-body-q7x3k9"
CANARY_PHONE = "+447700900461"
CANARY_CHAT_ID = "5550001234567"
CANARY_TOKEN = "987654321:AAcanaryTOKENcanaryTOKENcanary12345"


@pytest.fixture
def captured_logs() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    root = logging.getLogger()
    before = (root.level, list(root.handlers))
    setup_logging("DEBUG", secrets=[CANARY_TOKEN], stream=stream)
    yield stream
    root.setLevel(before[0])
    root.handlers[:] = before[1]


def _library_noise() -> None:
    """What the libraries we use really log at DEBUG and INFO, with content in it."""
    logging.getLogger("telegram.ext.Application").debug(
        "Processing update %s", {"message": {"text": CANARY_BODY, "chat": {"id": CANARY_CHAT_ID}}}
    )
    logging.getLogger("httpx").info(
        'HTTP Request: POST https://api.telegram.org/bot%s/sendMessage "HTTP/1.1 200 OK"',
        CANARY_TOKEN,
    )
    logging.getLogger("twilio.http_client").info(
        "-- BEGIN Twilio API Request -- To=%s", CANARY_PHONE
    )
    # A warning from a library is kept, but scrubbed.
    logging.getLogger("httpx").warning("retrying https://api.telegram.org/bot%s/x", CANARY_TOKEN)
    logging.getLogger("bot.test").warning("chat %s phone %s", CANARY_CHAT_ID, CANARY_PHONE)


class ExplodingChannel:
    """Fails sends with an exception that quotes content, as careless libraries do."""

    name = "local"
    render_as = "sms"

    def __init__(self) -> None:
        from bot.channels.local import LocalChannel

        self.local = LocalChannel(lambda m: None)

    def parse(self, payload):  # type: ignore[no-untyped-def]
        return self.local.parse(payload)

    async def send(self, message: OutboundMessage) -> SendResult:
        if message.address.startswith("advocate:"):
            raise ValueError(f"could not send {message.text} to {CANARY_PHONE}")
        return SendResult(status="sent", provider_id="x")


async def _drive_traffic(settings: Settings, channel: object | None = None) -> None:
    channels = {"local": channel} if channel is not None else None
    harbour, _sent = await start(settings, channels=channels)  # type: ignore[arg-type]
    try:
        await enrol(harbour, CANARY_PHONE, await add_advocate(harbour))
        for line in (
            f"hello {CANARY_BODY}",
            "menu",
            f"he is here {CANARY_BODY}",
            f"call me on {CANARY_PHONE} {CANARY_BODY}",
        ):
            await say(harbour, CANARY_PHONE, line)
        await say(harbour, CANARY_CHAT_ID, f"new person {CANARY_BODY}")  # an unknown contact
    finally:
        await harbour.close()


async def test_logs_carry_no_canary(settings: Settings, captured_logs: io.StringIO) -> None:
    await _drive_traffic(settings, ExplodingChannel())
    _library_noise()
    logged = captured_logs.getvalue()
    assert "retrying" in logged and "ValueError" in logged, "the scan must see real log lines"
    for canary in (CANARY_BODY, CANARY_PHONE, CANARY_CHAT_ID, CANARY_TOKEN, "447700900461"):
        assert canary not in logged


async def _dump(settings: Settings) -> bytes:
    url = settings.async_database_url
    if url.startswith("sqlite"):
        path = Path(url.split("///", 1)[1])
        files = [path, path.with_name(path.name + "-wal")]
        return b"".join(f.read_bytes() for f in files if f.exists())
    from bot.store.database import open_database

    db = open_database(url)
    chunks: list[str] = []
    try:
        async with db.engine.connect() as conn:
            for table in all_tables():
                rows = (await conn.execute(text(f'SELECT * FROM "{table}"'))).all()
                chunks.extend(repr(tuple(row)) for row in rows)
    finally:
        await db.close()
    return "\n".join(chunks).encode()


async def test_database_dump_carries_no_canary(settings: Settings) -> None:
    await _drive_traffic(settings)
    dump = await _dump(settings)
    assert len(dump) > 1000, "the dump must hold the stored traffic"
    for canary in (CANARY_BODY, CANARY_PHONE, "447700900461", CANARY_CHAT_ID):
        assert canary.encode() not in dump
        assert canary.encode("utf-16-le") not in dump


async def test_encrypted_content_is_still_readable_with_the_key(settings: Settings) -> None:
    await _drive_traffic(settings)
    harbour, _ = await start(settings)
    try:
        async with UnitOfWork(harbour.db, harbour.cipher) as uow:
            identity = await uow.people.identity("local", CANARY_PHONE)
            assert identity is not None and identity.survivor_id is not None
            history = await uow.messages.recent(identity.survivor_id, limit=50)
        assert any(CANARY_BODY in body for _m, body in history)
    finally:
        await harbour.close()
