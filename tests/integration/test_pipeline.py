"""Inbound to outbound through the real services, engine and database (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
from datetime import timedelta

from sqlalchemy import func, select

from bot.ports import OutboundMessage, SendResult
from bot.settings import Settings
from bot.store.models import AuditEvent, Identity, InboxItem, Message, OutboxItem
from bot.store.uow import UnitOfWork
from tests.harness import add_advocate, enrol, say, start


async def count(harbour: object, model: type, *where: object) -> int:
    async with UnitOfWork(harbour.db, harbour.cipher) as uow:  # type: ignore[attr-defined]
        stmt = select(func.count()).select_from(model).where(*where)
        return int((await uow.session.execute(stmt)).scalar_one())


async def test_a_message_gets_exactly_one_reply_and_is_stored_encrypted(settings: Settings) -> None:
    harbour, sent = await start(settings)
    try:
        advocate = await add_advocate(harbour)
        await enrol(harbour, "s1", advocate)
        assert await say(harbour, "s1", "menu", provider_id="p-1")
        replies = sent.to("s1")
        assert len(replies) >= 1 and all(r.text for r in replies)
        # the same delivery again: stored once, answered once
        assert not await say(harbour, "s1", "menu", provider_id="p-1")
        assert len(sent.to("s1")) == len(replies)
        assert await count(harbour, InboxItem) == 1
        assert await count(harbour, Message, Message.direction == "in") == 1
        assert await count(harbour, OutboxItem, OutboxItem.status != "sent") == 0
    finally:
        await harbour.close()


async def test_concurrent_duplicate_deliveries_leave_one_message(settings: Settings) -> None:
    harbour, sent = await start(settings)
    try:
        await enrol(harbour, "s1", await add_advocate(harbour))
        payload = {"from": "s1", "text": "menu"}
        results = await asyncio.gather(
            *(harbour.inbound.accept("local", "same-id", payload) for _ in range(6))
        )
        await harbour.drain()
        assert results.count(True) == 1
        first_batch = len(sent.to("s1"))
        assert first_batch >= 1
        assert await count(harbour, Message, Message.direction == "in") == 1
    finally:
        await harbour.close()


async def test_urgent_message_reaches_the_advocate_ahead_of_a_backlog(settings: Settings) -> None:
    harbour, sent = await start(settings)
    try:
        advocate = await add_advocate(harbour)
        await enrol(harbour, "s1", advocate)
        async with UnitOfWork(harbour.db, harbour.cipher) as uow:  # 300 background sends queued
            identity = await uow.people.identity("local", "s1")
            assert identity is not None
            for n in range(300):
                uow.outbox.add(
                    channel="local",
                    identity_id=identity.id,
                    now=harbour.clock.now(),
                    payload={"text": f"reminder {n}"},
                    priority=0,
                )
        await harbour.inbound.accept(
            "local", "urgent-1", {"from": "s1", "text": "he is here, help"}
        )
        await harbour.inbound.drain()
        await harbour.sender.send_due(limit=3)  # only the first few go out
        first = sent.sent[:3]
        assert any(m.kind == "escalation" and m.address == "advocate:amira" for m in first)
        assert all(not m.text.startswith("reminder") for m in first)
        assert await count(harbour, AuditEvent, AuditEvent.action == "escalation.raised") == 1
    finally:
        await harbour.close()


async def test_unknown_contact_is_welcomed_and_staff_told(settings: Settings) -> None:
    harbour, sent = await start(settings)
    try:
        await add_advocate(harbour, "duty1", role="duty")
        await say(harbour, "stranger", "hello?")
        assert sent.to("stranger"), "an unknown contact is never ignored"
        assert sent.kinds("staff:duty1") == ["alert"]
        assert "stranger" not in sent.to("staff:duty1")[0].text
    finally:
        await harbour.close()


async def test_nobody_to_tell_is_audited_not_dropped(settings: Settings) -> None:
    harbour, sent = await start(settings)
    try:
        await say(harbour, "stranger", "hello?")
        assert sent.to("stranger")
        assert await count(harbour, AuditEvent, AuditEvent.action == "staff_unreachable") >= 1
    finally:
        await harbour.close()


async def test_kill_after_store_loses_nothing(settings: Settings) -> None:
    """A separate process stores a message, then is killed with SIGKILL before processing.
    A new process picks it up and replies exactly once."""
    harbour, sent = await start(settings)
    await enrol(harbour, "s1", await add_advocate(harbour))
    await harbour.close()
    script = textwrap.dedent(
        """
        import asyncio, os, signal
        from bot.settings import load_settings
        from tests.harness import start

        async def main():
            harbour, _ = await start(load_settings())
            await harbour.inbound.accept("local", "before-kill", {"from": "s1", "text": "menu"})
            os.kill(os.getpid(), signal.SIGKILL)  # after storing, before processing

        asyncio.run(main())
        """
    )
    assert settings.secret_key is not None
    env = {
        **os.environ,
        "HARBOUR_DATABASE_URL": settings.async_database_url,
        "HARBOUR_SECRET_KEY": settings.secret_key.get_secret_value(),
        "HARBOUR_DATA_DIR": str(settings.data_dir),
    }
    done = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-c", script], capture_output=True, timeout=60, env=env
    )
    assert done.returncode == -9, done.stderr.decode()[-500:]

    harbour, sent = await start(settings)
    try:
        assert await count(harbour, InboxItem, InboxItem.processed_at.is_(None)) == 1
        assert await harbour.inbound.recover() == 1
        await harbour.drain()
        replies = len(sent.to("s1"))
        assert replies >= 1
        assert await harbour.inbound.recover() == 0  # a second recovery finds nothing
        await harbour.drain()
        assert len(sent.to("s1")) == replies
    finally:
        await harbour.close()


async def test_send_interrupted_before_recording_is_sent_after_the_lease(
    settings: Settings,
) -> None:
    harbour, sent = await start(settings)
    try:
        await enrol(harbour, "s1", await add_advocate(harbour))
        await harbour.inbound.accept("local", "m1", {"from": "s1", "text": "menu"})
        await harbour.inbound.drain()
        claimed = await harbour.sender._claim(100, None)  # a worker claims, then dies
        assert claimed and not sent.sent
        assert await harbour.sender.send_due() == 0  # still leased to the dead worker
        async with UnitOfWork(harbour.db, harbour.cipher) as uow:
            assert await uow.outbox.release_expired_claims(
                harbour.clock.now() + timedelta(minutes=3)
            ) == len(claimed)
        await harbour.drain()
        assert len(sent.to("s1")) == len(claimed)
    finally:
        await harbour.close()


class Flaky:
    """A channel whose sends fail as scripted: retry first, then the given permanent result."""

    name = "local"
    render_as = "telegram"

    def __init__(self, results: list[SendResult]) -> None:
        self.results = results
        self.sent: list[OutboundMessage] = []
        from bot.channels.local import LocalChannel

        self._local = LocalChannel(self.sent.append)

    def parse(self, payload):  # type: ignore[no-untyped-def]
        return self._local.parse(payload)

    async def send(self, message: OutboundMessage) -> SendResult:
        if message.address.startswith("s") and self.results:
            return self.results.pop(0)
        self.sent.append(message)
        return SendResult(status="sent", provider_id="ok")


async def test_retry_then_blocked_raises_contact_loss(settings: Settings) -> None:
    channel = Flaky(
        [
            SendResult(status="retry", error="http_503"),
            SendResult(status="failed", error="forbidden", permanent="blocked"),
        ]
    )
    harbour, _ = await start(settings, channels={"local": channel})
    try:
        await enrol(harbour, "s1", await add_advocate(harbour))
        await harbour.inbound.accept("local", "m1", {"from": "s1", "text": "menu"})
        await harbour.drain()
        async with UnitOfWork(harbour.db, harbour.cipher) as uow:
            row = (
                (
                    await uow.session.execute(
                        select(OutboxItem).where(
                            OutboxItem.identity_id == Identity.id, Identity.survivor_id.is_not(None)
                        )
                    )
                )
                .scalars()
                .first()
            )
            assert row is not None and row.status == "pending" and row.attempts == 1
            assert row.last_error == "http_503"
            row.next_attempt_at = harbour.clock.now()  # skip the backoff wait
        await harbour.drain()
        async with UnitOfWork(harbour.db, harbour.cipher) as uow:
            identity = await uow.people.identity("local", "s1")
            assert identity is not None and identity.status == "blocked"
        alerts = [m for m in channel.sent if m.address == "advocate:amira" and m.kind == "alert"]
        assert len(alerts) == 1 and "s1" not in alerts[0].text
    finally:
        await harbour.close()


async def test_processing_failure_keeps_the_message_for_a_retry(settings: Settings) -> None:
    class Broken(Flaky):
        def parse(self, payload):  # type: ignore[no-untyped-def]
            raise RuntimeError("secret body text in an exception")

    harbour, _ = await start(settings, channels={"local": Broken([])})
    try:
        await harbour.inbound.accept("local", "m1", {"from": "s1", "text": "hello"})
        await harbour.drain()
        async with UnitOfWork(harbour.db, harbour.cipher) as uow:
            item = (await uow.session.execute(select(InboxItem))).scalar_one()
            assert item.processed_at is None and item.attempts == 1
            assert item.error == "RuntimeError"  # the class name, never the message
        assert await harbour.inbound.recover() == 1
    finally:
        await harbour.close()


async def test_no_second_alert_when_a_stopped_channel_refuses(settings: Settings) -> None:
    """STOP already told the advocate; the carrier then refusing our STOP confirmation
    (Twilio 21610) must not raise a second, confusing alert."""
    channel = Flaky([SendResult(status="failed", error="21610", permanent="opted_out")])
    harbour, _ = await start(settings, channels={"local": channel})
    try:
        await enrol(harbour, "s1", await add_advocate(harbour))
        async with UnitOfWork(harbour.db, harbour.cipher) as uow:
            identity = await uow.people.identity("local", "s1")
            assert identity is not None
            identity.status = "stopped"
            uow.outbox.add(
                channel="local",
                identity_id=identity.id,
                now=harbour.clock.now(),
                payload={"text": "You will not get more messages."},
                priority=10,
            )
        await harbour.drain()
        assert not [m for m in channel.sent if m.address == "advocate:amira"]
        async with UnitOfWork(harbour.db, harbour.cipher) as uow:
            identity = await uow.people.identity("local", "s1")
            assert identity is not None and identity.status == "stopped"
    finally:
        await harbour.close()
