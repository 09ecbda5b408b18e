"""Erasure: nothing about the survivor is left in any table, on SQLite and on PostgreSQL, and
only a tombstone (case code and date) remains. From the command line and from the chat."""

from __future__ import annotations

from sqlalchemy import select

from bot.admin import operations as admin
from bot.bootstrap import LOCALES_DIR, Harbour
from bot.privacy.erasure import unreached_tables
from bot.settings import Settings
from bot.staff.texts import StaffTexts
from bot.store.models import ErasureTombstone, Identity
from bot.store.uow import UnitOfWork
from tests.harness import Recorder, add_advocate, enrol, onboard, say, start
from tests.security.database_scan import readable_dump, rows_with_survivor

GONE = "canary-erase-k4p9"
GONE_ADDRESS = "+447700900777"
KEPT = "canary-keep-z8w2"
KEPT_ADDRESS = "+447700900888"
ADVOCATE = "advocate:amira"


async def busy_case(harbour: Harbour, address: str, canary: str, advocate_id: int) -> str:
    """A survivor with history everywhere: relays, a reply, a case read-out, a safe word."""
    code = await enrol(harbour, address, advocate_id)
    await onboard(harbour, address)
    await say(harbour, address, f"I need help with my housing {canary} please")
    await say(harbour, ADVOCATE, f"#{code} I will call the council {canary}")
    await say(harbour, ADVOCATE, f"/case {code}")
    await say(harbour, address, "5")  # settings
    await say(harbour, address, "5")  # safe word
    await say(harbour, address, f"mango{canary}")
    return code


async def survivor_id_of(harbour: Harbour, address: str) -> int:
    async with UnitOfWork(harbour.db, harbour.cipher) as uow:
        identity = await uow.people.identity("local", address)
        assert identity is not None and identity.survivor_id is not None
        return identity.survivor_id


def test_every_table_is_covered_by_erasure() -> None:
    assert unreached_tables() == []


async def test_cli_erasure_leaves_no_trace_in_any_table(settings: Settings) -> None:
    harbour, sent = await start(settings)
    try:
        advocate = await add_advocate(harbour)
        await add_advocate(harbour, "root", role="admin")
        code = await busy_case(harbour, GONE_ADDRESS, GONE, advocate)
        await busy_case(harbour, KEPT_ADDRESS, KEPT, advocate)
        gone_id = await survivor_id_of(harbour, GONE_ADDRESS)
        before = await readable_dump(harbour.db, harbour.cipher)
        assert GONE in before and GONE_ADDRESS in before, "the scan must see the canaries"
        texts = StaffTexts.load(LOCALES_DIR / "staff")
        async with UnitOfWork(harbour.db, harbour.cipher) as uow:
            out = await admin.survivor_erase(uow, harbour.clock.now(), code, "root", texts)
        assert f"case {code} erased" in out
        await harbour.drain()
        after = await readable_dump(harbour.db, harbour.cipher)
        assert GONE not in after and GONE_ADDRESS not in after and "mango" + GONE not in after
        assert KEPT in after and KEPT_ADDRESS in after  # nobody else's data was touched
        assert await rows_with_survivor(harbour.db, gone_id) == {}
        async with UnitOfWork(harbour.db, harbour.cipher) as uow:
            stones = list((await uow.session.execute(select(ErasureTombstone))).scalars())
        assert [(s.case_code, s.erased_on) for s in stones] == [
            (code, harbour.clock.now().date().isoformat())
        ]
        told = [m.text for m in sent.to(ADVOCATE) if "deleted" in m.text]
        assert told == [texts.text("staff.erased", "en", case=code)]
    finally:
        await harbour.close()


async def test_only_an_admin_may_erase(settings: Settings) -> None:
    harbour, _sent = await start(settings)
    try:
        advocate = await add_advocate(harbour)
        await add_advocate(harbour, "duty1", role="duty")
        code = await enrol(harbour, GONE_ADDRESS, advocate)
        texts = StaffTexts.load(LOCALES_DIR / "staff")
        for who in ("amira", "duty1", "nobody"):
            async with UnitOfWork(harbour.db, harbour.cipher) as uow:
                try:
                    await admin.survivor_erase(uow, harbour.clock.now(), code, who, texts)
                except admin.AccessRefused:
                    pass
                else:
                    raise AssertionError(f"{who} erased a case")
        assert await survivor_id_of(harbour, GONE_ADDRESS)  # still there
    finally:
        await harbour.close()


async def chat_erasure(harbour: Harbour, sent: Recorder) -> tuple[str, int]:
    advocate = await add_advocate(harbour)
    code = await busy_case(harbour, GONE_ADDRESS, GONE, advocate)
    gone_id = await survivor_id_of(harbour, GONE_ADDRESS)
    await say(harbour, GONE_ADDRESS, "menu")
    await say(harbour, GONE_ADDRESS, "5")  # settings
    await say(harbour, GONE_ADDRESS, "7")  # delete my data
    assert "Are you sure" in sent.to(GONE_ADDRESS)[-1].text
    await say(harbour, GONE_ADDRESS, "1")  # yes, delete
    return code, gone_id


async def test_delete_my_data_in_chat_erases_at_once_and_tells_the_advocate(
    settings: Settings,
) -> None:
    harbour, sent = await start(settings)
    try:
        code, gone_id = await chat_erasure(harbour, sent)
        assert sent.to(GONE_ADDRESS)[-1].text.startswith("Done. Your messages and details")
        told = [m.text for m in sent.to(ADVOCATE)][-1]
        assert code in told and "deleted" in told and GONE not in told
        dump = await readable_dump(harbour.db, harbour.cipher)
        assert GONE not in dump
        assert await rows_with_survivor(harbour.db, gone_id) == {}
        # The farewell has gone out: the next tick deletes the detached identity too.
        await harbour.run_due()
        async with UnitOfWork(harbour.db, harbour.cipher) as uow:
            left = list((await uow.session.execute(select(Identity))).scalars())
        assert all(i.status != "erased" for i in left)
        assert GONE_ADDRESS not in await readable_dump(harbour.db, harbour.cipher)
        # Writing again starts afresh, as a new contact with a new case code.
        await say(harbour, GONE_ADDRESS, "hello")
        async with UnitOfWork(harbour.db, harbour.cipher) as uow:
            fresh = await uow.people.survivor(await survivor_id_of(harbour, GONE_ADDRESS))
        assert fresh is not None and fresh.status == "intake" and fresh.case_code != code
        assert fresh.advocate_id is None and GONE not in await readable_dump(
            harbour.db, harbour.cipher
        )
    finally:
        await harbour.close()
