"""Whole processes: killed after storing an update and before replying (the reply comes after
the restart, once), and `harbour run` with HARBOUR_TELEGRAM_TOKEN and HARBOUR_TELEGRAM_API_URL
talking to a Bot API server (the fake) on loopback."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.settings import Settings
from bot.store.models import InboxItem
from bot.store.uow import UnitOfWork
from tests.fakes.telegram_api import DEFAULT_TOKEN, FakeTelegram
from tests.integration.telegram_harness import (
    add_telegram_staff,
    start_harbour,
    stop_harbour,
    texts_to,
    wait_for,
)

CHAT = 5_550_501


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(per_chat_limit=1000) as server:
        yield server


def harbour_env(settings: Settings) -> dict[str, str]:
    assert settings.secret_key is not None
    clean = {k: v for k, v in os.environ.items() if not k.startswith("HARBOUR_")}
    return {
        **clean,
        "HARBOUR_DATABASE_URL": settings.async_database_url,
        "HARBOUR_SECRET_KEY": settings.secret_key.get_secret_value(),
        "HARBOUR_DATA_DIR": str(settings.data_dir),
        "HARBOUR_CONFIG": str(Path(settings.data_dir) / "none.toml"),
    }


async def test_killed_after_storing_replies_once_after_restart(
    settings: Settings, fake: FakeTelegram
) -> None:
    harbour, channel = await start_harbour(settings, fake)
    await add_telegram_staff(harbour)
    await stop_harbour(harbour, channel)
    script = textwrap.dedent(
        """
        import asyncio, os, signal, sys
        from bot.channels.telegram.channel import TelegramChannel, build_bot
        from bot.bootstrap import build
        from bot.settings import load_settings

        async def main():
            channel = TelegramChannel(build_bot(sys.argv[1], sys.argv[2]), poll_timeout=1)
            harbour = await build(load_settings(), {"telegram": channel}, pacers={})
            await channel.start(harbour.inbound)  # polls and stores; nothing processes
            while channel.poller is None or channel.poller.stored < 1:
                await asyncio.sleep(0.005)
            os.kill(os.getpid(), signal.SIGKILL)  # after storing, before replying

        asyncio.run(main())
        """
    )
    fake.push_update(fake.updates.text(CHAT, "/start"))
    done = await asyncio.create_subprocess_exec(
        sys.executable, "-c", script, DEFAULT_TOKEN, fake.url,
        env=harbour_env(settings), stderr=subprocess.PIPE,
    )  # fmt: skip
    _, stderr = await asyncio.wait_for(done.communicate(), timeout=60)
    assert done.returncode == -signal.SIGKILL, stderr.decode()[-800:]
    assert texts_to(fake, CHAT) == []  # killed before any reply

    harbour, channel = await start_harbour(settings, fake)
    try:
        await harbour.start_background()  # recovers the stored update
        await channel.start(harbour.inbound)  # and Telegram may deliver it again
        await wait_for(lambda: len(texts_to(fake, CHAT)) >= 1)
        await wait_for(lambda: fake.pending_updates == [])
        await asyncio.sleep(1.0)  # time for a duplicate reply to show up, if there were one
        assert texts_to(fake, CHAT) == [harbour.bundle.catalogue.text("en", "language.choose")]
        async with UnitOfWork(harbour.db, harbour.cipher) as uow:
            stmt = select(func.count()).select_from(InboxItem)
            assert (await uow.session.execute(stmt)).scalar_one() == 1
    finally:
        await stop_harbour(harbour, channel)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_harbour_run_talks_to_the_bot_api_it_is_pointed_at(
    settings: Settings, fake: FakeTelegram
) -> None:
    env = {
        **harbour_env(settings),
        "HARBOUR_TELEGRAM_TOKEN": DEFAULT_TOKEN,
        "HARBOUR_TELEGRAM_API_URL": fake.url,
        "HARBOUR_HTTP_PORT": str(free_port()),
        "HARBOUR_CONSOLE_PORT": "0",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run",
        env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        await wait_for(lambda: bool(fake.calls_to("getUpdates")), within=60)
        fake.push_update(fake.updates.text(CHAT, "/start"))
        await wait_for(lambda: len(texts_to(fake, CHAT)) >= 1, within=30)
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    logs = (stdout + stderr).decode()
    assert process.returncode == 0, logs[-1500:]
    assert texts_to(fake, CHAT)[0].startswith("🌐")
    assert DEFAULT_TOKEN not in logs and str(CHAT) not in logs
    assert fake.calls_to("deleteWebhook")  # polling clears a webhook left behind
