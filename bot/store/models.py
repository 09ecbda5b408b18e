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
    false,
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
    # The flood guard and the silence watch count a survivor's recent messages (migration 0006).
    __table_args__ = (Index("ix_messages_survivor_created", "survivor_id", "created_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    survivor_id: Mapped[int | None] = mapped_column(ForeignKey("survivors.id"), index=True)
    direction: Mapped[str] = mapped_column(String(3))  # in | out
    channel: Mapped[str] = mapped_column(String(16))
    body_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    inbox_id: Mapped[int | None] = mapped_column(ForeignKey("inbox.id"))
    created_at: Mapped[datetime]
    # A button press or a step through the menus (migration 0007_18): not counted by the
    # flood guard, which is about what a survivor writes.
    navigation: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


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
    __table_args__ = (
        Index("ix_outbox_due", "status", "priority", "next_attempt_at"),
        Index("ix_outbox_identity_order", "identity_id", "id"),  # migration 0008_15a
    )
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
    # Migration 0008_15a. The claim's holder (a sender's token): a lapsed lease cannot make a
    # second sender's row ours again. `attempt_at`: written, and committed, just before the
    # provider is called, cleared when the result is recorded; still set means the last
    # attempt's outcome is unknown. `first_attempt_at` starts the retry window.
    # `doubt_resends`: times re-sent without knowing whether the last attempt arrived.
    claim_token: Mapped[str | None] = mapped_column(String(32))
    attempt_at: Mapped[datetime | None]
    first_attempt_at: Mapped[datetime | None]
    doubt_resends: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class AuditEvent(Base):
    """Who did what, when. The detail (ids, codes, counts, and anything a person typed) is
    sealed in `detail_enc`; read it with `Audit.detail_of`. `detail` and `note` are the
    plaintext columns from before migration 0007_16, emptied at start-up (store/sealing.py)."""

    __tablename__ = "audit_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(64))  # cli | system | staff:<handle> | survivor
    action: Mapped[str] = mapped_column(String(64))
    survivor_id: Mapped[int | None] = mapped_column(ForeignKey("survivors.id"), index=True)
    detail_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    detail: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)  # legacy: always {}
    note: Mapped[str | None] = mapped_column(Text)  # legacy: always NULL


# -- appointments, reminders, check-ins, contact-loss watch (migration 0004) ----------------
class Appointment(Base):
    """An appointment made by an advocate, kept in UTC with the zone it was made in."""

    __tablename__ = "appointments"
    id: Mapped[int] = mapped_column(primary_key=True)
    survivor_id: Mapped[int] = mapped_column(ForeignKey("survivors.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # solicitor | housing | gp | police | ...
    starts_at: Mapped[datetime]
    timezone: Mapped[str] = mapped_column(String(64))  # the survivor's zone when it was set
    place_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(16), default="scheduled")  # | cancelled
    reply: Mapped[str | None] = mapped_column(String(16))  # confirm | cannot | travel
    replied_at: Mapped[datetime | None]
    reminded_at: Mapped[datetime | None]  # the last reminder that went out
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class AppointmentJob(Base):
    """One thing due about an appointment: a reminder to the survivor, or the "no reply"
    check for the advocate. Claimed atomically; carries ids only, never text."""

    __tablename__ = "appointment_jobs"
    __table_args__ = (Index("ix_appointment_jobs_due", "status", "due_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int] = mapped_column(ForeignKey("appointments.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(16))  # reminder | no_reply
    offset_minutes: Mapped[int] = mapped_column(Integer, default=0)  # before the start
    due_at: Mapped[datetime]
    # pending | sent | skipped | superseded | cancelled | done
    status: Mapped[str] = mapped_column(String(16), default="pending")
    outcome: Mapped[str | None] = mapped_column(String(32))  # why it was skipped, if it was
    outbox_id: Mapped[int | None] = mapped_column(Integer)
    done_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class CheckinPlan(Base):
    """Optional regular check-ins for one survivor: daily or weekly at a safe local time."""

    __tablename__ = "checkin_plans"
    __table_args__ = (Index("ix_checkin_plans_due", "active", "next_due_at"),)
    survivor_id: Mapped[int] = mapped_column(ForeignKey("survivors.id"), primary_key=True)
    frequency: Mapped[str] = mapped_column(String(8))  # daily | weekly
    weekday: Mapped[int] = mapped_column(Integer, default=0)  # 0 = Monday (weekly only)
    local_time: Mapped[str] = mapped_column(String(5))  # "18:00" in the survivor's zone
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    next_due_at: Mapped[datetime]
    asked_at: Mapped[datetime | None]  # the last check-in sent
    answered_at: Mapped[datetime | None]
    unanswered: Mapped[int] = mapped_column(Integer, default=0)  # in a row
    chosen_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime]


class ContactWatch(Base):
    """The last contact-loss score of a survivor and the level the advocate was told of."""

    __tablename__ = "contact_watch"
    survivor_id: Mapped[int] = mapped_column(ForeignKey("survivors.id"), primary_key=True)
    score: Mapped[int] = mapped_column(Integer, default=0)
    level: Mapped[int] = mapped_column(Integer, default=0)  # 0 none, 1 watch, 2 concern, 3 high
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    alerted_level: Mapped[int] = mapped_column(Integer, default=0)
    alerted_at: Mapped[datetime | None]
    checked_at: Mapped[datetime]


# -- privacy (migration 0005) -------------------------------------------------------------


class ConsentRecord(Base):
    """One consent answer for one purpose. Append-only: the latest row per purpose is in force,
    and earlier rows show the history (given, withdrawn, given again)."""

    __tablename__ = "consent_records"
    id: Mapped[int] = mapped_column(primary_key=True)
    survivor_id: Mapped[int] = mapped_column(ForeignKey("survivors.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(32))  # see bot.privacy.consent.PURPOSES
    granted: Mapped[bool] = mapped_column(Boolean)
    given_by: Mapped[str] = mapped_column(String(64))  # survivor | staff:<handle> | cli:<handle>
    language: Mapped[str | None] = mapped_column(String(8))
    flow: Mapped[str] = mapped_column(String(32))  # onboarding | settings | cli
    at: Mapped[datetime]


class ErasureTombstone(Base):
    """All that is left of an erased survivor: the case code and the day it was erased."""

    __tablename__ = "erasure_tombstones"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_code: Mapped[str] = mapped_column(String(16), index=True)
    erased_on: Mapped[str] = mapped_column(String(10))  # YYYY-MM-DD: the date, not the time


class KeyRotationProgress(Base):
    """How far `harbour keys rotate` got in each table, so an interrupted run resumes."""

    __tablename__ = "key_rotation_progress"
    table_name: Mapped[str] = mapped_column(String(64), primary_key=True)
    key_id: Mapped[str] = mapped_column(String(8))  # hex id of the key being rotated to
    last_id: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime]
