"""The database tables (SQLAlchemy 2 typed models). Alembic migrations mirror this file.

Columns ending in `_enc` hold AES-GCM ciphertexts (see crypto.py); columns ending in `_hash`
hold keyed hashes for lookups. No plaintext body, phone number or chat id is ever stored.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both SQLite (which drops tzinfo) and PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UtcDateTime}


class Meta(Base):
    """Small facts about the store itself, such as the key check value."""

    __tablename__ = "meta"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[bytes] = mapped_column(LargeBinary)


class Staff(Base):
    __tablename__ = "staff"
    id: Mapped[int] = mapped_column(primary_key=True)
    handle: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))  # advocate | duty | admin
    language: Mapped[str] = mapped_column(String(8), default="en")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    away_until: Mapped[datetime | None]
    cover_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[datetime]


class Survivor(Base):
    __tablename__ = "survivors"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_code: Mapped[str] = mapped_column(String(16), unique=True)
    language: Mapped[str | None] = mapped_column(String(8))
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/London")
    quiet_start: Mapped[str | None] = mapped_column(String(5))  # "22:00" local time
    quiet_end: Mapped[str | None] = mapped_column(String(5))  # "08:00"
    allowed_channels: Mapped[list[str]] = mapped_column(JSON, default=list)
    # intake (unknown contact) | active | paused | stopped | closed | erased
    status: Mapped[str] = mapped_column(String(16), default="intake")
    advocate_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    discreet: Mapped[bool] = mapped_column(Boolean, default=True)
    duress_word_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]
    last_inbound_at: Mapped[datetime | None]


class Identity(Base):
    """A channel address (Telegram chat, phone number, local name) of a survivor or staff member."""

    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("channel", "address_hash"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))  # telegram | sms | local
    address_hash: Mapped[str] = mapped_column(String(64))
    address_enc: Mapped[bytes] = mapped_column(LargeBinary)
    survivor_id: Mapped[int | None] = mapped_column(ForeignKey("survivors.id"), index=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), index=True)
    status: Mapped[str] = mapped_column(
        String(16), default="active"
    )  # active|stopped|blocked|opted_out
    created_at: Mapped[datetime]


class EnrolmentCode(Base):
    __tablename__ = "enrolment_codes"
    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    survivor_id: Mapped[int] = mapped_column(ForeignKey("survivors.id"), index=True)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class Conversation(Base):
    """The engine's state for one survivor, encrypted (it can hold what they typed)."""

    __tablename__ = "conversations"
    survivor_id: Mapped[int] = mapped_column(ForeignKey("survivors.id"), primary_key=True)
    state_enc: Mapped[bytes] = mapped_column(LargeBinary)
    updated_at: Mapped[datetime]


class Message(Base):
    __tablename__ = "messages"
    id: Mapped[int] = mapped_column(primary_key=True)
    survivor_id: Mapped[int | None] = mapped_column(ForeignKey("survivors.id"), index=True)
    direction: Mapped[str] = mapped_column(String(3))  # in | out
    channel: Mapped[str] = mapped_column(String(16))
    body_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    inbox_id: Mapped[int | None] = mapped_column(ForeignKey("inbox.id"))
    created_at: Mapped[datetime]


class InboxItem(Base):
    """A raw provider payload, stored before the provider is acknowledged."""

    __tablename__ = "inbox"
    __table_args__ = (UniqueConstraint("channel", "provider_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    provider_id: Mapped[str] = mapped_column(String(128))
    payload_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    received_at: Mapped[datetime]
    processed_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(String(200))  # an exception class name, never content


class OutboxItem(Base):
    """A durable send. Claimed atomically by the sender loop; never sent twice."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "priority", "next_attempt_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    identity_id: Mapped[int] = mapped_column(ForeignKey("identities.id"), index=True)
    survivor_id: Mapped[int | None] = mapped_column(ForeignKey("survivors.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # message | relay | escalation | alert
    priority: Mapped[int] = mapped_column(Integer, default=0)  # higher goes first
    payload_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    # pending | sending | sent | delivered | undelivered | failed | cancelled
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    claimed_until: Mapped[datetime | None]
    provider_id: Mapped[str | None] = mapped_column(String(128), index=True)  # migration 0002
    last_error: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]


class AuditEvent(Base):
    """Who did what, when. `detail` holds ids and codes only, never message content."""

    __tablename__ = "audit_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(64))  # cli | system | staff:<handle> | survivor
    action: Mapped[str] = mapped_column(String(64))
    survivor_id: Mapped[int | None] = mapped_column(ForeignKey("survivors.id"), index=True)
    detail: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    note: Mapped[str | None] = mapped_column(Text)
