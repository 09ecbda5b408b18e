"""A second opinion on urgency, from the English machine translation of a relayed message.

The survivor's own words are checked first, in every language, before anything else happens.
When a translator is configured, the English translation made for the advocate is checked as
well, afterwards, so it never delays the first check. It alerts staff only when nothing was
raised for that survivor in the last few minutes (the original was probably caught already).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from bot.engine.urgent import PhraseBank, detect
from bot.ports import Translator
from bot.safety.escalation import Escalations
from bot.store.escalation_models import Escalation
from bot.store.uow import UnitOfWork

RECENT = timedelta(minutes=10)


class SecondOpinion:
    def __init__(self, bank: PhraseBank, translator: Translator, escalations: Escalations) -> None:
        self.bank = bank
        self.translator = translator
        self.escalations = escalations

    async def category(
        self, original: str, language: str | None, translation: str | None, target: str
    ) -> str | None:
        """The urgent category found in the English translation, if any."""
        if language == "en":
            return None  # the original was English, and has been checked already
        english = translation if target == "en" else None
        if english is None:
            english = await self.translator.translate(original, language, "en")
        hit = detect(self.bank, english, "en") if english else None
        return hit.category if hit else None

    async def raise_if_new(
        self, uow: UnitOfWork, now: datetime, survivor_id: int, category: str
    ) -> bool:
        recent = select(Escalation.id).where(
            Escalation.survivor_id == survivor_id, Escalation.created_at >= now - RECENT
        )
        if (await uow.session.execute(recent)).first() is not None:
            return False
        survivor = await uow.people.survivor(survivor_id)
        if survivor is None:
            return False
        await self.escalations.raise_(uow, now, survivor, f"translation:{category}", False)
        return True
