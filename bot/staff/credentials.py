"""Console sign-in credentials: argon2id password hashes and optional TOTP secrets.

    await set_password(uow, staff, password, now)      `harbour staff set-password HANDLE`
    await check_password(uow, staff, password) -> bool  the console's sign-in form
    await set_totp(uow, staff, now) -> secret           `harbour staff set-password --totp`

The TOTP secret is sealed with the store's cipher (purpose "staff.totp").
"""

from __future__ import annotations

from datetime import datetime

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from bot.store.console_models import StaffCredential
from bot.store.models import Staff
from bot.store.uow import UnitOfWork

TOTP = "staff.totp"
MIN_PASSWORD = 12
MAX_PASSWORD = 1024
_HASHER = PasswordHasher()  # argon2id with the library's current defaults
# Verifying against this when the user is unknown keeps the timing the same.
_DUMMY = _HASHER.hash("harbour: no such user")


class PasswordRejected(ValueError):
    """The new password does not meet the rules; the message says which, never the password."""


def check_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise PasswordRejected(f"the password must be at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise PasswordRejected(f"the password must be at most {MAX_PASSWORD} characters")


async def credential(uow: UnitOfWork, staff_id: int) -> StaffCredential | None:
    return await uow.session.get(StaffCredential, staff_id)


async def set_password(uow: UnitOfWork, staff: Staff, password: str, now: datetime) -> None:
    check_strength(password)
    found = await credential(uow, staff.id)
    hashed = _HASHER.hash(password)
    if found is None:
        uow.session.add(StaffCredential(staff_id=staff.id, password_hash=hashed, updated_at=now))
    else:
        found.password_hash, found.updated_at = hashed, now
    uow.audit.record("cli", "staff.password_set", now, handle=staff.handle)


async def check_password(uow: UnitOfWork, staff: Staff | None, password: str) -> bool:
    """Whether `password` is this staff member's; always spends one argon2 verification."""
    found = await credential(uow, staff.id) if staff is not None else None
    stored = found.password_hash if found is not None else _DUMMY
    try:
        ok = _HASHER.verify(stored, password[:MAX_PASSWORD])
    except (VerificationError, InvalidHashError):
        return False
    if ok and found is not None and _HASHER.check_needs_rehash(stored):
        found.password_hash = _HASHER.hash(password)
    return ok and found is not None


async def set_totp(uow: UnitOfWork, staff: Staff, now: datetime) -> str:
    """A new TOTP secret for this staff member (who must have a password). Returns it."""
    found = await credential(uow, staff.id)
    if found is None:
        raise PasswordRejected("set a password first")
    secret = pyotp.random_base32()
    found.totp_secret_enc = uow.cipher.encrypt_text(secret, TOTP)
    found.updated_at = now
    uow.audit.record("cli", "staff.totp_set", now, handle=staff.handle)
    return secret


def provisioning_uri(secret: str, handle: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=handle, issuer_name="Harbour")


def totp_secret(uow: UnitOfWork, found: StaffCredential | None) -> str | None:
    if found is None or found.totp_secret_enc is None:
        return None
    return uow.cipher.decrypt_text(found.totp_secret_enc, TOTP)


def check_totp(secret: str, code: str, now: datetime) -> bool:
    code = code.strip().replace(" ", "")
    if not (code.isdigit() and len(code) == 6):
        return False
    return pyotp.TOTP(secret).verify(code, for_time=now, valid_window=1)
