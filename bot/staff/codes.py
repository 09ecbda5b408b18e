"""One-time joining codes: a new one when the last has expired or was lost, which revokes the
old ones. `/code CASE` for the advocate; `harbour survivor code CASE` for an administrator."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update

from bot.staff.commands import StaffCommands, StaffRequest
from bot.store.models import EnrolmentCode, Survivor
from bot.store.uow import UnitOfWork


@dataclass(frozen=True)
class CodeSettings:
    valid_hours: int
    bot_username: str | None = None
    sms_number: str | None = None

    def link(self, code: str) -> str:
        if self.bot_username:
            return f"https://t.me/{self.bot_username}?start={code}"
        return f"/start {code}"

    def sms(self, code: str) -> str:
        return f"text JOIN {code}" + (f" to {self.sms_number}" if self.sms_number else "")


async def reissue(
    uow: UnitOfWork, now: datetime, survivor: Survivor, actor: str, valid_hours: int
) -> str:
    """Revoke every unused code of this survivor (they expire now) and issue a new one."""
    await uow.session.execute(
        update(EnrolmentCode)
        .where(
            EnrolmentCode.survivor_id == survivor.id,
            EnrolmentCode.used_at.is_(None),
            EnrolmentCode.expires_at > now,
        )
        .values(expires_at=now)
    )
    code = await uow.people.issue_code(survivor, now, timedelta(hours=valid_hours))
    uow.audit.record(actor, "enrolment.code_issued", now, survivor_id=survivor.id)
    return code


def register(commands: StaffCommands, settings: CodeSettings) -> None:
    async def code(commands: StaffCommands, request: StaffRequest, args: list[str], _: str) -> None:
        if len(args) != 1:
            request.say("staff.help")
            return
        survivor = await commands.permitted(request, args[0], "issue_code")
        if survivor is None:
            return
        if survivor.status == "closed":
            request.say("staff.case_closed", case=survivor.case_code)
            return
        new = await reissue(request.uow, request.now, survivor, request.actor, settings.valid_hours)
        request.say(
            "staff.code_issued",
            sensitive=True,
            case=survivor.case_code,
            code=new,
            hours=str(settings.valid_hours),
            link=settings.link(new),
            sms=settings.sms(new),
        )

    commands.register("code", code)
