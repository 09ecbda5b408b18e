"""SQLite statements run on the event loop's own thread, unless they must wait for a lock.

aiosqlite hands every statement to a worker thread and back. Our statements take
microseconds, but each hand-over waits for the event loop to come round again: under load
that wait, not SQLite, was most of the time a message spent being processed (profiled with
py-spy: the loop thread 60% idle while 100 webhook requests queued; running statements in
place doubled inbound throughput, see bench/RESULTS.md).

So a statement runs in place, with SQLite's busy timeout at zero. If another process holds
the write lock (`harbour purge`, an admin command, a second worker), SQLite answers "busy" at
once without doing anything, and that statement is handed to aiosqlite's thread to wait for
the lock there (up to LOCK_WAIT_MS), as before: the event loop never waits for another
process. Writers inside this process already take turns on an asyncio lock (database.py).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from functools import partial
from typing import Any

import aiosqlite

LOCK_WAIT_MS = 10_000  # how long a statement waits for another process's write lock


def is_busy(exc: sqlite3.OperationalError) -> bool:
    """SQLITE_BUSY or one of its extended codes: the statement did nothing, it can be retried."""
    code = getattr(exc, "sqlite_errorcode", None)
    return code is not None and code & 0xFF == sqlite3.SQLITE_BUSY


def _waiting_for_lock(connection: sqlite3.Connection, call: Callable[[], Any]) -> Any:
    """In aiosqlite's thread: `call` with the busy timeout on, then off again."""
    connection.execute(f"PRAGMA busy_timeout={LOCK_WAIT_MS}")
    try:
        return call()
    finally:
        connection.execute("PRAGMA busy_timeout=0")


class LoopThreadConnection(aiosqlite.Connection):
    """An aiosqlite connection whose statements run on the event loop's thread (see above).
    Its sqlite3 connection is used by one coroutine at a time (SQLAlchemy's pool hands it to
    one session), from the loop's thread or, while waiting for a lock, from its worker."""

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        try:
            return fn(*args, **kwargs)
        except sqlite3.OperationalError as exc:
            if not is_busy(exc):
                raise
        call = partial(fn, *args, **kwargs)
        wait_in_thread = super()._execute  # aiosqlite leaves it untyped
        return await wait_in_thread(_waiting_for_lock, self._conn, call)  # type: ignore[no-untyped-call]


def connector(path: str) -> Callable[[], Any]:
    """An `async_creator` for create_async_engine: a LoopThreadConnection to the file `path`."""

    async def connect() -> LoopThreadConnection:
        def open_file() -> sqlite3.Connection:
            # Used from two threads, never at once (see LoopThreadConnection).
            return sqlite3.connect(path, check_same_thread=False)

        connection = LoopThreadConnection(open_file, iter_chunk_size=64)
        connection._thread.daemon = True  # as SQLAlchemy does for aiosqlite's own connect
        await connection  # starts its thread and opens the file there
        return connection

    return connect
