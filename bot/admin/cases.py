"""Case lifecycle for administrators: close and reopen a case, a new one-time code, and the
list of erasure tombstones. Each writes an audit event (bot/cli/survivor.py parses)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update

from bot.admin.operations import ACTOR, AdminError, Table, join_lines, survivor_by_code
from bot.staff.codes import CodeSettings, reissue
from bot.store.models import CheckinPlan, EnrolmentCode, ErasureTombstone
from bot.store.uow import UnitOfWork


async def survivor_code(uow: UnitOfWork, now: datetime, code: str, codes: CodeSettings) -> str:
    """A new one-time code for a survivor whose code expired or was lost; old ones stop working."""
    survivor = await survivor_by_code(uow, code)
    if survivor.status == "closed":
        raise AdminError(f"case {survivor.case_code} is closed: reopen it first")
    new = await reissue(uow, now, survivor, ACTOR, codes.valid_hours)
    return f"case {survivor.case_code}: older codes revoked\n" + join_lines(codes, new)


async def survivor_close(uow: UnitOfWork, now: datetime, code: str, keep_days: int) -> str:
    """Close a case: nothing more is planned for the survivor, and it is erased once it has
    been quiet for `retention_closed_case_days`. What they write still reaches staff."""
    survivor = await survivor_by_code(uow, code)
    if survivor.status == "closed":
        raise AdminError(f"case {survivor.case_code} is already closed")
    survivor.status = "closed"
    await uow.session.execute(  # unused codes stop working: nobody joins a closed case
        update(EnrolmentCode)
        .where(EnrolmentCode.survivor_id == survivor.id, EnrolmentCode.used_at.is_(None))
        .where(EnrolmentCode.expires_at > now)
        .values(expires_at=now)
    )
    await uow.session.execute(
        update(CheckinPlan).where(CheckinPlan.survivor_id == survivor.id).values(active=False)
    )
    uow.audit.record(ACTOR, "case.closed", now, survivor_id=survivor.id)
    return (
        f"case {survivor.case_code} closed; it is erased after {keep_days} days without "
        "activity unless reopened"
    )


async def survivor_reopen(uow: UnitOfWork, now: datetime, code: str) -> str:
    survivor = await survivor_by_code(uow, code)
    if survivor.status != "closed":
        raise AdminError(f"case {survivor.case_code} is not closed")
    joined = bool(await uow.people.identities_of_survivor(survivor.id))
    survivor.status = "active" if joined else "invited"
    uow.audit.record(ACTOR, "case.reopened", now, survivor_id=survivor.id)
    hint = "" if joined else " (not joined yet: issue a code with 'survivor code')"
    return f"case {survivor.case_code} reopened{hint}"


async def survivor_erased(uow: UnitOfWork, now: datetime) -> str:
    """The erasure tombstones: a case code and a date each, nothing more."""
    stmt = select(ErasureTombstone).order_by(ErasureTombstone.erased_on, ErasureTombstone.id)
    rows = [(t.case_code, t.erased_on) for t in (await uow.session.execute(stmt)).scalars()]
    uow.audit.record(ACTOR, "survivor.listed_erased", now, count=len(rows))
    return Table(("case", "erased on"), rows).render()
