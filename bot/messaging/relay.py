"""Translating relayed messages, off the hot path.

A relayed message (survivor to advocate, or an advocate's reply) is queued in the outbox as
'preparing'. This worker detects the language, translates within the deadline, writes the final
text and releases the row to the sender as 'pending'. The sender never waits for a translator,
so an escalation is never stuck behind one. If translation fails or times out, the original goes
out marked untranslated. If the process dies mid-way, the row is still 'preparing' and is picked
up again; the status change is a compare-and-set, so it is released only once.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import select, update

from bot.engine.render import fill
from bot.ports import Clock, Translator
from bot.safety.second_opinion import SecondOpinion
from bot.staff.texts import StaffTexts
from bot.store.crypto import Cipher
from bot.store.database import Database
from bot.store.models import OutboxItem
from bot.store.parts import split_payload
from bot.store.queues import OUTBOX_PAYLOAD
from bot.store.uow import UnitOfWork
from bot.translation.language_detection import LanguageDetector

log = logging.getLogger(__name__)

PREPARING = "preparing"
MAX_PARALLEL = 8


def sender_mark(payload: dict[str, Any], mode: str, text: Callable[[str], str]) -> str | None:
    """ "Amira" (the first name: the handle up to a dot, dash or underscore) or the role in
    the survivor's language ("Your advocate"); None for a row queued before marks existed."""
    name, role = payload.get("staff_name"), payload.get("staff_role")
    if not isinstance(name, str) or not isinstance(role, str):
        return None
    if mode == "role":
        return text(f"relay.role.{'advocate' if role == 'advocate' else 'team'}")
    first = name.replace("_", ".").replace("-", ".").split(".")[0]
    return first[:1].upper() + first[1:]


class RelayPreparer:
    def __init__(
        self,
        db: Database,
        cipher: Cipher,
        translator: Translator,
        detector: LanguageDetector,
        texts: StaffTexts,
        survivor_texts: Callable[[str, str], str],
        clock: Clock,
        released: asyncio.Event,
    ) -> None:
        self.db = db
        self.cipher = cipher
        self.translator = translator
        self.detector = detector
        self.texts = texts
        self.survivor_texts = survivor_texts  # (key, language) -> text, from the catalogues
        self.clock = clock
        self.released = released
        self.second_opinion: SecondOpinion | None = None  # set when a translator is configured
        self.reply_mark = "name"  # or "role": settings.reply_mark
        self._busy: set[int] = set()
        self._limit = asyncio.Semaphore(MAX_PARALLEL)

    async def prepare_due(self) -> int:
        """Prepare every waiting row (in parallel, bounded). Returns how many were released."""
        async with UnitOfWork(self.db, self.cipher) as uow:
            stmt = select(OutboxItem).where(OutboxItem.status == PREPARING).order_by(OutboxItem.id)
            rows = [
                (r.id, uow.outbox.payload(r)) for r in (await uow.session.execute(stmt)).scalars()
            ]
        todo = [(item_id, p) for item_id, p in rows if item_id not in self._busy]
        self._busy.update(item_id for item_id, _ in todo)
        try:
            results = await asyncio.gather(*(self._prepare(i, p) for i, p in todo))
        finally:
            self._busy.difference_update(item_id for item_id, _ in todo)
        return sum(results)

    async def _prepare(self, item_id: int, payload: dict[str, Any]) -> bool:
        async with self._limit:
            try:
                payload = await self._compose(payload)
            except Exception as exc:  # never lose the message: send the original
                log.warning("relay %d: preparing failed (%s)", item_id, type(exc).__name__)
                payload = {**payload, "translation": None}
        async with UnitOfWork(self.db, self.cipher) as uow:
            now = self.clock.now()
            row = await uow.session.get(OutboxItem, item_id)
            if row is None:
                return False
            # A text too long for one message goes as several rows, never cut (parts.py).
            first, *more = split_payload(row.channel, row.kind, payload)
            blob = self.cipher.encrypt_text(json.dumps(first), OUTBOX_PAYLOAD)
            stmt = (
                update(OutboxItem)
                .where(OutboxItem.id == item_id, OutboxItem.status == PREPARING)
                .values(status="pending", payload_enc=blob, next_attempt_at=now)
                .execution_options(synchronize_session=False)
            )
            released = (await uow.session.execute(stmt)).rowcount == 1  # type: ignore[attr-defined]
            for part in more if released else []:
                uow.outbox.add(
                    channel=row.channel,
                    identity_id=row.identity_id,
                    payload=part,
                    now=now,
                    kind=row.kind,
                    priority=row.priority,
                    survivor_id=row.survivor_id,
                    status="pending",
                )
            category = payload.get("urgent_in_translation")
            if released and category and self.second_opinion is not None:
                if row.survivor_id is not None:
                    await self.second_opinion.raise_if_new(uow, now, row.survivor_id, category)
        if released:
            self.released.set()
        return bool(released)

    async def _compose(self, payload: dict[str, Any]) -> dict[str, Any]:
        original = str(payload.get("original", ""))
        if payload.get("direction") == "to_survivor":
            return await self._to_survivor(payload, original)
        prior = payload.get("language") or None
        language = await asyncio.to_thread(self.detector.detect, original, prior)
        target = str(payload.get("staff_language") or "en")
        translation = None
        if payload.get("translate", True):
            translation = await self.translator.translate(original, language, target)
        if self.second_opinion is not None and payload.get("translate", True):
            payload = {
                **payload,
                "urgent_in_translation": await self.second_opinion.category(
                    original, language, translation, target
                ),
            }
        case, shown = str(payload.get("case", "")), language or "?"
        if language == target:
            text = self.texts.text(
                "staff.relay_plain", target, case=case, language=shown, original=original
            )
        elif translation:
            text = self.texts.text(
                "staff.relay_translated",
                target,
                case=case,
                language=shown,
                translation=translation,
                original=original,
            )
        else:
            text = self.texts.text(
                "staff.relay_untranslated", target, case=case, language=shown, original=original
            )
        return {**payload, "text": text, "language": language or "", "translation": translation}

    async def _to_survivor(self, payload: dict[str, Any], original: str) -> dict[str, Any]:
        source = str(payload.get("staff_language") or "en")
        target = str(payload.get("survivor_language") or "en")
        translation = None
        if payload.get("translate", True) and source != target:
            translation = await self.translator.translate(original, source, target)
        if translation or source == target:
            text = translation or original
        else:
            note = self.survivor_texts("relay.untranslated", target)
            text = f"{original}\n\n({note})"
        return {**payload, "text": self._marked(payload, text, target), "translation": translation}

    def _marked(self, payload: dict[str, Any], text: str, language: str) -> str:
        """The reply marked with who wrote it, so the survivor can tell it from the bot."""
        sender = sender_mark(
            payload, self.reply_mark, lambda key: self.survivor_texts(key, language)
        )
        if sender is None:
            return text
        return fill(self.survivor_texts("relay.from", language), {"sender": sender, "text": text})

    async def run(self, wake: asyncio.Event, stop: asyncio.Event, idle: float = 1.0) -> None:
        while not stop.is_set():
            try:
                await self.prepare_due()
            except Exception:
                log.exception("relay preparation pass failed; retrying shortly")
            wake.clear()
            try:
                await asyncio.wait_for(wake.wait(), timeout=idle)
            except TimeoutError:
                pass
