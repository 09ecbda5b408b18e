"""The database engine, its SQLite pragmas, migrations, and the key check.

No engine is created at import time: `open_database()` is called by the composition root.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event, make_url, select
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.util.concurrency import await_only, in_greenlet

from bot.settings import Settings
from bot.store import sqlite_loop
from bot.store.crypto import Cipher, KeyMismatch
from bot.store.files import private_sqlite_file
from bot.store.keys import load_cipher
from bot.store.models import Meta
from bot.store.sealing import seal_legacy_plaintext

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
KEY_CHECK = "key_check"
_KEY_CHECK_PLAINTEXT = b"harbour key check v1"


class KeyRefused(Exception):
    """The configured key cannot read the data already stored. Nothing was changed."""


@dataclass
class Database:
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    # SQLite has one writer at a time (see _take_write_turns).
    write_turn: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)
    # The channels this process can send on (set by bootstrap); None: not known (a CLI run).
    # Staff are reached only on these: a row for a channel nobody sends on would wait forever.
    channels: frozenset[str] | None = None

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
    # Zero: a statement meeting another process's lock is handed off the event loop to wait
    # (sqlite_loop.py); the loop itself never waits in SQLite's busy handler.
    cursor.execute("PRAGMA busy_timeout=0")
    cursor.close()


# How long a transaction waits for its write turn before going ahead anyway, to meet SQLite's
# own lock as it would without turns: a safety valve, never reached in normal running.
WRITE_TURN_WAIT = 5.0
_TURN = "harbour_write_turn"


def _take_write_turns(db: Database) -> None:
    """SQLite: transactions in this process take turns to write, on an asyncio lock.

    Without this they meet in SQLite's busy handler, which polls in sleeps of up to 100 ms:
    under load, a webhook store waiting behind a batch being processed waited for seconds
    instead of milliseconds. A connection takes its turn just before its first INSERT,
    UPDATE or DELETE and gives it back when it returns to the pool (after its commit or
    rollback). Reading never needs a turn: WAL readers do not block the writer."""
    sync_engine = db.engine.sync_engine

    @event.listens_for(sync_engine, "before_cursor_execute")
    def take_turn(
        conn: Connection, _cursor: Any, _sql: str, _params: Any, context: Any, _many: bool
    ) -> None:
        if conn.info.get(_TURN) or context is None or not in_greenlet():
            return
        if not (context.isinsert or context.isupdate or context.isdelete):
            return
        try:
            await_only(asyncio.wait_for(db.write_turn.acquire(), timeout=WRITE_TURN_WAIT))
        except TimeoutError:
            log.warning("a write waited %.0fs for its turn; going ahead", WRITE_TURN_WAIT)
            return
        conn.info[_TURN] = True

    def end_turn(_dbapi_connection: Any, record: Any) -> None:
        if record.info.pop(_TURN, False):
            db.write_turn.release()

    event.listen(sync_engine, "checkin", end_turn)
    event.listen(sync_engine, "close", end_turn)


def open_database(url: str, *, echo: bool = False) -> Database:
    kwargs: dict[str, Any] = {"echo": echo}
    if url.startswith("sqlite"):
        path = make_url(url).database
        if path and path != ":memory:":
            private_sqlite_file(Path(path))
            kwargs["async_creator"] = sqlite_loop.connector(path)
    else:
        kwargs.update(pool_size=10, max_overflow=10, pool_pre_ping=True)
    engine = create_async_engine(url, **kwargs)
    db = Database(engine, async_sessionmaker(engine, expire_on_commit=False))
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        _take_write_turns(db)
    return db


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
        if migrate:
            await seal_legacy_plaintext(db, cipher)
    except BaseException:
        await db.close()
        raise
    return db, cipher
