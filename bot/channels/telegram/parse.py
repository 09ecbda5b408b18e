"""Turning a stored Telegram update (the raw JSON, as Telegram sent it) into an InboundMessage.

Pure and defensive: the payload came from the network and was stored before anyone looked at
it, so every field is checked and anything unexpected yields None (nothing to answer) rather
than an exception that would leave the inbox row failing forever.

- a text message or an edited message: kind "text" (an edit is treated as a new message);
- a text starting with "/": kind "command", with "/start@bot CODE" cut to "/start CODE";
- a button press (callback_query): the button's value as `choice`; its id in meta, so the
  receiver can answer it;
- a photo, voice note, document, location and so on: kind "media", with the chat and
  message ids in meta so the media can be copied to the advocate. Nothing is downloaded;
- anything in a group, supergroup or channel: meta "group" (ignored unless a staff group);
  channel posts are not even parsed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.ports import InboundMessage

CHANNEL = "telegram"
# Message fields that mean "this is media". Order matters only for the name in meta.
MEDIA_FIELDS = (
    "photo",
    "voice",
    "video",
    "video_note",
    "audio",
    "document",
    "animation",
    "sticker",
    "location",
    "venue",
    "contact",
)
MAX_ID_DIGITS = 20
# Chats with more than one person in them. Harbour talks to survivors one to one only: a
# message in one of these is ignored unless the chat is a registered staff group (meta
# "group" lets the conversation service decide, since only it knows the staff groups).
GROUP_CHATS = frozenset({"group", "supergroup", "channel"})


def is_group(chat: object) -> bool:
    return isinstance(chat, Mapping) and chat.get("type") in GROUP_CHATS


def chat_address(chat_id: object) -> str | None:
    """A chat id as the neutral address string, or None if it is not a Telegram chat id."""
    if isinstance(chat_id, bool) or not isinstance(chat_id, int):
        return None
    text = str(chat_id)
    return text if len(text) <= MAX_ID_DIGITS else None


def parse_update(payload: Mapping[str, Any]) -> InboundMessage | None:
    query = payload.get("callback_query")
    if isinstance(query, Mapping):
        return _callback(query)
    for key, edited in (("message", False), ("edited_message", True)):
        message = payload.get(key)
        if isinstance(message, Mapping):
            parsed = _message(message, edited)
            if parsed is None and is_group(message.get("chat")):
                return _nothing_in_group(message.get("chat"))
            return parsed
    return None  # channel posts, member updates, polls...: nothing to answer (or keep)


def _message(message: Mapping[str, Any], edited: bool) -> InboundMessage | None:
    chat = message.get("chat")
    address = chat_address(chat.get("id")) if isinstance(chat, Mapping) else None
    message_id = message.get("message_id")
    if address is None or not isinstance(message_id, int):
        return None
    sender = message.get("from")
    if isinstance(sender, Mapping) and sender.get("is_bot") is True:
        return None  # never answer a bot (including our own messages echoed in groups)
    meta: dict[str, Any] = {"message_id": message_id, "chat_id": int(address)}
    if is_group(chat):
        meta["group"] = True
    if edited:
        meta["edited"] = True
    replied = message.get("reply_to_message")
    if isinstance(replied, Mapping) and isinstance(replied.get("message_id"), int):
        meta["reply_to"] = replied["message_id"]  # staff answering a relayed message
    # Telegram's language_code is the phone's interface language, which may be someone
    # else's choice: the survivor picks their language in the conversation instead.
    media = next((field for field in MEDIA_FIELDS if field in message), None)
    if media is not None:
        caption = message.get("caption")
        meta["media"] = media
        return InboundMessage(
            channel=CHANNEL,
            address=address,
            text=caption if isinstance(caption, str) else "",
            kind="media",
            meta=meta,
        )
    text = message.get("text")
    if not isinstance(text, str):
        return None  # a service message (pinned, joined...) or something new
    if text.startswith("/"):
        return InboundMessage(
            channel=CHANNEL,
            address=address,
            text=_command_text(text),
            kind="command",
            meta=meta,
        )
    return InboundMessage(channel=CHANNEL, address=address, text=text, meta=meta)


def _nothing_in_group(chat: object) -> InboundMessage | None:
    """A group's service message (someone joined, a pin) or a bot's post: nothing to answer,
    and marked so that only its dedupe key is kept."""
    address = chat_address(chat.get("id")) if isinstance(chat, Mapping) else None
    if address is None:
        return None
    return InboundMessage(
        channel=CHANNEL, address=address, text="", meta={"group": True, "ignore": True}
    )


def _command_text(text: str) -> str:
    """ "/start@harbour_bot ABC234" -> "/start ABC234"; the command name lower-cased."""
    head, _, rest = text.partition(" ")
    name = head.split("@", 1)[0].lower()
    return f"{name} {rest.strip()}".strip()


def command_name(inbound: InboundMessage) -> str | None:
    """ "clear" for "/clear ...", or None when the message is not a command."""
    if inbound.kind != "command":
        return None
    return inbound.text[1:].split(" ", 1)[0] or None


def _callback(query: Mapping[str, Any]) -> InboundMessage | None:
    query_id = query.get("id")
    data = query.get("data")
    message = query.get("message")
    chat = message.get("chat") if isinstance(message, Mapping) else None
    sender = query.get("from")
    chat_id = chat.get("id") if isinstance(chat, Mapping) else None
    if chat_id is None and isinstance(sender, Mapping):
        chat_id = sender.get("id")  # an old message Telegram no longer includes
    address = chat_address(chat_id)
    if address is None or not isinstance(query_id, str) or not isinstance(data, str):
        return None
    meta: dict[str, Any] = {"callback_query_id": query_id, "chat_id": int(address)}
    if is_group(chat):
        meta["group"] = True
    return InboundMessage(channel=CHANNEL, address=address, text="", choice=data, meta=meta)


def callback_query_id(payload: Mapping[str, Any]) -> str | None:
    """The id of a button press to answer, straight from the raw update."""
    query = payload.get("callback_query")
    if isinstance(query, Mapping) and isinstance(query.get("id"), str):
        return str(query["id"])
    return None
