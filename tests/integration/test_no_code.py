"""Someone without a code is never stuck: the menu at once, their words reach the duty team,
the duty team's replies come back, and an admin assigning an advocate links them."""

from __future__ import annotations

from bot.admin import operations as admin
from bot.settings import Settings
from bot.store.models import Survivor
from bot.store.uow import UnitOfWork
from tests.harness import add_advocate, say, start


async def test_no_code_reaches_duty_and_replies_come_back(settings: Settings) -> None:
    harbour, sent = await start(settings)
    try:
        await add_advocate(harbour)
        await add_advocate(harbour, "duty1", role="duty")
        for text in ("hello", "1", "1", "1"):  # English; safe; consent; (code asked)
            await say(harbour, "stranger", text)
        await say(harbour, "stranger", "I don't have a code")
        keys = [m.meta.get("key") for m in sent.to("stranger")]
        assert keys[-2:] == ["onboarding.no_code", "menu.main"]
        await say(harbour, "stranger", "menu")
        assert sent.to("stranger")[-1].meta.get("key") == "menu.main", "menu works at once"
        await say(harbour, "stranger", "I need somewhere safe to stay tonight")
        (relay,) = [m for m in sent.to("staff:duty1") if m.kind == "relay"]
        case = relay.meta["case"]
        await say(harbour, "staff:duty1", f"#{case} We can help, are you safe now?")
        assert [m.text for m in sent.to("stranger") if m.kind == "reply"] == [
            "Duty1: We can help, are you safe now?"
        ]
        async with UnitOfWork(harbour.db, harbour.cipher) as uow:
            await admin.survivor_assign(uow, harbour.clock.now(), case, "amira", harbour.bundle)
        async with UnitOfWork(harbour.db, harbour.cipher) as uow:
            survivor = await uow.people.survivor_by_code(case)
            assert isinstance(survivor, Survivor) and survivor.status == "active"
        await say(harbour, "stranger", "Thank you, who is my advocate now?")
        relays = [m for m in sent.to("advocate:amira") if m.kind == "relay"]
        assert relays and "who is my advocate" in relays[-1].meta["original"]
    finally:
        await harbour.close()
