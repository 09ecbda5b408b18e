"""Media (Telegram's, and MMS pictures and files) is passed on to the advocate, and on
Telegram /clear wipes the phone's copy of the chat. Neither reaches the engine."""

from __future__ import annotations

from collections.abc import Callable

from bot.engine import Bundle
from bot.engine.effects import Escalate, Say
from bot.engine.run import MAX_INPUT_CHARS
from bot.engine.urgent import detect
from bot.messaging.media import Media, pass_media_on
from bot.messaging.staff_notices import StaffNotices
from bot.messaging.turn import Turn
from bot.ports import InboundMessage
from bot.safety.telegram_safety import Report, queue_clear


async def media_or_clear(
    turn: Turn,
    inbound: InboundMessage,
    text: str,
    bundle: Bundle,
    staff: StaffNotices,
    say: Callable[[Turn, Say], object],
) -> bool:
    """Telegram media, MMS media and /clear never reach the engine. False: not one of those."""
    if inbound.kind == "media" and inbound.meta.get("media_urls"):  # an MMS
        await _media(turn, inbound, text, bundle, staff, say)
        return True
    if turn.channel.name != "telegram":
        return False
    if inbound.kind == "media":
        await _media(turn, inbound, text, bundle, staff, say)
        return True
    if inbound.kind == "command" and text.split(" ", 1)[0].lower() == "/clear":
        await _clear(turn, inbound, text, bundle)
        return True
    return False


async def _media(
    turn: Turn,
    inbound: InboundMessage,
    caption: str,
    bundle: Bundle,
    staff: StaffNotices,
    say: Callable[[Turn, Say], object],
) -> None:
    urls = inbound.meta.get("media_urls")
    media = Media(
        kind=str(inbound.meta.get("media", "media")),
        chat_id=int(inbound.meta.get("chat_id", 0)),
        message_id=int(inbound.meta.get("message_id", 0)),
        caption=caption,
        urls=tuple((str(u), str(t)) for u, t in urls) if isinstance(urls, list) else (),
    )
    _history_row(turn, f"[{media.kind}] {caption}".strip())
    heard = await pass_media_on(turn.uow, turn.now, turn.survivor, media, staff.texts)
    turn.unheard |= not heard
    # A caption is words like any others: urgent ones still raise the alarm.
    hit = detect(bundle.urgent_bank, caption[:MAX_INPUT_CHARS], turn.survivor.language)
    if hit is not None:
        escalation = Escalate(f"phrase:{hit.category}")
        await staff.escalate(turn.uow, turn.now, turn.survivor, escalation)
        say(turn, Say("help.now", urgent=True))
    say(turn, Say("advocate.sent"))  # "passed on", or that nobody can read it yet


async def _clear(turn: Turn, inbound: InboundMessage, text: str, bundle: Bundle) -> None:
    _history_row(turn, text)
    catalogue, language = bundle.catalogue, turn.survivor.language
    report = Report(
        chat_id=int(inbound.address),
        all_deleted=catalogue.text(language, "telegram.clear_done"),
        some_left=catalogue.text(language, "telegram.clear_partial"),
    )
    own = inbound.meta.get("message_id")
    count = await queue_clear(
        turn.uow,
        turn.now,
        turn.identity,
        report=report,
        also=(own,) if isinstance(own, int) else (),
    )
    turn.uow.audit.record(
        "survivor", "telegram.clear", turn.now, survivor_id=turn.survivor.id, messages=count
    )


def _history_row(turn: Turn, body: str) -> None:
    turn.uow.messages.add(
        survivor_id=turn.survivor.id,
        direction="in",
        channel=turn.channel.name,
        body=body,
        now=turn.now,
        inbox_id=turn.inbox_id,
    )
