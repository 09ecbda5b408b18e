"""Quick replies: saved answers with a human translation in every language, kept in
locales/ as "quick.<name>" (reviewed like every other string), sent as that reviewed text
and never machine-translated.

    /q CASE name        chat (and the console's quick-reply box)

The row goes through the relay like any reply (the sender mark, splitting, STOP holding),
with translation off and the survivor's language on both sides.
"""

from __future__ import annotations

from bot.engine import Bundle
from bot.engine.languages import SOURCE_LANGUAGE
from bot.staff.caseload import survivor_identity
from bot.staff.commands import StaffCommands, StaffRequest
from bot.staff.routing import PRIORITY_REPLY

PREFIX = "quick."


def names(bundle: Bundle) -> list[str]:
    """Every quick reply's name, from the English catalogue."""
    english = bundle.catalogue.entries.get(SOURCE_LANGUAGE, {})
    return sorted(key[len(PREFIX) :] for key in english if key.startswith(PREFIX))


def text_of(bundle: Bundle, name: str, language: str) -> tuple[str, bool]:
    """The quick reply in `language` and whether a native speaker has reviewed it."""
    entry = bundle.catalogue.entries.get(language, {}).get(PREFIX + name)
    if entry is None or not entry.text:
        return bundle.catalogue.text(SOURCE_LANGUAGE, PREFIX + name), False
    return entry.text, entry.reviewed


def register(commands: StaffCommands) -> None:
    commands.register("q", _quick)


async def _quick(commands: StaffCommands, request: StaffRequest, args: list[str], _: str) -> None:
    if len(args) != 2 or args[1].lower() not in names(commands.bundle):
        request.say("staff.quick_usage", names=", ".join(names(commands.bundle)))
        return
    name = args[1].lower()
    survivor = await commands.permitted(request, args[0], "reply")
    if survivor is None:
        return
    target = await survivor_identity(request.uow, survivor)
    if target is None:
        request.say("staff.unreachable", case=survivor.case_code)
        return
    language = survivor.language or SOURCE_LANGUAGE
    text, reviewed = text_of(commands.bundle, name, language)
    request.uow.outbox.add(
        channel=target.channel,
        identity_id=target.id,
        now=request.now,
        kind="reply",
        priority=PRIORITY_REPLY,
        survivor_id=survivor.id,
        status="preparing",
        payload={
            "direction": "to_survivor",
            "text": text,
            "original": text,
            "staff_language": language,  # the same on both sides: never machine-translated
            "survivor_language": language,
            "case": survivor.case_code,
            "translate": False,
            "quick_reply": name,
            "reviewed": reviewed,
            "staff_name": request.staff.handle,
            "staff_role": request.staff.role,
        },
    )
    request.uow.messages.add(
        survivor_id=survivor.id, direction="out", channel=target.channel, body=text,
        now=request.now,
    )  # fmt: skip
    request.uow.audit.record(
        request.actor, "relay.quick_reply", request.now, survivor_id=survivor.id, name=name
    )
    request.say("staff.quick_sent", case=survivor.case_code, name=name)
