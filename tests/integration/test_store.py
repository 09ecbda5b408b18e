"""The durable core on SQLite and PostgreSQL: migrations, key check, inbox, outbox."""

from __future__ import annotations

import asyncio
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import inspect, text

from bot.settings import ConfigError, Settings, load_settings
from bot.store.database import KeyRefused, open_store, upgrade
from bot.store.uow import UnitOfWork
from tests.conftest import all_tables

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


async def test_migrations_create_every_table(settings: Settings) -> None:
    db, _cipher = await open_store(settings)
    try:
        async with db.engine.connect() as conn:
            names = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
        assert set(all_tables()) <= names
        assert "alembic_version" in names
        await upgrade(db)  # idempotent
    finally:
        await db.close()


async def test_sqlite_runs_in_wal_mode(tmp_path: Path) -> None:
    settings = load_settings(
        database_url=f"sqlite:///{tmp_path / 'h.db'}",
        data_dir=tmp_path,
        secret_key=SecretStr(secrets.token_urlsafe(48)),
    )
    db, _ = await open_store(settings)
    try:
        async with db.engine.connect() as conn:
            mode = (await conn.execute(text("PRAGMA journal_mode"))).scalar_one()
        assert mode == "wal"
    finally:
        await db.close()


async def test_wrong_key_is_refused_and_data_untouched(settings: Settings) -> None:
    db, cipher = await open_store(settings)
    async with UnitOfWork(db, cipher) as uow:
        await uow.inbox.store("local", "p1", {"from": "s1", "text": "kept"}, NOW)
    await db.close()

    wrong = settings.model_copy(update={"secret_key": SecretStr(secrets.token_urlsafe(48))})
    with pytest.raises(KeyRefused, match="does not match"):
        await open_store(wrong)

    db, cipher = await open_store(settings)  # the right key still reads everything
    try:
        async with UnitOfWork(db, cipher) as uow:
            (inbox_id,) = await uow.inbox.unprocessed()
            item = await uow.inbox.claim(inbox_id, NOW)
            assert item is not None
            assert uow.inbox.payload(item)["text"] == "kept"
    finally:
        await db.close()


async def test_local_key_is_never_created_over_existing_data(settings: Settings) -> None:
    local = settings.model_copy(update={"secret_key": None})
    db, _ = await open_store(local)  # creates var/secret.key, mode 0600
    await db.close()
    key_file = settings.data_dir / "secret.key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    key_file.unlink()
    with pytest.raises(ConfigError, match="no key was found"):
        await open_store(local)
    assert not key_file.exists()


async def test_inbox_deduplicates_concurrent_deliveries(settings: Settings) -> None:
    db, cipher = await open_store(settings)
    try:

        async def deliver() -> int | None:
            async with UnitOfWork(db, cipher) as uow:
                return await uow.inbox.store("telegram", "update-7", {"update_id": 7}, NOW)

        results = await asyncio.gather(*(deliver() for _ in range(8)))
        assert sum(r is not None for r in results) == 1
        async with UnitOfWork(db, cipher) as uow:
            assert len(await uow.inbox.unprocessed()) == 1
            # the same provider id on another channel is a different message
            assert await uow.inbox.store("sms", "update-7", {}, NOW) is not None
    finally:
        await db.close()


async def test_inbox_claim_is_exclusive(settings: Settings) -> None:
    db, cipher = await open_store(settings)
    try:
        async with UnitOfWork(db, cipher) as uow:
            inbox_id = await uow.inbox.store("local", "x", {}, NOW)
        assert inbox_id is not None

        async def claim() -> bool:
            async with UnitOfWork(db, cipher) as uow:
                return await uow.inbox.claim(inbox_id, NOW) is not None

        assert sorted(await asyncio.gather(*(claim() for _ in range(5)))) == [False] * 4 + [True]
    finally:
        await db.close()


async def _queue_outbox(settings: Settings, count: int) -> tuple[object, object]:
    db, cipher = await open_store(settings)
    async with UnitOfWork(db, cipher) as uow:
        survivor = await uow.people.new_survivor(NOW, status="active")
        identity = await uow.people.add_identity("local", "s1", NOW, survivor=survivor)
        for n in range(count):
            uow.outbox.add(
                channel="local",
                identity_id=identity.id,
                payload={"text": f"m{n}"},
                now=NOW,
                priority=100 if n == count - 1 else 0,
            )
    return db, cipher


async def test_outbox_claims_urgent_first_and_each_row_once(settings: Settings) -> None:
    db, cipher = await _queue_outbox(settings, 60)
    try:
        async with UnitOfWork(db, cipher) as uow:
            first = await uow.outbox.claim_due(NOW, timedelta(minutes=1), 1, ["local"])
            assert uow.outbox.payload(first[0])["text"] == "m59"  # the urgent one jumps the queue

        async def worker() -> list[int]:
            got: list[int] = []
            while True:
                async with UnitOfWork(db, cipher) as uow:
                    batch = await uow.outbox.claim_due(NOW, timedelta(minutes=1), 7, ["local"])
                if not batch:
                    return got
                got.extend(item.id for item in batch)

        claimed = await asyncio.gather(worker(), worker(), worker())
        flat = [i for ids in claimed for i in ids]
        assert len(flat) == len(set(flat)) == 59
    finally:
        await db.close()


async def test_expired_claims_return_to_the_queue(settings: Settings) -> None:
    db, cipher = await _queue_outbox(settings, 1)
    try:
        async with UnitOfWork(db, cipher) as uow:
            assert len(await uow.outbox.claim_due(NOW, timedelta(seconds=30), 5, ["local"])) == 1
        async with UnitOfWork(db, cipher) as uow:
            assert await uow.outbox.release_expired_claims(NOW + timedelta(seconds=10)) == 0
            assert await uow.outbox.release_expired_claims(NOW + timedelta(seconds=31)) == 1
            assert len(await uow.outbox.claim_due(NOW, timedelta(seconds=30), 5, ["local"])) == 1
    finally:
        await db.close()


async def test_erased_case_codes_are_never_reused(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.store import people
    from bot.store.models import ErasureTombstone

    db, cipher = await open_store(settings)
    try:
        async with UnitOfWork(db, cipher) as uow:
            uow.session.add(ErasureTombstone(case_code="AAAAA", erased_on="2026-11-01"))
        codes = iter(["AAAAA", "BBBBB"])
        monkeypatch.setattr(people, "new_code", lambda _length: next(codes))
        async with UnitOfWork(db, cipher) as uow:
            survivor = await uow.people.new_survivor(NOW)
        assert survivor.case_code == "BBBBB"
    finally:
        await db.close()
