"""A photo, voice note, document or location from a survivor (Telegram, or MMS): pass it on.

Harbour never downloads or keeps the media. For each person who should hear about the
survivor (the same routing as any message), one outbox row:
- an advocate on Telegram gets a copy (copyMessage, an outbox row of kind "copy" that only the
  Telegram sender knows how to carry out), captioned with the case code. Media that cannot
  carry a caption (a location, a sticker, a round video) gets the case code in a line of text
  just before it;
- an advocate on another channel gets a text notice saying what was sent, with any caption,
  and that it can only be seen in the Telegram chat.
An MMS is kept by Twilio: its URLs are passed on (`_mms_rows`), never its content.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from bot.staff.routing import PRIORITY_REPLY, responsible_staff, staff_identity
from bot.staff.texts import StaffTexts
from bot.store.models import Staff, Survivor
from bot.store.uow import UnitOfWork

log = logging.getLogger(__name__)

CHANNEL = "telegram"
# Media Telegram lets a copy carry a caption on.
CAPTIONABLE = frozenset({"photo", "voice", "video", "audio", "document", "animation"})


@dataclass(frozen=True)
class Media:
    kind: str  # "photo", "voice", "location"... (the Telegram message field)
    chat_id: int
    message_id: int
    caption: str  # the survivor's own caption, cleaned; "" when none
    urls: tuple[tuple[str, str], ...] = ()  # an MMS: (Twilio media URL, content type)


async def pass_media_on(
    uow: UnitOfWork, now: datetime, survivor: Survivor, media: Media, texts: StaffTexts
) -> list[Staff]:
    """Queue the media (or a notice of it) for the responsible staff. Returns who."""
    notified: list[Staff] = []
    for staff in await responsible_staff(uow, survivor, now):
        identity = await staff_identity(uow, staff)
        if identity is None:
            continue
        what = _kind_words(texts, media.kind, staff.language)
        rows: list[tuple[str, dict[str, object]]] = []
        if media.urls:
            case, channel = survivor.case_code, identity.channel
            rows = _mms_rows(texts, media, case, staff.language, what, channel)
        elif identity.channel == CHANNEL:
            header = texts.text("staff.media", staff.language, case=survivor.case_code, what=what)
            copy: dict[str, object] = {
                "text": header,
                "from_chat_id": media.chat_id,
                "message_id": media.message_id,
            }
            if media.kind in CAPTIONABLE:
                copy["caption"] = f"{header}\n{media.caption}".strip()
            else:
                rows.append(("relay", {"text": header}))
            rows.append(("copy", copy))
        else:
            text = texts.text(
                "staff.media_elsewhere", staff.language, case=survivor.case_code, what=what
            )
            rows.append(("relay", {"text": f"{text}\n{media.caption}".strip()}))
        for kind, payload in rows:
            uow.outbox.add(
                channel=identity.channel,
                identity_id=identity.id,
                payload={**payload, "case": survivor.case_code},
                now=now,
                kind=kind,
                priority=PRIORITY_REPLY,
                survivor_id=survivor.id,
            )
        notified.append(staff)
    if not notified:
        log.error("no reachable staff member for case %s (media)", survivor.case_code)
        uow.audit.record("system", "staff_unreachable", now, survivor_id=survivor.id, kind="media")
    uow.audit.record(
        "system",
        "media.to_staff",
        now,
        survivor_id=survivor.id,
        media=media.kind,
        alerted=[s.handle for s in notified],
    )
    return notified


def _mms_rows(
    texts: StaffTexts, media: Media, case: str, language: str, what: str, channel: str
) -> list[tuple[str, dict[str, object]]]:
    """An MMS: a notice with the survivor's text first (so the advocate knows even if an
    attachment cannot be fetched), then each picture or file by its Twilio URL: attached
    on Telegram, forwarded as an MMS by SMS. Other channels get the notice alone."""
    header = texts.text("staff.media", language, case=case, what=what)
    notice: dict[str, object] = {"text": f"{header}\n{media.caption}".strip()}
    if channel == "sms":
        return [("relay", {**notice, "media_urls": [url for url, _type in media.urls]})]
    rows: list[tuple[str, dict[str, object]]] = [("relay", notice)]
    if channel == CHANNEL:
        rows += [
            ("attach", {"text": header, "url": url, "content_type": content_type})
            for url, content_type in media.urls
        ]
    return rows


def _kind_words(texts: StaffTexts, kind: str, language: str) -> str:
    key = f"staff.media_kind.{kind}"
    if key in texts.keys():
        return texts.text(key, language)
    return texts.text("staff.media_kind.other", language)
