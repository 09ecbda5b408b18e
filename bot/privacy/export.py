"""A subject access export: everything Harbour holds about one survivor, readable.

Two forms of the same content: JSON (for another system, and read back by `from_json`) and
plain text for the survivor, in their language and in English (export_text.py). All are
written with mode 0600, in a folder of their own with mode 0700. The safe word itself is not
written out: a file that an exploiter might see must not give it away; it says whether one
is set, and the advocate can tell the survivor in person.
Every export is audited (who, when, which case), never with its content.
"""

from __future__ import annotations

import errno
import json
import os
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bot.privacy import consent
from bot.store.models import AuditEvent, Base, Message, Survivor
from bot.store.records import BODY
from bot.store.uow import UnitOfWork

# Tables exported section by section below; other tables with a survivor_id (appointments,
# reminders...) are exported generically, without encrypted or hashed columns.
HANDLED = frozenset(
    {"survivors", "identities", "messages", "consent_records", "audit_events", "conversations"}
)
HIDDEN_SUFFIXES = ("_enc", "_hash")


@dataclass
class SurvivorExport:
    case_code: str
    exported_at: str
    profile: dict[str, Any]
    contacts: list[dict[str, Any]] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)
    consent: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    other: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _plain(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return None
    return value


async def build_export(
    uow: UnitOfWork, now: datetime, survivor: Survivor, *, actor: str
) -> SurvivorExport:
    """Everything about the survivor, decrypted: a read of case content, so it is audited."""
    session = uow.session
    advocate = await uow.people.staff(survivor.advocate_id) if survivor.advocate_id else None
    profile = {
        "status": survivor.status,
        "language": survivor.language,
        "timezone": survivor.timezone,
        "quiet_hours": (
            f"{survivor.quiet_start}-{survivor.quiet_end}" if survivor.quiet_start else None
        ),
        "discreet_mode": survivor.discreet,
        "safe_word_set": survivor.duress_word_enc is not None,
        "advocate": advocate.handle if advocate else None,
        "allowed_channels": list(survivor.allowed_channels or []),
        "joined": _when(survivor.created_at),
        "last_message": _when(survivor.last_inbound_at),
    }
    result = SurvivorExport(survivor.case_code, now.isoformat(), profile)
    for identity in await uow.people.identities_of_survivor(survivor.id):
        result.contacts.append(
            {
                "channel": identity.channel,
                "address": uow.people.address_of(identity),
                "status": identity.status,
                "since": _when(identity.created_at),
            }
        )
    stmt = select(Message).where(Message.survivor_id == survivor.id).order_by(Message.id)
    for message in (await session.execute(stmt)).scalars():
        body = (
            uow.messages.cipher.decrypt_text(message.body_enc, BODY) if message.body_enc else None
        )
        result.messages.append(
            {
                "at": _when(message.created_at),
                "direction": "from you" if message.direction == "in" else "to you",
                "channel": message.channel,
                "text": body,  # None: deleted under the retention policy
            }
        )
    for row in await consent.history(session, survivor.id):
        result.consent.append(
            {
                "purpose": row.purpose,
                "granted": row.granted,
                "given_by": row.given_by,
                "language": row.language,
                "flow": row.flow,
                "at": _when(row.at),
            }
        )
    events = select(AuditEvent).where(AuditEvent.survivor_id == survivor.id)
    for event in (await session.execute(events.order_by(AuditEvent.id))).scalars():
        result.events.append(
            {
                "at": _when(event.at),
                "by": event.actor,
                "what": event.action,
                **uow.audit.detail_of(event),
            }
        )
    for table in Base.metadata.sorted_tables:
        if table.name in HANDLED or "survivor_id" not in table.c:
            continue
        shown = [c for c in table.c if not c.name.endswith(HIDDEN_SUFFIXES)]
        rows = await session.execute(select(*shown).where(table.c.survivor_id == survivor.id))
        found = [{k: _plain(v) for k, v in row._mapping.items()} for row in rows]
        if found:
            result.other[table.name] = found
    uow.audit.record(
        actor, "case.exported", now, survivor_id=survivor.id, messages=len(result.messages)
    )
    return result


def to_json(export: SurvivorExport) -> str:
    return json.dumps(asdict(export), ensure_ascii=False, indent=2)


def from_json(text: str) -> SurvivorExport:
    data = json.loads(text)
    return SurvivorExport(**data)


def write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read, refusing to overwrite an existing one."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)


def write_export(
    export: SurvivorExport, directory: Path, texts: dict[str, str]
) -> tuple[Path, list[Path]]:
    """The JSON and one text per language (`texts`: language -> text), each mode 0600, in a
    new folder of their own, mode 0700, under `directory`."""
    stamp = export.exported_at[:19].replace(":", "").replace("-", "")
    name = f"harbour-export-{export.case_code}-{stamp}"
    folder = directory / name
    if directory.exists() and not directory.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, "that is a file; give a folder", str(directory))
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    folder.mkdir(mode=0o700)  # never into a folder someone else made
    os.chmod(folder, 0o700)  # whatever the umask
    json_path = folder / f"{name}.json"
    write_private(json_path, to_json(export))
    text_paths = []
    for language, text in texts.items():
        text_paths.append(folder / f"{name}.{language}.txt")
        write_private(text_paths[-1], text)
    return json_path, text_paths
