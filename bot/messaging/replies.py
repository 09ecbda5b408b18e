"""Staff answering a survivor: `#CODE text`, or a Telegram reply to a relayed message.

The answer goes through the outbox as a "preparing" row; bot/messaging/relay.py translates it
(when the survivor allows machine translation) before it is sent. To a survivor who sent STOP
it is held (the outbox never sends it) until they send START, and the advocate is told so.
"""

from __future__ import annotations

from sqlalchemy import select

from bot.privacy.consent import translation_allowed
from bot.staff.caseload import survivor_identity
from bot.staff.commands import REPLY_TO_CASE, REPLY_TO_MESSAGE, StaffCommands, StaffRequest
from bot.staff.routing import PRIORITY_REPLY
from bot.store.models import Identity, OutboxItem, Survivor


def register(commands: StaffCommands) -> None:
    commands.register(REPLY_TO_CASE, _answer_case)
    commands.register(REPLY_TO_MESSAGE, _answer_replied)


async def _answer_case(
    commands: StaffCommands, request: StaffRequest, args: list[str], rest: str
) -> None:
    await answer(commands, request, args[0], rest)


async def _answer_replied(
    commands: StaffCommands, request: StaffRequest, args: list[str], rest: str
) -> None:
    survivor = await _replied_case(request, args[0])
    await answer(commands, request, survivor.case_code if survivor else "", rest)


async def answer(commands: StaffCommands, request: StaffRequest, code: str, text: str) -> None:
    """Queue `text` for the survivor with case `code`, if this staff member may answer them."""
    if not text:
        request.say("staff.help")
        return
    survivor = await commands.permitted(request, code, "reply")
    if survivor is None:
        return
    target = await survivor_identity(request.uow, survivor)
    held = False
    if target is None:  # STOP on every channel: the reply waits for START, never lost
        target = await _stopped_identity(request, survivor)
        held = target is not None
    if target is None:
        request.say("staff.unreachable", case=survivor.case_code)
        return
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
            "staff_language": request.staff.language,
            "survivor_language": survivor.language or "en",
            "case": survivor.case_code,
            "translate": await translation_allowed(request.uow.session, survivor.id),
            # Who wrote it, for the mark the survivor sees (bot/messaging/relay.py).
            "staff_name": request.staff.handle,
            "staff_role": request.staff.role,
        },
    )
    request.uow.messages.add(
        survivor_id=survivor.id,
        direction="out",
        channel=target.channel,
        body=text,
        now=request.now,
    )
    request.uow.audit.record(
        request.actor, "relay.to_survivor", request.now, survivor_id=survivor.id
    )
    if held:
        request.say("staff.reply_held", case=survivor.case_code, channel=target.channel)
    else:
        request.say("staff.reply_queued", case=survivor.case_code)


async def _stopped_identity(request: StaffRequest, survivor: Survivor) -> Identity | None:
    """The channel the survivor stopped most recently: the outbox holds a reply queued on it
    (status "held") until they send START there."""
    stopped = [
        i
        for i in await request.uow.people.identities_of_survivor(survivor.id)
        if i.status == "stopped"
    ]
    return max(stopped, key=lambda i: i.id) if stopped else None


async def _replied_case(request: StaffRequest, provider_id: str) -> Survivor | None:
    stmt = select(OutboxItem.survivor_id).where(
        OutboxItem.identity_id == request.identity.id, OutboxItem.provider_id == provider_id
    )
    survivor_id = (await request.uow.session.execute(stmt)).scalar_one_or_none()
    return await request.uow.people.survivor(survivor_id) if survivor_id else None
