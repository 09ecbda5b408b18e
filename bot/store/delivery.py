"""Queries for delivery receipts: find an outbox row by the provider's message id.

Never commits: the delivery service owns the transaction. Lookups use the
`ix_outbox_provider_id` index (migration 0002).
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.models import OutboxItem


class DeliveryRecords:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def outbox_by_provider_id(
        self, channel: str, provider_id: str, *, lock: bool = False
    ) -> OutboxItem | None:
        """The outbox row a provider id was recorded on (locked for update on PostgreSQL,
        so two receipts for one message are applied one after the other)."""
        stmt = select(OutboxItem).where(
            OutboxItem.provider_id == provider_id, OutboxItem.channel == channel
        )
        if lock and self.session.get_bind().dialect.name == "postgresql":
            stmt = stmt.with_for_update()
        return (await self.session.execute(stmt)).scalars().first()

    async def provider_id_recorded(self, channel: str, provider_id: str) -> bool:
        """Whether some outbox row already owns this provider id."""
        stmt = (
            select(OutboxItem.id)
            .where(OutboxItem.provider_id == provider_id, OutboxItem.channel == channel)
            .limit(1)
        )
        return (await self.session.execute(stmt)).first() is not None


async def outbox_figures(session: AsyncSession) -> list[tuple[str, str, int, int]]:
    """(channel, status, rows, in-doubt re-sends) over the outbox rows kept (retention)."""
    stmt = select(
        OutboxItem.channel,
        OutboxItem.status,
        func.count(),
        func.coalesce(func.sum(OutboxItem.doubt_resends), 0),
    ).group_by(OutboxItem.channel, OutboxItem.status)
    return [
        (str(channel), str(status), int(rows), int(doubt))
        for channel, status, rows, doubt in (await session.execute(stmt)).all()
    ]
