"""`harbour keys rotate`: a new key, everything re-encrypted and re-hashed, the old key retired.

The key file is the state: one line means no rotation is under way; more than one means the
first line is the key being rotated to and the others are still needed. So:
1. a new key is written to the top of the file (atomically, mode 0600) before any data is
   encrypted with it, and the old key stays below it: nothing can become unreadable;
2. lookups are re-hashed and every encrypted column re-encrypted, in batches, each batch
   committed with its progress, so an interrupted run picks up where it stopped (run the
   command again);
3. the old keys are removed from the file only when a full check finds nothing that still
   needs them: no ciphertext under an old key id, no unknown encrypted column, and no unused
   enrolment code issued before the rotation (a code is stored only as a keyed hash, so it
   cannot be re-hashed; it keeps working through the old key until it is used or expires).
A wrong key is refused before anything is touched (bot.store.database.verify_or_record_key).
Stop Harbour while rotating: a running service holds the key ring it started with.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import Table, select, update

from bot.settings import ConfigError, Settings
from bot.store.crypto import Cipher, DataKey, KeyMismatch
from bot.store.database import KEY_CHECK, Database
from bot.store.keys import local_key_path
from bot.store.models import Base, EnrolmentCode, Identity, KeyRotationProgress, Meta
from bot.store.people import ADDRESS

log = logging.getLogger(__name__)

# Every encrypted column and the purpose (associated data) it is sealed with. A test fails
# when a table gains an `_enc` column that is not listed here.
ENCRYPTED: dict[tuple[str, str], str] = {
    ("survivors", "duress_word_enc"): "survivor.duress_word",
    ("identities", "address_enc"): "identity.address",
    ("conversations", "state_enc"): "conversation.state",
    ("messages", "body_enc"): "message.body",
    ("inbox", "payload_enc"): "inbox.payload",
    ("outbox", "payload_enc"): "outbox.payload",
    ("appointments", "place_enc"): "appointment.place",
    ("audit_events", "detail_enc"): "audit.detail",
    ("escalations", "resolution_enc"): "escalation.resolution",
    ("case_notes", "body_enc"): "case.note",
    ("staff_credentials", "totp_secret_enc"): "staff.totp",
}
# Keyed-hash columns: re-hashed from their encrypted twin, or (None) not recomputable.
HASHED: dict[tuple[str, str], str | None] = {
    ("identities", "address_hash"): "identity.address",
    ("enrolment_codes", "code_hash"): None,
    # The console (0008_19): sessions and failed-sign-in counts start afresh after a rotation
    # (everyone signs in again); a password hash is argon2, not keyed by Harbour's key.
    ("console_sessions", "token_hash"): None,
    ("login_failures", "handle_hash"): None,
    ("staff_credentials", "password_hash"): None,
}
BATCH = 200


class RotationError(Exception):
    """The rotation cannot go on; nothing was lost. The message says what to do."""


class Interrupted(Exception):
    """Raised by the test hook to simulate a crash between two batches."""


@dataclass
class RotationReport:
    started: bool = False
    rehashed: int = 0
    reencrypted: dict[str, int] = field(default_factory=dict)
    still_old: int = 0
    waiting_codes: int = 0
    retired: int = 0

    def summary(self) -> str:
        done = sum(self.reencrypted.values())
        lines = [
            ("new key added; " if self.started else "resumed; ")
            + f"{self.rehashed} lookups re-hashed, {done} values re-encrypted"
        ]
        if self.retired:
            lines.append(f"old key retired ({self.retired} removed from the key file)")
        else:
            lines.append(
                f"old key kept: {self.still_old} values still use it, {self.waiting_codes} "
                "unused enrolment codes were issued with it; run `harbour keys rotate` again "
                "once they are used or expired"
            )
        return "\n".join(lines)


def unregistered_columns() -> list[str]:
    found = []
    for table in Base.metadata.sorted_tables:
        for column in table.c:
            if column.name.endswith("_enc") and (table.name, column.name) not in ENCRYPTED:
                found.append(f"{table.name}.{column.name}")
            if column.name.endswith("_hash") and (table.name, column.name) not in HASHED:
                found.append(f"{table.name}.{column.name}")
    return found


def key_file(settings: Settings) -> Path:
    if settings.secret_key is not None:
        raise RotationError(
            "keys rotate needs the key in a file it can update: move HARBOUR_SECRET_KEY into "
            "a file and set HARBOUR_SECRET_KEY_FILE"
        )
    if settings.secret_key_file is not None:
        return settings.secret_key_file
    path = local_key_path(settings)
    if not path.exists():
        raise RotationError(f"no key file at {path}: nothing to rotate")
    return path


def read_keys(path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def write_keys(path: Path, keys: list[str]) -> None:
    """Replace the key file atomically: a crash leaves the old file or the new one, whole."""
    tmp = path.with_name(path.name + ".new")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write("\n".join(keys) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def cipher_of(keys: list[str]) -> Cipher:
    loaded = [DataKey.from_secret(k.encode("utf-8")) for k in keys]
    return Cipher(loaded[0], tuple(loaded[1:]))


def begin(path: Path) -> bool:
    """Put a new key on top of the file unless a rotation is already under way."""
    keys = read_keys(path)
    if len(keys) > 1:
        return False
    write_keys(path, [secrets.token_urlsafe(48), *keys])
    return True


async def rotate(
    db: Database,
    path: Path,
    now: datetime,
    *,
    batch: int = BATCH,
    stop_after_batches: int | None = None,
) -> RotationReport:
    """Run or resume a rotation. `db` must have been opened (and its key checked) first."""
    if unregistered_columns():
        raise RotationError(f"unknown encrypted columns: {', '.join(unregistered_columns())}")
    report = RotationReport(started=begin(path))
    keys = read_keys(path)
    cipher = cipher_of(keys)
    primary = cipher.primary.key_id
    budget = [stop_after_batches]
    await _codes_from_before(db, now)  # notes which codes were issued under the old key

    def tick() -> None:
        if budget[0] is not None:
            if budget[0] <= 0:
                raise Interrupted
            budget[0] -= 1

    async with db.sessions() as session, session.begin():
        row = await session.get(Meta, KEY_CHECK)
        if row is not None and cipher.key_id_of(row.value) != primary:
            row.value = cipher.encrypt(cipher.decrypt(row.value, KEY_CHECK), KEY_CHECK)
    report.rehashed = await _rehash_identities(db, cipher, batch, tick)
    for (table_name, column), purpose in ENCRYPTED.items():
        table = Base.metadata.tables.get(table_name)
        if table is None:
            continue
        count = await _reencrypt(db, cipher, table, column, purpose, now, batch, tick)
        if count:
            report.reencrypted[f"{table_name}.{column}"] = count
    report.still_old = await _count_old(db, cipher)
    report.waiting_codes = await _codes_from_before(db, now)
    if report.still_old == 0 and report.waiting_codes == 0 and len(keys) > 1:
        write_keys(path, keys[:1])
        report.retired = len(keys) - 1
        async with db.sessions() as session, session.begin():
            for progress in (await session.execute(select(KeyRotationProgress))).scalars():
                await session.delete(progress)
    log.info("key rotation: %s", report.summary().replace("\n", "; "))
    return report


async def _rehash_identities(
    db: Database, cipher: Cipher, batch: int, tick: Callable[[], None]
) -> int:
    changed, last = 0, 0
    while True:
        async with db.sessions() as session, session.begin():
            stmt = select(Identity).where(Identity.id > last).order_by(Identity.id).limit(batch)
            rows = list((await session.execute(stmt)).scalars())
            if not rows:
                return changed
            for identity in rows:
                last = identity.id
                if identity.address_hash.startswith("erased:"):
                    continue
                address = cipher.decrypt_text(identity.address_enc, ADDRESS)
                fresh = cipher.lookup_hash(f"{identity.channel}:{address}", ADDRESS)
                if fresh != identity.address_hash:
                    identity.address_hash = fresh
                    changed += 1
        tick()


async def _reencrypt(
    db: Database,
    cipher: Cipher,
    table: Table,
    column: str,
    purpose: str,
    now: datetime,
    batch: int,
    tick: Callable[[], None],
) -> int:
    (pk,) = table.primary_key.columns
    name = f"{table.name}.{column}"
    key_hex = cipher.primary.key_id.hex()
    async with db.sessions() as session, session.begin():
        progress = await session.get(KeyRotationProgress, name)
        if progress is None:
            progress = KeyRotationProgress(table_name=name, key_id=key_hex, last_id=0)
            session.add(progress)
        elif progress.key_id != key_hex:  # left over from an earlier rotation
            progress.key_id, progress.last_id = key_hex, 0
        else:
            if progress.done:
                return 0
        progress.done, progress.updated_at = False, now
        last = progress.last_id
    changed = 0
    while True:
        async with db.sessions() as session, session.begin():
            stmt = select(pk, table.c[column]).where(pk > last).order_by(pk).limit(batch)
            rows = (await session.execute(stmt)).all()
            for row_id, blob in rows:
                if blob is not None and cipher.key_id_of(blob) != cipher.primary.key_id:
                    fresh = cipher.encrypt(cipher.decrypt(blob, purpose), purpose)
                    await session.execute(update(table).where(pk == row_id).values({column: fresh}))
                    changed += 1
            last = rows[-1][0] if rows else last
            progress = await session.get(KeyRotationProgress, name)
            if progress is not None:
                progress.last_id, progress.done, progress.updated_at = last, not rows, now
        if not rows:
            return changed
        tick()


async def _count_old(db: Database, cipher: Cipher) -> int:
    """Values still sealed with another key (or that no key in the ring can open)."""
    old = 0
    async with db.sessions() as session:
        for (table_name, column), purpose in ENCRYPTED.items():
            table = Base.metadata.tables.get(table_name)
            if table is None:
                continue
            result = await session.stream(
                select(table.c[column]).where(table.c[column].is_not(None))
            )
            async for (blob,) in result:
                if cipher.key_id_of(blob) != cipher.primary.key_id:
                    old += 1
                else:
                    try:
                        cipher.decrypt(blob, purpose)
                    except KeyMismatch:
                        old += 1
    return old


async def _codes_from_before(db: Database, now: datetime) -> int:
    """Unused, unexpired enrolment codes issued before this rotation began."""
    async with db.sessions() as session, session.begin():
        progress = await session.get(KeyRotationProgress, "enrolment_codes")
        if progress is None:
            newest = select(EnrolmentCode.id).order_by(EnrolmentCode.id.desc()).limit(1)
            top = (await session.execute(newest)).scalar_one_or_none() or 0
            progress = KeyRotationProgress(
                table_name="enrolment_codes", key_id="-", last_id=top, done=False, updated_at=now
            )
            session.add(progress)
        stmt = select(EnrolmentCode.id).where(
            EnrolmentCode.id <= progress.last_id,
            EnrolmentCode.used_at.is_(None),
            EnrolmentCode.expires_at > now,
        )
        return len(list((await session.execute(stmt)).scalars()))


def check_settings(settings: Settings) -> Path:
    """The key file to rotate, or a ConfigError naming what is missing."""
    try:
        return key_file(settings)
    except RotationError as exc:
        raise ConfigError(str(exc)) from None
