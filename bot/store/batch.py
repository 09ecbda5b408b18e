"""Core reads and writes for a batch of scheduled turns (reminders): a few statements per batch
instead of several ORM round trips per survivor. Never commits: the ticker owns the transaction.

Everything here is plain rows and values. The ciphertexts are the same as the repositories'
(same purposes), so a row written here reads back through Conversations, Outbox and Messages.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.models import AuditEvent, Base, Conversation, Identity, Message, OutboxItem


def table(model: type[Base]) -> Table:
    """The Core table behind a model (typed: `__table__` is declared as a FromClause)."""
    return cast(Table, model.__table__)


CONVERSATIONS, IDENTITIES, MESSAGES = table(Conversation), table(Identity), table(Message)
OUTBOX, AUDIT = table(OutboxItem), table(AuditEvent)


@dataclass(frozen=True)
class IdentityRow:
    """A survivor's channel address, without the address itself (only its id is needed)."""

    id: int
    survivor_id: int
    channel: str
    status: str


def _postgres(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


async def conversation_blobs(
    session: AsyncSession, survivor_ids: Collection[int]
) -> dict[int, bytes]:
    """The encrypted conversation state of each survivor that has one. On PostgreSQL the rows
    are locked in id order (one turn per survivor at a time, as Conversations.load does)."""
    if not survivor_ids:
        return {}
    c = CONVERSATIONS.c
    stmt = (
        select(c.survivor_id, c.state_enc)
        .where(c.survivor_id.in_(sorted(survivor_ids)))
        .order_by(c.survivor_id)
    )
    if _postgres(session):
        stmt = stmt.with_for_update()
    return {r.survivor_id: r.state_enc for r in await session.execute(stmt)}


async def lock_new_conversation(
    session: AsyncSession, survivor_id: int, placeholder: bytes, now: datetime
) -> bytes:
    """For a survivor who had no conversation row when the batch began: create it (holding
    `placeholder`) and lock it, or, when another transaction has just created it, wait for
    that one and lock its row. Returns the stored state: `placeholder` if the row is ours.
    Two batches side by side that both met the survivor can then not both insert a row."""
    values = {"survivor_id": survivor_id, "state_enc": placeholder, "updated_at": now}
    if _postgres(session):
        await session.execute(pg_insert(CONVERSATIONS).values(values).on_conflict_do_nothing())
    else:
        await session.execute(sqlite_insert(CONVERSATIONS).values(values).on_conflict_do_nothing())
    c = CONVERSATIONS.c
    stmt = select(c.state_enc).where(c.survivor_id == survivor_id)
    if _postgres(session):
        stmt = stmt.with_for_update()
    blob: bytes = (await session.execute(stmt)).scalar_one()
    return blob


async def save_conversations(
    session: AsyncSession, blobs: Mapping[int, bytes], existing: Collection[int], now: datetime
) -> None:
    """Write new encrypted states: an UPDATE for rows that exist, an INSERT for the rest."""
    updates = [
        {"row_id": sid, "new_state": blob, "new_at": now}
        for sid, blob in blobs.items()
        if sid in existing
    ]
    inserts = [
        {"survivor_id": sid, "state_enc": blob, "updated_at": now}
        for sid, blob in blobs.items()
        if sid not in existing
    ]
    if updates:
        stmt = (
            update(CONVERSATIONS)
            .where(CONVERSATIONS.c.survivor_id == bindparam("row_id"))
            .values(state_enc=bindparam("new_state"), updated_at=bindparam("new_at"))
        )
        await session.execute(stmt, updates)
    if inserts:
        await session.execute(insert(CONVERSATIONS), inserts)


async def identities_of(
    session: AsyncSession, survivor_ids: Collection[int]
) -> dict[int, list[IdentityRow]]:
    """Each survivor's identities, oldest first (the order People.identities_of_survivor uses)."""
    if not survivor_ids:
        return {}
    i = IDENTITIES.c
    stmt = (
        select(i.id, i.survivor_id, i.channel, i.status)
        .where(i.survivor_id.in_(sorted(survivor_ids)))
        .order_by(i.id)
    )
    found: dict[int, list[IdentityRow]] = {}
    for r in await session.execute(stmt):
        found.setdefault(r.survivor_id, []).append(
            IdentityRow(r.id, r.survivor_id, r.channel, r.status)
        )
    return found


async def last_inbound_channels(
    session: AsyncSession, survivor_ids: Collection[int]
) -> dict[int, str]:
    """The channel each survivor last wrote on, for those who ever wrote."""
    if not survivor_ids:
        return {}
    m = MESSAGES.c
    latest = (
        select(func.max(m.id))
        .where(m.survivor_id.in_(sorted(survivor_ids)), m.direction == "in")
        .group_by(m.survivor_id)
    )
    stmt = select(m.survivor_id, m.channel).where(m.id.in_(latest.scalar_subquery()))
    return {r.survivor_id: r.channel for r in await session.execute(stmt)}


async def insert_outbox(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert outbox rows; their ids, in the order of `rows`. Each row is matched to its id by
    its ciphertext, unique by its random nonce: asking for the rows back in parameter order
    makes SQLAlchemy insert one row at a time on SQLite."""
    if not rows:
        return []
    stmt = insert(OUTBOX).returning(OUTBOX.c.id, OUTBOX.c.payload_enc)
    ids = {bytes(r.payload_enc): r.id for r in await session.execute(stmt, list(rows))}
    return [ids[bytes(row["payload_enc"])] for row in rows]


async def insert_messages(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        await session.execute(insert(MESSAGES), list(rows))


async def insert_audit(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        await session.execute(insert(AUDIT), list(rows))
