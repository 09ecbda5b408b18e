"""The database engine, its SQLite pragmas, migrations, and the key check.

No engine is created at import time: `open_database()` is called by the composition root.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event, select
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from bot.settings import Settings
from bot.store.crypto import Cipher, KeyMismatch
from bot.store.keys import load_cipher
from bot.store.models import Meta

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
KEY_CHECK = "key_check"
_KEY_CHECK_PLAINTEXT = b"harbour key check v1"


class KeyRefused(Exception):
    """The configured key cannot read the data already stored. Nothing was changed."""


@dataclass
class Database:
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    async def close(self) -> None:
        await self.engine.dispose()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
    cursor.execute("PRAGMA synchronous=NORMAL")  # durable in WAL mode across process crashes
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def open_database(url: str, *, echo: bool = False) -> Database:
    kwargs: dict[str, Any] = {"echo": echo}
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
    else:
        kwargs.update(pool_size=10, max_overflow=10, pool_pre_ping=True)
    engine = create_async_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return Database(engine, async_sessionmaker(engine, expire_on_commit=False))


def _alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


async def upgrade(db: Database, revision: str = "heads") -> None:
    """Apply Alembic migrations on the given database (what `harbour db upgrade` runs)."""

    def run(connection: Connection) -> None:
        config = _alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    async with db.engine.begin() as conn:
        await conn.run_sync(run)


async def has_encrypted_data(db: Database) -> bool:
    async with db.sessions() as session:
        return (await session.get(Meta, KEY_CHECK)) is not None


async def verify_or_record_key(db: Database, cipher: Cipher) -> None:
    """Refuse a key that cannot read the stored key check; record one on a fresh database."""
    async with db.sessions() as session, session.begin():
        row = (
            await session.execute(select(Meta).where(Meta.key == KEY_CHECK))
        ).scalar_one_or_none()
        if row is None:
            session.add(Meta(key=KEY_CHECK, value=cipher.encrypt(_KEY_CHECK_PLAINTEXT, KEY_CHECK)))
            return
        try:
            ok = cipher.decrypt(row.value, KEY_CHECK) == _KEY_CHECK_PLAINTEXT
        except KeyMismatch:
            ok = False
        if not ok:
            raise KeyRefused(
                "the configured encryption key does not match the data in this database; "
                "refusing to start (nothing was changed). Set HARBOUR_SECRET_KEY or "
                "HARBOUR_SECRET_KEY_FILE to the key the data was written with."
            )


async def open_store(settings: Settings, *, migrate: bool = True) -> tuple[Database, Cipher]:
    """Open the database, apply migrations and check the key. Raises ConfigError/KeyRefused."""
    db = open_database(settings.async_database_url)
    try:
        if migrate:
            await upgrade(db)
        cipher = load_cipher(settings, database_has_data=await has_encrypted_data(db))
        await verify_or_record_key(db, cipher)
    except BaseException:
        await db.close()
        raise
    return db, cipher
