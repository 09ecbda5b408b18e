"""Files and keys: the database, its WAL and the local key are for this user alone, a key
file others can read is refused, and so is key material weaker than 256 bits."""

from __future__ import annotations

import secrets
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.settings import ConfigError, Settings, load_settings
from bot.store.database import open_store
from bot.store.key_checks import estimated_bits
from bot.store.uow import UnitOfWork


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def sqlite_settings(tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "data_dir": tmp_path / "var",
        "secret_key": SecretStr(secrets.token_urlsafe(48)),
    }
    values.update(overrides)
    return load_settings(**values)


async def test_the_database_and_its_wal_are_0600_in_a_0700_directory(tmp_path: Path) -> None:
    settings = sqlite_settings(tmp_path)
    db, cipher = await open_store(settings)
    try:
        async with UnitOfWork(db, cipher) as uow:
            uow.audit.record("test", "test.write", datetime.now(tz=UTC))
        var = tmp_path / "var"
        assert mode(var) == 0o700
        files = [p for p in var.iterdir() if p.name.startswith("harbour.db")]
        assert {p.name for p in files} >= {"harbour.db", "harbour.db-wal"}
        assert all(mode(p) == 0o600 for p in files), {p.name: oct(mode(p)) for p in files}
    finally:
        await db.close()


async def test_a_database_left_at_0644_is_made_private(tmp_path: Path) -> None:
    settings = sqlite_settings(tmp_path)
    db, _ = await open_store(settings)
    await db.close()
    database = tmp_path / "var" / "harbour.db"
    database.chmod(0o644)
    db, _ = await open_store(settings)
    await db.close()
    assert mode(database) == 0o600


async def test_the_local_key_is_0600_in_a_0700_directory(tmp_path: Path) -> None:
    settings = sqlite_settings(tmp_path, secret_key=None)
    db, _ = await open_store(settings)
    await db.close()
    assert mode(tmp_path / "var") == 0o700
    assert mode(tmp_path / "var" / "secret.key") == 0o600


@pytest.mark.parametrize("file_mode", [0o644, 0o640, 0o604])
async def test_a_key_file_others_can_read_is_refused(tmp_path: Path, file_mode: int) -> None:
    key = tmp_path / "harbour.key"
    key.write_text(secrets.token_urlsafe(48) + "\n")
    key.chmod(file_mode)
    settings = sqlite_settings(tmp_path, secret_key=None, secret_key_file=key)
    with pytest.raises(ConfigError, match="chmod 600"):
        await open_store(settings)
    key.chmod(0o600)
    db, _ = await open_store(settings)
    await db.close()


async def test_a_local_key_file_others_can_read_is_refused(tmp_path: Path) -> None:
    settings = sqlite_settings(tmp_path, secret_key=None)
    db, _ = await open_store(settings)
    await db.close()
    (tmp_path / "var" / "secret.key").chmod(0o644)
    with pytest.raises(ConfigError, match="can be read by other users"):
        await open_store(settings)


@pytest.mark.parametrize(
    "weak",
    [
        "a" * 43,  # 32 characters and more, no entropy at all
        "x" * 32,
        "0123456789abcdef" * 4,
        "abcdefghijklmnop" * 4,
        "correct horse battery staple and a few more words",
        secrets.token_hex(16),  # 128 bits
        secrets.token_urlsafe(24),  # 192 bits
    ],
)
async def test_key_material_weaker_than_256_bits_is_refused(tmp_path: Path, weak: str) -> None:
    assert estimated_bits(weak) < 256
    with pytest.raises(ConfigError, match="too weak"):
        await open_store(sqlite_settings(tmp_path, secret_key=SecretStr(weak)))


@pytest.mark.parametrize(
    "strong", [secrets.token_hex(32), secrets.token_urlsafe(32), secrets.token_urlsafe(48)]
)
def test_256_bit_keys_are_accepted(strong: str) -> None:
    assert estimated_bits(strong) >= 256
