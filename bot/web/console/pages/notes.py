"""Case notes: staff-only, sealed with the store's cipher, never sent to the survivor, and
every read audited. Reading needs "read_case"; writing needs "reply" (casework)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.store.console_models import CaseNote
from bot.store.models import Staff
from bot.web.console.auth import Page, signed_in
from bot.web.console.context import CasePanel
from bot.web.console.pages.case import CaseView, permitted, refused
from bot.web.console.render import redirect

NOTE = "case.note"
MAX_NOTE = 4000


async def load(view: CaseView) -> dict[str, Any]:
    uow = view.page.uow
    stmt = (
        select(CaseNote, Staff.handle)
        .join(Staff, Staff.id == CaseNote.staff_id)
        .where(CaseNote.survivor_id == view.survivor.id)
        .order_by(CaseNote.id.desc())
        .limit(50)
    )
    notes = [
        {"at": note.created_at, "by": handle, "text": uow.cipher.decrypt_text(note.body_enc, NOTE)}
        for note, handle in await uow.session.execute(stmt)
    ]
    uow.audit.record(
        f"staff:{view.page.staff.handle}", "case.notes_read", view.page.now,
        survivor_id=view.survivor.id, count=len(notes),
    )  # fmt: skip
    return {"notes": notes, "may_write": view.may_reply}


PANEL = CasePanel("notes", "panels/notes.html", load)


async def _add(request: Request, current: Page) -> Response:
    code = request.path_params["code"].upper()[:16]
    survivor = await permitted(current, code, "reply")
    if survivor is None:
        return refused(request, current, "note", await current.uow.people.survivor_by_code(code))
    text = current.form.get("note", "").strip()
    if not text:
        return redirect(request, f"/case/{code}", "The note was empty.")
    if len(text) > MAX_NOTE:
        return redirect(request, f"/case/{code}", f"A note is at most {MAX_NOTE} characters.")
    current.uow.session.add(
        CaseNote(
            survivor_id=survivor.id,
            staff_id=current.staff.id,
            body_enc=current.uow.cipher.encrypt_text(text, NOTE),
            created_at=current.now,
        )
    )
    current.uow.audit.record(
        f"staff:{current.staff.handle}", "case.note_added", current.now, survivor_id=survivor.id
    )
    return redirect(request, f"/case/{code}#notes", "Note saved (staff only).")


def routes() -> list[Route]:
    return [Route("/case/{code}/notes", signed_in(_add), methods=["POST"])]
