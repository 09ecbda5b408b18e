"""Rows that nothing reads back at once (history, audit events, replies), written together.

The ORM inserts a new object one row at a time on SQLite, to learn its id: a batch of 50
messages wrote ~150 rows with ~150 statements. Rows queued here are written with one
executemany per table instead, each table's rows in the order they were queued, and always
before anything else is asked of the database in the same transaction:
`write_before_statements` hooks every statement the session runs (a query that counts,
exports or erases history sees them), the ORM's flushes write them first (so rows keep the
order they were queued and added in), and the unit of work writes what is left before it
commits. A rollback drops them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, event, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import ORMExecuteState, Session

_PENDING = "harbour_pending_rows"


def queue(session: AsyncSession, table: Table, row: dict[str, Any]) -> None:
    """Insert `row` into `table` before this transaction's next statement or its commit.
    Every row queued for one table must have the same keys, and no queued row may refer to
    another queued row."""
    session.sync_session.info.setdefault(_PENDING, []).append((table, row))


def _write(session: Session) -> None:
    pending: list[tuple[Table, dict[str, Any]]] | None = session.info.pop(_PENDING, None)
    if not pending:
        return
    # One statement per table. Rows of one table keep their order; rows of different tables
    # do not refer to each other, so the tables may go one after another.
    by_table: dict[Table, list[dict[str, Any]]] = {}
    for table, row in pending:
        by_table.setdefault(table, []).append(row)
    connection = session.connection()
    for table, rows in by_table.items():
        connection.execute(insert(table), rows)


async def write(session: AsyncSession) -> None:
    """Write what is queued now (the unit of work calls this before committing)."""
    if session.sync_session.info.get(_PENDING):
        await session.run_sync(_write)


def drop(session: AsyncSession) -> None:
    session.sync_session.info.pop(_PENDING, None)


@event.listens_for(Session, "do_orm_execute")
def write_before_statements(state: ORMExecuteState) -> None:
    """Every statement run through a session, ORM or Core: queued rows go first."""
    _write(state.session)


@event.listens_for(Session, "before_flush")
def write_before_flush(session: Session, _context: object, _instances: object) -> None:
    """Objects added to the session after a row was queued are written after it."""
    _write(session)
