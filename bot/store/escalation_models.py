"""Tables for escalations and the on-call rota (migration 0003)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.store.models import Base


class Escalation(Base):
    """One urgent situation, chased tier by tier until a person acknowledges it."""

    __tablename__ = "escalations"
    __table_args__ = (Index("ix_escalations_due", "status", "next_alert_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(8), unique=True)  # what staff type: ACK <code>
    survivor_id: Mapped[int] = mapped_column(ForeignKey("survivors.id"), index=True)
    reason: Mapped[str] = mapped_column(String(64))  # help_now | phrase:<category> | duress ...
    silent: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open|acknowledged|resolved
    tier: Mapped[int] = mapped_column(Integer, default=0)  # index into TIERS
    alerts_sent: Mapped[int] = mapped_column(Integer, default=0)
    next_alert_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    acknowledged_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    acknowledged_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    # The staff member's outcome is free text: sealed (purpose "escalation.resolution").
    resolution_enc: Mapped[bytes | None] = mapped_column(LargeBinary)  # migration 0007_16
    resolution: Mapped[str | None] = mapped_column(String(32))  # before 0007_16; now empty


class RotaShift(Base):
    """Someone on call out of hours, from `starts_at` to `ends_at` (UTC)."""

    __tablename__ = "rota_shifts"
    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    starts_at: Mapped[datetime] = mapped_column(index=True)
    ends_at: Mapped[datetime]
    created_at: Mapped[datetime]
