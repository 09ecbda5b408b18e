"""Server-side console sessions and the sign-in lockout.

A session is a row; the browser holds only a random token whose keyed hash finds the row.
It ends after `console_idle_minutes` without use, `console_absolute_hours` after sign-in,
when revoked (sign out), and at once when the staff member is deactivated.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select

from bot.settings import Settings
from bot.store.console_models import ConsoleSession, LoginFailure
from bot.store.models import Staff
from bot.store.uow import UnitOfWork

TOKEN = "console.session"  # noqa: S105 (a hash purpose, not a secret)
HANDLE = "console.handle"
COOKIE = "harbour_session"
PRE_COOKIE = "harbour_login"  # before sign-in: binds the sign-in form's CSRF token


@dataclass
class Signed:
    session: ConsoleSession
    staff: Staff
    token: str


def _hash(uow: UnitOfWork, token: str) -> str:
    return uow.cipher.lookup_hash(token, TOKEN)


async def start(uow: UnitOfWork, staff: Staff, now: datetime, verified: bool) -> str:
    """A new session; returns the token for the cookie."""
    token = secrets.token_urlsafe(32)
    uow.session.add(
        ConsoleSession(
            token_hash=_hash(uow, token),
            staff_id=staff.id,
            created_at=now,
            last_seen_at=now,
            verified_at=now if verified else None,
        )
    )
    uow.audit.record(f"staff:{staff.handle}", "console.sign_in", now, verified=verified)
    return token


async def find(
    uow: UnitOfWork, settings: Settings, token: str | None, now: datetime
) -> Signed | None:
    """The live session for this cookie (verified or not), touched; None if there is none."""
    if not token or len(token) > 128:
        return None
    stmt = select(ConsoleSession).where(ConsoleSession.token_hash == _hash(uow, token))
    session = (await uow.session.execute(stmt)).scalar_one_or_none()
    if session is None or session.revoked_at is not None:
        return None
    staff = await uow.people.staff(session.staff_id)
    idle = timedelta(minutes=settings.console_idle_minutes)
    absolute = timedelta(hours=settings.console_absolute_hours)
    expired = now - session.last_seen_at > idle or now - session.created_at > absolute
    if staff is None or not staff.active or expired:
        session.revoked_at = now
        return None
    session.last_seen_at = now
    return Signed(session, staff, token)


async def end(uow: UnitOfWork, signed: Signed, now: datetime) -> None:
    signed.session.revoked_at = now
    uow.audit.record(f"staff:{signed.staff.handle}", "console.sign_out", now)


# -- lockout ---------------------------------------------------------------------------------
def handle_hash(uow: UnitOfWork, handle: str) -> str:
    return uow.cipher.lookup_hash(handle.strip().lower()[:64], HANDLE)


async def locked(uow: UnitOfWork, settings: Settings, handle: str, now: datetime) -> bool:
    since = now - timedelta(minutes=settings.console_lockout_minutes)
    stmt = select(func.count()).where(
        LoginFailure.handle_hash == handle_hash(uow, handle), LoginFailure.at > since
    )
    return int((await uow.session.execute(stmt)).scalar_one()) >= settings.console_lockout_failures


def failed(uow: UnitOfWork, handle: str, now: datetime) -> None:
    uow.session.add(LoginFailure(handle_hash=handle_hash(uow, handle), at=now))
    uow.audit.record("console", "console.sign_in_failed", now)


async def clear_failures(uow: UnitOfWork, handle: str) -> None:
    await uow.session.execute(
        delete(LoginFailure).where(LoginFailure.handle_hash == handle_hash(uow, handle))
    )
