"""Safety on a phone someone else may read: the survivor's /clear and the advocate's wipe.

Both queue one outbox row of kind "clear" on the survivor's Telegram chat. The Telegram
sender deletes the listed messages one at a time (Telegram allows it for 48 hours, for the
survivor's messages as well as the bot's) and then sends the report that was rendered here,
in the reader's language, with the number that could not be deleted filled in. The row goes
ahead of everything else, because someone may be looking at the phone right now.

The history Harbour keeps for the case is not touched: this is about what the phone shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.staff.routing import PRIORITY_URGENT, staff_identity
from bot.staff.texts import StaffTexts
from bot.store.models import Identity, Staff, Survivor
from bot.store.telegram_history import TelegramHistory
from bot.store.uow import UnitOfWork

CHANNEL = "telegram"
# Telegram lets a bot delete messages for 48 hours; a little less, so what is tried is
# still inside the window when the row is sent.
CLEAR_WINDOW = timedelta(hours=48) - timedelta(minutes=5)


@dataclass(frozen=True)
class Report:
    """Where the outcome is told and in which words ({count}: not deleted, {deleted})."""

    chat_id: int
    all_deleted: str
    some_left: str


async def queue_clear(
    uow: UnitOfWork,
    now: datetime,
    identity: Identity,
    *,
    report: Report | None,
    also: tuple[int, ...] = (),
) -> int:
    """Queue deletion of the last 48 hours of this Telegram chat, both sides; `also` adds
    message ids not in the history yet (the /clear message itself). Returns how many."""
    if identity.channel != CHANNEL or identity.survivor_id is None:
        raise ValueError("only a survivor's Telegram chat can be cleared")
    chat_id = int(uow.people.address_of(identity))
    since = now - CLEAR_WINDOW
    history = TelegramHistory.of(uow)
    ids = set(also)
    ids.update(await history.bot_message_ids(identity.id, since))
    ids.update(await history.survivor_message_ids(identity.survivor_id, chat_id, since))
    payload: dict[str, object] = {
        "text": "",
        "message_ids": sorted(ids, reverse=True),  # newest, most revealing, first
        "sensitive": True,
    }
    if report is not None:
        payload.update(
            report_chat=report.chat_id,
            report_all=report.all_deleted,
            report_some=report.some_left,
        )
    uow.outbox.add(
        channel=CHANNEL,
        identity_id=identity.id,
        payload=payload,
        now=now,
        kind="clear",
        priority=PRIORITY_URGENT,
        survivor_id=identity.survivor_id,
    )
    return len(ids)


async def wipe_survivor_chat(
    uow: UnitOfWork,
    now: datetime,
    survivor: Survivor,
    requested_by: Staff,
    texts: StaffTexts,
) -> int:
    """An advocate reports the survivor's phone lost: delete what the bot can from every
    Telegram chat of theirs, showing nothing on the phone. The advocate hears the outcome
    in their own Telegram chat once it is done; on another channel they are told now what
    was queued. Audited. Returns how many messages were queued for deletion."""
    chats = [
        i
        for i in await uow.people.identities_of_survivor(survivor.id)
        if i.channel == CHANNEL and i.status not in ("blocked", "invalid")
    ]
    own = await staff_identity(uow, requested_by)
    language = requested_by.language
    case = survivor.case_code
    report = None
    if own is not None and own.channel == CHANNEL:
        report = Report(
            chat_id=int(uow.people.address_of(own)),
            all_deleted=texts.text("staff.wipe_done", language, case=case, deleted="{deleted}"),
            some_left=texts.text(
                "staff.wipe_partial", language, case=case, deleted="{deleted}", count="{count}"
            ),
        )
    queued = 0
    for identity in chats:
        queued += await queue_clear(uow, now, identity, report=report)
    if own is not None and (report is None or not chats):
        key = "staff.wipe_queued" if chats else "staff.wipe_nothing"
        uow.outbox.add(
            channel=own.channel,
            identity_id=own.id,
            payload={"text": texts.text(key, language, case=case, count=str(queued))},
            now=now,
            kind="message",
            priority=PRIORITY_URGENT,
            survivor_id=survivor.id,
        )
    uow.audit.record(
        f"staff:{requested_by.handle}",
        "telegram.wipe_requested",
        now,
        survivor_id=survivor.id,
        chats=len(chats),
        messages=queued,
    )
    return queued
