"""Key rotation: interrupted halfway and resumed, nothing lost at any point, the old key
retired only when nothing uses it, and a wrong or missing key refused before anything moves."""

from __future__ import annotations

import secrets
from datetime import timedelta
from pathlib import Path

import pytest

from bot.bootstrap import Harbour
from bot.cli import main as cli
from bot.privacy.key_rotation import Interrupted, read_keys, rotate, unregistered_columns
from bot.settings import Settings
from bot.store.database import KeyRefused, open_store
from bot.store.uow import UnitOfWork
from tests.harness import add_advocate, enrol, onboard, say, start
from tests.security.database_scan import readable_dump

CANARY = "canary-rotate-m3v8"
ADDRESS = "+447700900555"


def with_key_file(settings: Settings, path: Path) -> Settings:
    return settings.model_copy(update={"secret_key": None, "secret_key_file": path})


async def traffic(harbour: Harbour) -> str:
    advocate = await add_advocate(harbour)
    await enrol(harbour, ADDRESS, advocate)
    await onboard(harbour, ADDRESS)
    for n in range(6):
        await say(harbour, ADDRESS, f"message {n} about my housing {CANARY}")
    async with UnitOfWork(harbour.db, harbour.cipher) as uow:  # an unused invitation
        survivor = await uow.people.new_survivor(harbour.clock.now(), status="invited")
        return await uow.people.issue_code(survivor, harbour.clock.now(), timedelta(hours=72))


async def snapshot(settings: Settings) -> list[str]:
    db, cipher = await open_store(settings)
    try:
        # Only keyed hashes (re-hashed) and the rotation's own bookkeeping may change.
        skip = frozenset({"key_rotation_progress"})
        return sorted((await readable_dump(db, cipher, skip, hashes=False)).splitlines())
    finally:
        await db.close()


def test_every_encrypted_column_is_registered() -> None:
    assert unregistered_columns() == []


async def test_rotation_interrupted_then_resumed_loses_nothing(
    settings: Settings, tmp_path: Path
) -> None:
    key_path = tmp_path / "harbour.key"
    old_key = secrets.token_urlsafe(48)
    key_path.write_text(old_key + "\n")
    key_path.chmod(0o600)
    keyed = with_key_file(settings, key_path)
    harbour, _sent = await start(keyed)
    try:
        code = await traffic(harbour)
        now = harbour.clock.now()
    finally:
        await harbour.close()
    before = await snapshot(keyed)
    assert any(CANARY in line for line in before)

    db, _ = await open_store(keyed)
    try:
        with pytest.raises(Interrupted):
            await rotate(db, key_path, now, batch=2, stop_after_batches=3)
    finally:
        await db.close()
    keys = read_keys(key_path)
    assert len(keys) == 2 and keys[1] == old_key  # the new key on top, the old one kept
    assert key_path.stat().st_mode & 0o777 == 0o600
    assert await snapshot(keyed) == before  # halfway: everything still readable
    db, cipher = await open_store(keyed)
    try:  # and still found: lookups try every key in the ring
        async with UnitOfWork(db, cipher) as uow:
            assert await uow.people.identity("local", ADDRESS) is not None
        report = await rotate(db, key_path, now, batch=2)  # resumed
        assert not report.started and report.still_old == 0
        assert report.waiting_codes == 1 and report.retired == 0  # the invitation needs it
        async with UnitOfWork(db, cipher) as uow:  # the old code still works, once
            assert await uow.people.redeem_code(code, now) is not None
        before = await snapshot(keyed)  # the code is used now: that is the only change
        report = await rotate(db, key_path, now)
        assert report.retired == 1
    finally:
        await db.close()
    assert read_keys(key_path) == [keys[0]]  # only the new key is left
    assert await snapshot(keyed) == before  # every value readable with the new key alone

    old_only = tmp_path / "old.key"
    old_only.write_text(old_key + "\n")
    old_only.chmod(0o600)
    with pytest.raises(KeyRefused):
        await open_store(with_key_file(settings, old_only))


async def test_keys_rotate_refuses_a_wrong_or_missing_key(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key_path = tmp_path / "harbour.key"
    key_path.write_text(secrets.token_urlsafe(48) + "\n")
    key_path.chmod(0o600)
    keyed = with_key_file(settings, key_path)
    harbour, _sent = await start(keyed)
    try:
        await traffic(harbour)
    finally:
        await harbour.close()
    before = await snapshot(keyed)
    wrong = tmp_path / "wrong.key"
    wrong.write_text(secrets.token_urlsafe(48) + "\n")
    wrong.chmod(0o600)
    monkeypatch.setenv("HARBOUR_DATABASE_URL", settings.async_database_url)
    monkeypatch.setenv("HARBOUR_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("HARBOUR_SECRET_KEY_FILE", str(wrong))
    monkeypatch.delenv("HARBOUR_SECRET_KEY", raising=False)
    assert await _cli(["keys", "rotate"]) == 3
    assert len(read_keys(wrong)) == 1  # no key was added to a file that cannot read the data
    monkeypatch.setenv("HARBOUR_SECRET_KEY_FILE", str(tmp_path / "missing.key"))
    assert await _cli(["keys", "rotate"]) == 2
    assert await snapshot(keyed) == before


async def _cli(argv: list[str]) -> int:
    import asyncio

    return await asyncio.to_thread(cli.main, argv)
