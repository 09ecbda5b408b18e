"""Changes made by an administrator in another process reach a running service at once:
an erasure is told to the advocate, and a deactivated advocate can do nothing from the very
next message. The service runs with its real background loops; the administrator uses a
store of their own, as `harbour survivor erase` or `harbour staff deactivate` would."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from bot.admin import operations as admin
from bot.bootstrap import Harbour
from bot.settings import Settings
from bot.staff.texts import StaffTexts
from bot.store.database import open_store
from bot.store.uow import UnitOfWork
from tests.harness import Recorder, add_advocate, enrol, onboard, start


async def until(check: Callable[[], bool], seconds: float = 20.0) -> bool:
    """Wait for the running service to do something (a generous bound, not a timing test)."""
    for _ in range(int(seconds / 0.05)):
        if check():
            return True
        await asyncio.sleep(0.05)
    return check()


async def accept(harbour: Harbour, address: str, text: str, provider_id: str) -> None:
    await harbour.inbound.accept("local", provider_id, {"from": address, "text": text})


async def test_an_erasure_in_another_process_reaches_the_advocate_at_once(
    settings: Settings,
) -> None:
    harbour, sent = await start(settings)
    try:
        case = await enrol(harbour, "s1", await add_advocate(harbour, "amira"))
        await add_advocate(harbour, "root", role="admin")
        await onboard(harbour, "s1")
        await harbour.start_background()
        db, cipher = await open_store(settings)  # the administrator's own process
        try:
            async with UnitOfWork(db, cipher) as uow:
                texts = StaffTexts.load(harbour_locales())
                await admin.survivor_erase(uow, harbour.clock.now(), case, "root", texts)
        finally:
            await db.close()
        assert await until(lambda: any(case in m.text for m in alerts(sent, "advocate:amira")))
        await accept(harbour, "advocate:amira", f"/case {case}", "after-erase")
        assert await until(lambda: "not possible" in sent.to("advocate:amira")[-1].text)
    finally:
        await harbour.close()


async def test_a_deactivation_in_another_process_counts_from_the_next_message(
    settings: Settings,
) -> None:
    harbour, sent = await start(settings)
    try:
        case = await enrol(harbour, "s1", await add_advocate(harbour, "amira"))
        await add_advocate(harbour, "duty1", role="duty")
        await harbour.start_background()
        db, cipher = await open_store(settings)
        try:
            async with UnitOfWork(db, cipher) as uow:
                await admin.staff_deactivate(
                    uow, harbour.clock.now(), "amira", None, True, harbour.bundle
                )
        finally:
            await db.close()
        await accept(harbour, "advocate:amira", f"#{case} still here?", "m1")
        assert await until(lambda: bool(sent.to("advocate:amira")))
        assert "not possible" in sent.to("advocate:amira")[-1].text
        assert not [m for m in sent.to("s1") if m.kind == "reply"]
        await accept(harbour, "staff:duty1", f"#{case} the duty team here", "m2")
        assert await until(lambda: any(m.kind == "reply" for m in sent.to("s1")))
    finally:
        await harbour.close()


def alerts(sent: Recorder, address: str) -> list:  # type: ignore[type-arg]
    return [m for m in sent.to(address) if m.kind == "alert"]


def harbour_locales():  # type: ignore[no-untyped-def]
    from bot.bootstrap import LOCALES_DIR

    return LOCALES_DIR / "staff"
