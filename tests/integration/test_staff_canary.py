"""Staff free text is never stored in the clear: a script runs every staff chat command and
every administrator operation with a canary in whatever text it takes, then every column of
every table (and the SQLite file with its WAL) is searched for it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from bot.admin import cases
from bot.admin import operations as admin
from bot.bootstrap import Harbour, code_settings
from bot.ports import ManualClock
from bot.settings import Settings
from bot.staff.commands import ACK_BUTTON, REPLY_TO_CASE, REPLY_TO_MESSAGE
from bot.staff.texts import StaffTexts
from bot.store.escalation_models import Escalation
from bot.store.models import Appointment
from bot.store.uow import UnitOfWork
from tests.harness import add_advocate, enrol, onboard, say, start
from tests.integration.test_canaries import _dump

CANARY = "staffcanary-k3v9"
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


async def _one(harbour: Harbour, model: type[Escalation] | type[Appointment]) -> int:
    async with UnitOfWork(harbour.db, harbour.cipher) as uow:
        return int((await uow.session.execute(select(model.id))).scalars().first() or 0)


async def _escalation_code(harbour: Harbour) -> str:
    async with UnitOfWork(harbour.db, harbour.cipher) as uow:
        return str((await uow.session.execute(select(Escalation.code))).scalars().first())


async def _chat_script(harbour: Harbour, case: str, other: str) -> set[str]:
    """Every staff command, with the canary wherever text goes. Returns the names run."""
    ran: set[str] = set()

    async def staff(name: str, text: str, who: str = "advocate:amira") -> None:
        ran.add(name)
        await say(harbour, who, text)

    await staff(REPLY_TO_CASE, f"#{case} I will call you {CANARY}")
    await staff("q", f"/q {case} call_tomorrow")
    await staff("q", f"/q {case} {CANARY}")  # an unknown quick reply: the names, nothing kept
    await staff("cases", f"/cases {CANARY}")
    await staff("case", f"/case {case}")
    await staff("away", "/away 2026-12-24 bo")
    await staff("back", f"/back {CANARY}")
    await staff("appt", f"/appt {case} 2026-12-20 14:30 solicitor Room {CANARY}")
    appointment = await _one(harbour, Appointment)
    await staff("appts", f"/appts {case}")
    await staff("move", f"/move {appointment} 2026-12-21 10:00")
    await staff("cancel", f"/cancel {appointment}")
    await staff("checkin", f"/checkin {case} daily 18:00")
    await staff("code", f"/code {case}")
    await staff("wipe", f"/wipe {case}")
    await say(harbour, "s1", "he is here, he found me")
    code = await _escalation_code(harbour)
    await staff(ACK_BUTTON, f"ACK {code}")
    await staff("resolve", f"RESOLVE {code} {CANARY} safe now")
    await staff("resolve", f"RESOLVE E{CANARY[:4].upper()} {CANARY}", who="advocate:cy")
    await staff("handover", f"/handover {other} bo")
    await staff(REPLY_TO_MESSAGE, f"/nonsense {CANARY}")  # unknown command: help, nothing kept
    ran.add(REPLY_TO_MESSAGE)  # a Telegram reply: the same path as #CASE (test_telegram_*)
    return ran


async def _admin_script(harbour: Harbour, case: str, tmp_path: Path) -> None:
    """Every administrator operation; names and codes are all they take, the canary goes
    where free text could slip in (an unknown handle, a bad date)."""
    texts = StaffTexts.load(Path("locales/staff"))
    async with UnitOfWork(harbour.db, harbour.cipher) as uow:
        now = harbour.clock.now()
        await admin.staff_add(uow, now, "root", "admin", "en", None, None)
        await admin.staff_list(uow, now)
        await admin.staff_away(uow, now, "bo", "2026-12-24", "cy")
        await admin.survivor_list(uow, now)
        await cases.survivor_code(uow, now, case, code_settings(harbour.settings))
        await cases.survivor_close(uow, now, case, 90)
        await cases.survivor_reopen(uow, now, case)
        await admin.survivor_export(
            uow, now, case, "root", tmp_path / "out", harbour.bundle.catalogue
        )
        third = await admin.survivor_enrol(uow, now, "bo", "pl", "Europe/London", 72, None, None)
    for attempt in (f"cy{CANARY}", CANARY):
        async with UnitOfWork(harbour.db, harbour.cipher) as uow:
            try:
                await admin.staff_away(uow, now, "bo", attempt, None)
            except admin.AdminError:
                pass
    async with UnitOfWork(harbour.db, harbour.cipher) as uow:
        await admin.survivor_assign(uow, now, third.split()[1], "cy", harbour.bundle)
        await admin.survivor_erase(uow, now, third.split()[1], "root", texts)
        await cases.survivor_erased(uow, now)
        await admin.staff_deactivate(uow, now, "cy", None, True, harbour.bundle)
        await admin.staff_reactivate(uow, now, "cy")


async def test_no_staff_text_is_readable_in_any_table(settings: Settings, tmp_path: Path) -> None:
    harbour, _sent = await start(settings, clock=ManualClock(NOW))
    try:
        case = await enrol(harbour, "s1", await add_advocate(harbour, "amira"))
        other = await enrol(harbour, "s2", await _id(harbour, "amira"))
        await onboard(harbour, "s1")
        await add_advocate(harbour, "bo")
        await add_advocate(harbour, "cy")
        ran = await _chat_script(harbour, case, other)
        assert ran >= harbour.conversations.commands.names, "a new command joins the script"
        await _admin_script(harbour, case, tmp_path)
        await harbour.drain()
    finally:
        await harbour.close()
    dump = await _dump(settings)
    assert len(dump) > 1000
    assert CANARY.encode() not in dump
    assert CANARY.encode("utf-16-le") not in dump


async def _id(harbour: Harbour, handle: str) -> int:
    async with UnitOfWork(harbour.db, harbour.cipher) as uow:
        staff = await uow.people.staff_by_handle(handle)
        assert staff is not None
        return staff.id


async def test_plaintext_left_by_an_older_release_is_sealed_at_start(settings: Settings) -> None:
    from sqlalchemy import delete, insert

    from bot.store.models import AuditEvent, Meta
    from bot.store.records import unseal_detail
    from bot.store.sealing import RESOLUTION, SEALED

    harbour, _sent = await start(settings, clock=ManualClock(NOW))
    try:
        survivor_case = await enrol(harbour, "s1", await add_advocate(harbour, "amira"))
        async with UnitOfWork(harbour.db, harbour.cipher) as uow:  # as release 0006 wrote it
            survivor = await uow.people.survivor_by_code(survivor_case)
            assert survivor is not None
            await uow.session.execute(
                insert(AuditEvent).values(
                    at=NOW, actor="staff:amira", action="escalation.resolved",
                    detail={"resolution": CANARY}, note=CANARY,
                )
            )  # fmt: skip
            uow.session.add(
                Escalation(
                    code="EOLD1", survivor_id=survivor.id, reason="help_now", status="resolved",
                    created_at=NOW, resolution=CANARY,
                )
            )  # fmt: skip
            await uow.session.execute(delete(Meta).where(Meta.key == SEALED))
    finally:
        await harbour.close()
    assert CANARY.encode() in await _dump(settings)
    harbour, _sent = await start(settings, clock=ManualClock(NOW))
    try:
        assert CANARY.encode() not in await _dump(settings)
        async with UnitOfWork(harbour.db, harbour.cipher) as uow:
            event = (
                (await uow.session.execute(select(AuditEvent).where(AuditEvent.note.is_(None))))
                .scalars()
                .all()[-1]
            )
            assert unseal_detail(harbour.cipher, event) == {"resolution": CANARY, "note": CANARY}
            old = (await uow.session.execute(select(Escalation))).scalar_one()
            assert old.resolution is None and old.resolution_enc is not None
            assert harbour.cipher.decrypt_text(old.resolution_enc, RESOLUTION) == CANARY
    finally:
        await harbour.close()
