"""Administrator commands: staff, survivors, enrolment. Each one writes an audit event.

These functions take an open unit of work and return what to print; `bot/cli/main.py` parses the
arguments and prints. A bad argument raises AdminError with a message for the terminal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.engine import SUPPORTED_LANGUAGES, Bundle
from bot.engine.catalogue import Catalogue
from bot.phones import PhoneNumberError, parse_phone
from bot.staff.caseload import hand_over, may_cover
from bot.staff.codes import CodeSettings
from bot.staff.texts import StaffTexts
from bot.store.models import Staff, Survivor
from bot.store.uow import UnitOfWork

ROLES = ("advocate", "duty", "admin")
ACTOR = "cli"


class AdminError(Exception):
    """A bad argument: the message says what to fix."""


@dataclass(frozen=True)
class Table:
    headers: tuple[str, ...]
    rows: Sequence[tuple[str, ...]]

    def render(self) -> str:
        widths = [
            max([len(h), *(len(r[i]) for r in self.rows)]) for i, h in enumerate(self.headers)
        ]
        lines = ["  ".join(h.ljust(w) for h, w in zip(self.headers, widths, strict=True))]
        lines.append("  ".join("-" * w for w in widths))
        lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in self.rows]
        return "\n".join(lines)


def check_language(language: str) -> str:
    if language not in SUPPORTED_LANGUAGES:
        raise AdminError(
            f"unknown language {language!r}; use one of {', '.join(SUPPORTED_LANGUAGES)}"
        )
    return language


def check_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise AdminError(f"unknown time zone {name!r} (e.g. Europe/London)") from None
    return name


def check_handle(handle: str) -> str:
    if not (1 <= len(handle) <= 32) or not handle.replace("-", "").replace("_", "").isalnum():
        raise AdminError("a staff handle is 1-32 letters, digits, '-' or '_'")
    return handle.lower()


async def _staff(uow: UnitOfWork, handle: str) -> Staff:
    staff = await uow.people.staff_by_handle(handle.lower())
    if staff is None:
        raise AdminError(f"no staff member {handle!r}")
    return staff


async def survivor_by_code(uow: UnitOfWork, code: str) -> Survivor:
    survivor = await uow.people.survivor_by_code(code)
    if survivor is None or survivor.status in ("merged", "erased"):
        raise AdminError(f"no case {code!r}")
    return survivor


async def staff_add(
    uow: UnitOfWork,
    now: datetime,
    handle: str,
    role: str,
    language: str,
    telegram: str | None,
    phone: str | None,
) -> str:
    handle = check_handle(handle)
    if role not in ROLES:
        raise AdminError(f"unknown role {role!r}; use one of {', '.join(ROLES)}")
    check_language(language)
    if telegram is not None and not telegram.lstrip("-").isdigit():
        raise AdminError("--telegram takes the numeric Telegram chat id")
    try:
        number = parse_phone(phone) if phone else None
    except PhoneNumberError as exc:
        raise AdminError(f"--phone: {exc}") from None
    if await uow.people.staff_by_handle(handle) is not None:
        raise AdminError(f"staff member {handle!r} already exists")
    staff = await uow.people.add_staff(handle, role, language, now)
    for channel, address in (("telegram", telegram), ("sms", number)):
        if address is not None:
            if await uow.people.identity(channel, address) is not None:
                raise AdminError(f"that {channel} address already belongs to someone")
            await uow.people.add_identity(channel, address, now, staff=staff)
    prefix = "advocate" if role == "advocate" else "staff"
    await uow.people.add_identity("local", f"{prefix}:{handle}", now, staff=staff)
    uow.audit.record(ACTOR, "staff.added", now, handle=handle, role=role)
    return f"added {role} {handle}"


async def staff_list(uow: UnitOfWork, now: datetime) -> str:
    rows = []
    for staff in await uow.people.all_staff():
        channels = sorted({i.channel for i in await uow.people.identities_of_staff(staff.id)})
        away = staff.away_until and staff.away_until > now
        cover = await uow.people.staff(staff.cover_id) if staff.cover_id else None
        status = "inactive" if not staff.active else ("away" if away else "active")
        rows.append(
            (
                staff.handle,
                staff.role,
                staff.language,
                status,
                cover.handle if cover and away else "",
                ",".join(channels),
            )
        )
    uow.audit.record(ACTOR, "staff.listed", now, count=len(rows))
    return Table(("handle", "role", "lang", "status", "cover", "channels"), rows).render()


async def staff_deactivate(
    uow: UnitOfWork, now: datetime, handle: str, to: str | None, to_duty: bool, bundle: Bundle
) -> str:
    """Deactivate at once, and move every case explicitly: to a named advocate (the survivor
    gets a warm introduction) or to the duty team (unassigned, which duty may read and answer).
    Nobody keeps a pointer to them: their own cover and anyone they covered are cleared."""
    staff = await _staff(uow, handle)
    if not staff.active:
        raise AdminError(f"{staff.handle} is already deactivated")
    caseload = await uow.people.caseload([staff.id])
    receiver: Staff | None = None
    if to is not None:
        receiver = await _staff(uow, to)
        if receiver.id == staff.id or receiver.role != "advocate" or not receiver.active:
            raise AdminError(f"--to must name another active advocate, not {to!r}")
    elif caseload and not to_duty:
        raise AdminError(
            f"{staff.handle} has {len(caseload)} case(s): say where they go, "
            "with --to HANDLE (an advocate) or --to-duty"
        )
    staff.active, staff.away_until, staff.cover_id = False, None, None
    for colleague in await uow.people.all_staff():
        if colleague.cover_id == staff.id:
            colleague.cover_id = None  # their absence is no longer covered by someone gone
    for survivor in caseload:
        if receiver is not None:
            await hand_over(uow, now, survivor, receiver, ACTOR, bundle)
        else:
            survivor.advocate_id = None
            uow.audit.record(
                ACTOR, "case.handover", now, survivor_id=survivor.id, to="duty", from_staff=staff.id
            )
    uow.audit.record(ACTOR, "staff.deactivated", now, handle=staff.handle, moved=len(caseload))
    where = receiver.handle if receiver is not None else "the duty team"
    note = f"; {len(caseload)} case(s) moved to {where}" if caseload else ""
    return f"deactivated {staff.handle}{note}"


async def staff_reactivate(uow: UnitOfWork, now: datetime, handle: str) -> str:
    """Back at work, with no cases: assign them again with `survivor assign`."""
    staff = await _staff(uow, handle)
    if staff.active:
        raise AdminError(f"{staff.handle} is already active")
    staff.active = True
    uow.audit.record(ACTOR, "staff.reactivated", now, handle=staff.handle)
    return f"reactivated {staff.handle} (no cases: give them cases with 'survivor assign')"


async def staff_away(
    uow: UnitOfWork, now: datetime, handle: str, until: str, cover: str | None
) -> str:
    staff = await _staff(uow, handle)
    if not staff.active:
        raise AdminError(f"{staff.handle} is deactivated")
    try:
        end = datetime.strptime(until, "%Y-%m-%d").replace(tzinfo=UTC) + timedelta(days=1)
    except ValueError:
        raise AdminError("--until takes a date as YYYY-MM-DD") from None
    if end <= now:
        raise AdminError("--until must be in the future")
    if cover is not None:
        colleague = await _staff(uow, cover)
        if not may_cover(colleague, staff):
            raise AdminError("--cover must be another active advocate or duty staff member")
        staff.cover_id = colleague.id
    staff.away_until = end
    uow.audit.record(ACTOR, "staff.away", now, handle=staff.handle, cover=cover)
    return f"{staff.handle} is away until {until} (inclusive)" + (
        f", covered by {cover}" if cover else ""
    )


async def survivor_enrol(
    uow: UnitOfWork,
    now: datetime,
    advocate: str,
    language: str,
    timezone: str,
    valid_hours: int,
    bot_username: str | None,
    sms_number: str | None,
) -> str:
    check_language(language)
    check_timezone(timezone)
    staff = await _staff(uow, advocate)
    if staff.role != "advocate" or not staff.active:
        raise AdminError(f"{advocate!r} is not an active advocate")
    survivor = await uow.people.new_survivor(
        now, status="invited", language=language, timezone=timezone, advocate_id=staff.id
    )
    code = await uow.people.issue_code(survivor, now, timedelta(hours=valid_hours))
    uow.audit.record(
        ACTOR, "survivor.enrolled", now, survivor_id=survivor.id, advocate=staff.handle
    )
    codes = CodeSettings(valid_hours, bot_username, sms_number)
    return f"case {survivor.case_code} enrolled with {staff.handle} ({language})\n" + join_lines(
        codes, code
    )


def join_lines(codes: CodeSettings, code: str) -> str:
    return (
        f"one-time code: {code} (valid {codes.valid_hours} h, works once)\n"
        f"Telegram: {codes.link(code)}\n"
        f"SMS: {codes.sms(code)}"
    )


async def survivor_assign(
    uow: UnitOfWork, now: datetime, code: str, advocate: str, bundle: Bundle
) -> str:
    survivor = await survivor_by_code(uow, code)
    staff = await _staff(uow, advocate)
    if staff.role != "advocate" or not staff.active:
        raise AdminError(f"{advocate!r} is not an active advocate")
    await hand_over(uow, now, survivor, staff, ACTOR, bundle)
    return f"case {survivor.case_code} is now with {staff.handle}"


async def survivor_list(uow: UnitOfWork, now: datetime) -> str:
    rows = []
    for survivor in await uow.people.all_survivors():
        advocate = await uow.people.staff(survivor.advocate_id) if survivor.advocate_id else None
        channels = sorted({i.channel for i in await uow.people.identities_of_survivor(survivor.id)})
        last = f"{survivor.last_inbound_at:%Y-%m-%d %H:%M}" if survivor.last_inbound_at else "-"
        rows.append(
            (
                survivor.case_code,
                survivor.status,
                survivor.language or "-",
                advocate.handle if advocate else "(duty)",
                ",".join(channels) or "-",
                last,
            )
        )
    uow.audit.record(ACTOR, "survivor.listed", now, count=len(rows))
    return Table(("case", "status", "lang", "advocate", "channels", "last message"), rows).render()


# -- privacy: subject access export and erasure (admins only, named with --by) -------------


async def privacy_officer(uow: UnitOfWork, now: datetime, handle: str, survivor: Survivor) -> Staff:
    """The admin carrying out a survivor's request. Deny by default: anyone else is refused
    (the command line audits the refusal in its own transaction, which this one is not)."""
    from bot.staff.case_access import case_access

    staff = await uow.people.staff_by_handle(handle.lower())
    if staff is None or not await case_access(uow, staff, survivor, "manage", now):
        raise AccessRefused(f"{handle!r} is not an active admin: only admins export or erase")
    return staff


class AccessRefused(AdminError):
    """The person named is not allowed to do this. Audited."""


async def survivor_export(
    uow: UnitOfWork, now: datetime, code: str, by: str, directory: Path, catalogue: Catalogue
) -> str:
    from bot.privacy.export import build_export, write_export
    from bot.privacy.export_text import to_text

    survivor = await survivor_by_code(uow, code)
    staff = await privacy_officer(uow, now, by, survivor)
    export = await build_export(uow, now, survivor, actor=f"cli:{staff.handle}")
    languages = dict.fromkeys([survivor.language or "en", "en"])  # theirs first, then English
    texts = {lang: to_text(export, partial(catalogue.text, lang)) for lang in languages}
    try:
        json_path, text_paths = write_export(export, directory, texts)
    except OSError as exc:  # nothing is half-written: the audit event rolls back with it
        raise AdminError(f"--out {directory}: {exc.strerror or type(exc).__name__}") from None
    listed = "\n".join(f"text: {path}" for path in text_paths)
    return (
        f"case {survivor.case_code}: {len(export.messages)} messages exported\n"
        f"JSON: {json_path}\n{listed}\n"
        "These files hold the survivor's data in the clear: hand them over securely, "
        "then delete them."
    )


async def survivor_erase(
    uow: UnitOfWork, now: datetime, code: str, by: str, texts: StaffTexts
) -> str:
    from bot.privacy.erasure import erase

    survivor = await survivor_by_code(uow, code)
    staff = await privacy_officer(uow, now, by, survivor)
    report = await erase(uow, now, survivor, actor=f"cli:{staff.handle}", texts=texts)
    counts = ", ".join(f"{table} {count}" for table, count in sorted(report.rows.items()))
    return (
        f"case {report.case_code} erased on {report.erased_on}: {report.total} rows deleted "
        f"({counts}). Only a tombstone with the case code and the date is left."
    )
