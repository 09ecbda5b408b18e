"""Consent for each use of a survivor's data: who gave it, when, in which language, in which flow.

Purposes:
- nrm_referral: referring them to the National Referral Mechanism;
- police: sharing with the police;
- other_agencies: sharing with other agencies (housing, health, legal...);
- machine_translation: sending their words to the machine translator.

Records are append-only; the latest per purpose is in force. Withdrawing takes effect in the
same transaction that records it: relays still waiting for their translation are switched to
"never translate" before the commit, and every later relay reads the consent when it is
queued (`translation_allowed`).

Machine translation is explained in the onboarding privacy notice, so the onboarding answer
("Is that OK with you?") is recorded as the machine-translation consent. Until a survivor
has answered (an unknown contact's first words), translation runs: staff must be able to
read a cry for help. A "no" or a withdrawal stops it at once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.engine.effects import Record
from bot.staff.routing import notify_staff
from bot.staff.texts import StaffTexts
from bot.store.models import ConsentRecord, OutboxItem, Staff, Survivor
from bot.store.queues import OUTBOX_PAYLOAD
from bot.store.uow import UnitOfWork

PURPOSES = ("nrm_referral", "police", "other_agencies", "machine_translation")
TRANSLATION = "machine_translation"
ONBOARDING_KIND = "consent"  # flows/onboarding.yaml: {type: record, kind: consent}
SETTINGS_PREFIX = "consent."  # flows/settings.yaml: {type: record, kind: consent.<purpose>}
YES = frozenset({"yes", "agree", "true", "1"})


@dataclass(frozen=True)
class ConsentAnswer:
    purpose: str
    granted: bool
    flow: str


def answer_in(record: Record) -> ConsentAnswer | None:
    """The consent answer a flow's `record` effect carries, if it is one."""
    granted = record.value.strip().lower() in YES
    if record.kind == ONBOARDING_KIND:
        return ConsentAnswer(TRANSLATION, granted, "onboarding")
    if record.kind.startswith(SETTINGS_PREFIX):
        purpose = record.kind[len(SETTINGS_PREFIX) :]
        if purpose in PURPOSES:
            return ConsentAnswer(purpose, granted, "settings")
    return None


async def record_consent(
    uow: UnitOfWork,
    now: datetime,
    survivor: Survivor,
    answer: ConsentAnswer,
    *,
    given_by: str,
) -> ConsentRecord:
    """Record one answer and make it take effect now."""
    if answer.purpose not in PURPOSES:
        raise ValueError(f"unknown consent purpose {answer.purpose!r}")
    row = ConsentRecord(
        survivor_id=survivor.id,
        purpose=answer.purpose,
        granted=answer.granted,
        given_by=given_by,
        language=survivor.language,
        flow=answer.flow,
        at=now,
    )
    uow.session.add(row)
    await uow.session.flush()
    uow.audit.record(
        given_by,
        "consent.given" if answer.granted else "consent.withdrawn",
        now,
        survivor_id=survivor.id,
        purpose=answer.purpose,
        flow=answer.flow,
    )
    if answer.purpose == TRANSLATION and not answer.granted:
        await stop_pending_translations(uow, survivor.id)
    return row


async def current(session: AsyncSession, survivor_id: int) -> dict[str, ConsentRecord]:
    """The consent in force for each purpose that has been answered."""
    stmt = (
        select(ConsentRecord)
        .where(ConsentRecord.survivor_id == survivor_id)
        .order_by(ConsentRecord.at, ConsentRecord.id)
    )
    latest: dict[str, ConsentRecord] = {}
    for row in (await session.execute(stmt)).scalars():
        latest[row.purpose] = row
    return latest


async def history(session: AsyncSession, survivor_id: int) -> list[ConsentRecord]:
    stmt = (
        select(ConsentRecord)
        .where(ConsentRecord.survivor_id == survivor_id)
        .order_by(ConsentRecord.at, ConsentRecord.id)
    )
    return list((await session.execute(stmt)).scalars())


async def translation_allowed(session: AsyncSession, survivor_id: int) -> bool:
    """False once the survivor said no to, or withdrew, machine translation."""
    stmt = (
        select(ConsentRecord.granted)
        .where(ConsentRecord.survivor_id == survivor_id, ConsentRecord.purpose == TRANSLATION)
        .order_by(ConsentRecord.at.desc(), ConsentRecord.id.desc())
        .limit(1)
    )
    latest = (await session.execute(stmt)).scalar_one_or_none()
    return latest is None or bool(latest)


async def stop_pending_translations(uow: UnitOfWork, survivor_id: int) -> int:
    """Relays of this survivor still waiting for the translator will never be sent to it."""
    stmt = select(OutboxItem).where(
        OutboxItem.survivor_id == survivor_id, OutboxItem.status == "preparing"
    )
    changed = 0
    for item in (await uow.session.execute(stmt)).scalars():
        payload = uow.outbox.payload(item)
        if payload.get("translate") is False:
            continue
        payload["translate"] = False
        item.payload_enc = uow.outbox.cipher.encrypt_text(json.dumps(payload), OUTBOX_PAYLOAD)
        changed += 1
    return changed


async def on_record(
    uow: UnitOfWork, now: datetime, survivor: Survivor, record: Record, texts: StaffTexts
) -> ConsentAnswer | None:
    """The conversation service's hook for `record` effects: store consent answers and tell
    the advocate about the ones that change what they may do (never any content)."""
    answer = answer_in(record)
    if answer is None:
        return None
    await record_consent(uow, now, survivor, answer, given_by="survivor")
    if answer.flow == "settings":
        key = "staff.consent_given" if answer.granted else "staff.consent_withdrawn"

        def build(staff: Staff) -> str:
            purpose = texts.text(f"staff.purpose.{answer.purpose}", staff.language)
            return texts.text(key, staff.language, case=survivor.case_code, purpose=purpose)

        await notify_staff(uow, survivor, now, kind="alert", build=build)
    return answer
