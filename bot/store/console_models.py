"""Tables for the staff web console (migration 0008_19): sign-in credentials, server-side
sessions, failed sign-ins (for the lockout) and the staff-only case notes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.store.models import Base


class StaffCredential(Base):
    """A staff member's console password (argon2id hash) and optional TOTP secret (sealed)."""

    __tablename__ = "staff_credentials"
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), primary_key=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    totp_secret_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    updated_at: Mapped[datetime]


class ConsoleSession(Base):
    """One signed-in browser. The cookie holds a random token; only its keyed hash is kept."""

    __tablename__ = "console_sessions"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    verified_at: Mapped[datetime | None]  # None while a TOTP code is still owed
    revoked_at: Mapped[datetime | None]


class LoginFailure(Base):
    """A wrong password (or unknown user name), by keyed hash of the name typed."""

    __tablename__ = "login_failures"
    id: Mapped[int] = mapped_column(primary_key=True)
    handle_hash: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime]


class CaseNote(Base):
    """A staff-only note on a case: sealed, never sent to the survivor, every read audited."""

    __tablename__ = "case_notes"
    id: Mapped[int] = mapped_column(primary_key=True)
    survivor_id: Mapped[int] = mapped_column(ForeignKey("survivors.id"), index=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    body_enc: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]
