"""Sealing plaintext left by older releases: audit details and escalation outcomes written
before migration 0007_16 are encrypted once, at the first start with the key, and their
plaintext columns emptied. A mark in `meta` says it is done, so later starts do nothing."""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING

from sqlalchemy import select, update

from bot.store.crypto import Cipher

if TYPE_CHECKING:
    from bot.store.database import Database
from bot.store.escalation_models import Escalation
from bot.store.models import AuditEvent, Meta
from bot.store.records import AUDIT_DETAIL

log = logging.getLogger(__name__)

SEALED = "sealed_0007_16"
RESOLUTION = "escalation.resolution"
BATCH = 500


async def seal_legacy_plaintext(db: Database, cipher: Cipher) -> int:
    """Encrypt what an older release stored in the clear; returns how many rows changed."""
    changed = 0
    async with db.sessions() as session, session.begin():
        if await session.get(Meta, SEALED) is not None:
            return 0
        stmt = select(AuditEvent.id, AuditEvent.detail, AuditEvent.note).where(
            AuditEvent.detail_enc.is_(None)
        )
        for row in (await session.execute(stmt)).all():
            detail = dict(row.detail or {})
            if row.note:
                detail["note"] = row.note
            if not detail:
                continue
            sealed = cipher.encrypt_text(json.dumps(detail, default=str), AUDIT_DETAIL)
            await session.execute(
                update(AuditEvent)
                .where(AuditEvent.id == row.id)
                .values(detail_enc=sealed, detail={}, note=None)
            )
            changed += 1
        outcomes = select(Escalation.id, Escalation.resolution).where(
            Escalation.resolution.is_not(None)
        )
        for outcome in (await session.execute(outcomes)).all():
            await session.execute(
                update(Escalation)
                .where(Escalation.id == outcome.id)
                .values(
                    resolution_enc=cipher.encrypt_text(outcome.resolution, RESOLUTION),
                    resolution=None,
                )
            )
            changed += 1
        session.add(Meta(key=SEALED, value=b"1"))
    if changed:
        log.warning("sealed %d rows of staff text stored in the clear by an older release", changed)
        await _rewrite_storage(db)
    return changed


async def _rewrite_storage(db: Database) -> None:
    """Both databases keep replaced values on disk for a while (SQLite in free pages and the
    WAL, PostgreSQL in dead row versions): rewrite the storage once, so the old plaintext is
    gone from the disk too, not only from the tables."""
    if db.is_sqlite:
        statements = [
            "PRAGMA wal_checkpoint(TRUNCATE)",
            "VACUUM",
            "PRAGMA wal_checkpoint(TRUNCATE)",
        ]
    else:
        statements = ["VACUUM FULL audit_events", "VACUUM FULL escalations"]
    async with db.engine.connect() as conn:
        autocommit = await conn.execution_options(isolation_level="AUTOCOMMIT")
        for statement in statements:
            await autocommit.exec_driver_sql(statement)
