"""Rows written together (bot/store/pending.py) and SQLite statements on the loop's thread
(bot/store/sqlite_loop.py): the guarantees they must keep."""

from __future__ import annotations

import asyncio
import secrets
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import event, func, select, text
from sqlalchemy.exc import IntegrityError

from bot.settings import Settings, load_settings
from bot.store.database import Database, open_store
from bot.store.models import AuditEvent, Message, OutboxItem
from bot.store.uow import UnitOfWork

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


@contextmanager
def statements(db: Database) -> Iterator[list[str]]:
    """The SQL statements sent to the database inside the block (an executemany is one)."""
    seen: list[str] = []

    def record(*args: Any) -> None:
        seen.append(" ".join(str(args[2]).split()))

    event.listen(db.engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", record)


async def _survivor_with_identity(db: Database, cipher: Any) -> tuple[int, int]:
    async with UnitOfWork(db, cipher) as uow:
        survivor = await uow.people.new_survivor(NOW, status="active", language="en")
        identity = await uow.people.add_identity("local", "s1", NOW, survivor=survivor)
        return survivor.id, identity.id


async def test_history_rows_are_written_in_one_statement_and_seen_by_later_queries(
    settings: Settings,
) -> None:
    db, cipher = await open_store(settings)
    try:
        survivor, _ = await _survivor_with_identity(db, cipher)
        with statements(db) as sent:
            async with UnitOfWork(db, cipher) as uow:
                for n in range(20):
                    uow.messages.add(
                        survivor_id=survivor, direction="in", channel="local", body=f"m{n}", now=NOW
                    )
                # A query in the same transaction sees every row queued before it.
                count = select(func.count()).select_from(Message)
                assert (await uow.session.execute(count)).scalar_one() == 20
        inserts = [s for s in sent if s.startswith("INSERT INTO messages")]
        assert len(inserts) == 1, inserts
        async with UnitOfWork(db, cipher) as uow:
            history = await uow.messages.recent(survivor, limit=50)
        assert [body for _, body in history] == [f"m{n}" for n in range(20)]  # order kept
    finally:
        await db.close()


async def test_queued_rows_are_dropped_with_a_rollback(settings: Settings) -> None:
    db, cipher = await open_store(settings)
    try:
        survivor, _ = await _survivor_with_identity(db, cipher)
        with pytest.raises(RuntimeError):
            async with UnitOfWork(db, cipher) as uow:
                uow.messages.add(
                    survivor_id=survivor, direction="in", channel="local", body="x", now=NOW
                )
                uow.audit.record("system", "test.event", NOW, survivor_id=survivor)
                raise RuntimeError("the turn failed")
        async with UnitOfWork(db, cipher) as uow:
            messages = select(func.count()).select_from(Message)
            events = select(func.count()).where(AuditEvent.action == "test.event")
            assert (await uow.session.execute(messages)).scalar_one() == 0
            assert (await uow.session.execute(events)).scalar_one() == 0
    finally:
        await db.close()


async def test_outbox_rows_keep_the_order_they_were_queued_and_added_in(
    settings: Settings,
) -> None:
    """The sender goes by priority and then id: one reply queued, one added as an object,
    one queued again, with a query in between, must get ids in that order."""
    db, cipher = await open_store(settings)
    try:
        survivor, identity = await _survivor_with_identity(db, cipher)
        common = {"channel": "local", "identity_id": identity, "now": NOW, "survivor_id": survivor}
        async with UnitOfWork(db, cipher) as uow:
            uow.outbox.queue(payload={"text": "first"}, **common)
            uow.outbox.add(payload={"text": "second"}, **common)
            uow.outbox.queue(payload={"text": "third"}, **common)
            await uow.session.execute(text("SELECT 1"))
            uow.outbox.queue(payload={"text": "fourth"}, **common)
        async with UnitOfWork(db, cipher) as uow:
            rows = (await uow.session.execute(select(OutboxItem).order_by(OutboxItem.id))).scalars()
            assert [uow.outbox.payload(row)["text"] for row in rows] == [
                "first",
                "second",
                "third",
                "fourth",
            ]
    finally:
        await db.close()


async def test_erasure_in_the_same_transaction_removes_queued_history(settings: Settings) -> None:
    """A delete issued after rows were queued must see them: nothing outlives an erasure."""
    db, cipher = await open_store(settings)
    try:
        survivor, _ = await _survivor_with_identity(db, cipher)
        async with UnitOfWork(db, cipher) as uow:
            uow.messages.add(
                survivor_id=survivor, direction="in", channel="local", body="secret", now=NOW
            )
            await uow.session.execute(
                Message.__table__.delete().where(Message.survivor_id == survivor)
            )
        async with UnitOfWork(db, cipher) as uow:
            assert await uow.messages.recent(survivor) == []
    finally:
        await db.close()


# -- SQLite: statements on the loop's thread, lock waits off it ----------------------------------


def _sqlite_settings(tmp_path: Path) -> Settings:
    return load_settings(
        database_url=f"sqlite:///{tmp_path / 'h.db'}",
        data_dir=tmp_path,
        secret_key=SecretStr(secrets.token_urlsafe(48)),
    )


async def test_sqlite_statements_run_on_the_event_loops_thread(tmp_path: Path) -> None:
    db, _ = await open_store(_sqlite_settings(tmp_path))
    threads: list[int] = []

    def record(*_args: Any) -> None:
        threads.append(threading.get_ident())

    try:
        async with db.engine.connect() as conn:
            raw = await conn.get_raw_connection()
            await conn.run_sync(
                lambda _: raw.dbapi_connection.create_function(  # type: ignore[union-attr]
                    "which_thread", 0, lambda: record() or 1
                )
            )
            await conn.execute(text("SELECT which_thread()"))
        assert threads == [threading.get_ident()]
    finally:
        await db.close()


async def test_a_lock_held_by_another_process_is_waited_for_off_the_event_loop(
    tmp_path: Path,
) -> None:
    """Another connection (as `harbour purge` in its own process would) holds the write lock
    for 0.5 s. Our write waits for it and then succeeds, and the event loop keeps running
    meanwhile: webhooks would still be answered."""
    settings = _sqlite_settings(tmp_path)
    db, cipher = await open_store(settings)
    other = sqlite3.connect(tmp_path / "h.db", check_same_thread=False)
    try:
        other.execute("BEGIN IMMEDIATE")
        ticks = 0

        async def ticking() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        ticker = asyncio.create_task(ticking())
        asyncio.get_running_loop().call_later(0.5, other.rollback)
        async with UnitOfWork(db, cipher) as uow:
            stored = await uow.inbox.store("local", "p1", {"from": "s1", "text": "hi"}, NOW)
        ticker.cancel()
        assert stored is not None
        assert ticks >= 20  # the loop ran on while the write waited (~50 ticks in 0.5 s)
        async with UnitOfWork(db, cipher) as uow:
            assert await uow.inbox.unprocessed() == [stored]
    finally:
        other.close()
        await db.close()


async def test_sqlite_errors_other_than_busy_still_raise(tmp_path: Path) -> None:
    db, cipher = await open_store(_sqlite_settings(tmp_path))
    try:
        with pytest.raises(IntegrityError):
            async with UnitOfWork(db, cipher) as uow:
                uow.outbox.queue(channel="local", identity_id=999_999, payload={}, now=NOW)
    finally:
        await db.close()
