"""Telegram objects as the Bot API serialises them, and the chat history the fake keeps.

Message ids are counted per chat and shared by both directions, as in a real private chat,
so a test can delete or copy a message the survivor sent as well as one the bot sent.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

JSON = dict[str, Any]
DELETE_WINDOW = timedelta(hours=48)
MEDIA_KEYS = ("text", "caption", "photo", "voice", "audio", "video", "document", "location")


def user_object(user_id: int, first_name: str = "User", language_code: str | None = None) -> JSON:
    user: JSON = {"id": user_id, "is_bot": False, "first_name": first_name}
    if language_code is not None:
        user["language_code"] = language_code
    return user


def chat_object(chat_id: int | str) -> JSON:
    if isinstance(chat_id, str):  # "@channelname"
        return {"id": -1001000000000, "type": "channel", "title": "Channel", "username": chat_id}
    if chat_id > 0:
        return {"id": chat_id, "type": "private", "first_name": "User"}
    kind = "supergroup" if str(chat_id).startswith("-100") else "group"
    return {"id": chat_id, "type": kind, "title": "Group"}


class ChatHistory:
    """Every message of every chat the fake has seen, keyed by (chat id, message id)."""

    def __init__(self, now: Callable[[], datetime]) -> None:
        self._now = now
        self._messages: dict[tuple[int | str, int], JSON] = {}
        self._last_id: dict[int | str, int] = {}
        self._file_ids = itertools.count(1)

    def add(self, chat_id: int | str, sender: JSON, content: JSON) -> JSON:
        message_id = self._last_id.get(chat_id, 0) + 1
        self._last_id[chat_id] = message_id
        message: JSON = {
            "message_id": message_id,
            "from": sender,
            "chat": chat_object(chat_id),
            "date": self.timestamp(),
            **content,
        }
        self._messages[(chat_id, message_id)] = message
        return message

    def timestamp(self) -> int:
        """Now, as the Unix seconds Telegram puts in `date` and `edit_date`."""
        return int(self._now().timestamp())

    def get(self, chat_id: int | str, message_id: int) -> JSON | None:
        return self._messages.get((chat_id, message_id))

    def remove(self, chat_id: int | str, message_id: int) -> None:
        del self._messages[(chat_id, message_id)]

    def in_chat(self, chat_id: int | str) -> list[JSON]:
        """Messages still present in the chat, oldest first."""
        found = [m for (chat, _), m in self._messages.items() if chat == chat_id]
        return sorted(found, key=lambda m: int(m["message_id"]))

    def too_old_to_delete(self, message: JSON) -> bool:
        age = self._now().timestamp() - int(message["date"])
        return age > DELETE_WINDOW.total_seconds()

    def file_id(self, kind: str) -> tuple[str, str]:
        """A (file_id, file_unique_id) pair that looks like Telegram's."""
        number = next(self._file_ids)
        return f"{kind[:4].upper()}AgADfake{number:06d}", f"AQADfake{number:06d}"

    def media(self, kind: str) -> Any:
        file_id, unique_id = self.file_id(kind)
        if kind == "photo":
            return [
                {
                    "file_id": file_id + "s",
                    "file_unique_id": unique_id + "s",
                    "width": 90,
                    "height": 67,
                    "file_size": 1200,
                },
                {
                    "file_id": file_id,
                    "file_unique_id": unique_id,
                    "width": 1280,
                    "height": 960,
                    "file_size": 98000,
                },
            ]
        if kind == "voice":
            return {
                "file_id": file_id,
                "file_unique_id": unique_id,
                "duration": 4,
                "mime_type": "audio/ogg",
                "file_size": 9000,
            }
        return {
            "file_id": file_id,
            "file_unique_id": unique_id,
            "file_name": f"{kind}.bin",
            "mime_type": "application/octet-stream",
            "file_size": 5000,
        }


class UpdateBuilder:
    """Builds the updates a test injects, with increasing update_id.

    Each inbound message is also written into the chat history, so the bot can later delete,
    copy or reply to it exactly as it could on Telegram.
    """

    def __init__(self, history: ChatHistory, now: Callable[[], datetime]) -> None:
        self._history = history
        self._now = now
        self._update_ids = itertools.count(700_000_001)
        self._query_ids = itertools.count(4_300_000_000_000_000_001)
        self.open_callback_queries: set[str] = set()

    def text(
        self,
        chat_id: int,
        text: str,
        *,
        user_id: int | None = None,
        language_code: str | None = None,
        reply_to: int | None = None,
    ) -> JSON:
        """A text message; a leading /command gets the bot_command entity PTB looks for."""
        content: JSON = {"text": text}
        if text.startswith("/"):
            command_length = len(text.split(maxsplit=1)[0].encode("utf-16-le")) // 2
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": command_length}]
        if reply_to is not None:
            replied = self._history.get(chat_id, reply_to)
            if replied is None:
                raise KeyError(f"no message {reply_to} in that chat to reply to")
            content["reply_to_message"] = replied
        return self._message_update(chat_id, content, user_id, language_code)

    def photo(
        self, chat_id: int, caption: str | None = None, *, user_id: int | None = None
    ) -> JSON:
        content: JSON = {"photo": self._history.media("photo")}
        if caption is not None:
            content["caption"] = caption
        return self._message_update(chat_id, content, user_id, None)

    def voice(self, chat_id: int, *, user_id: int | None = None) -> JSON:
        return self._message_update(chat_id, {"voice": self._history.media("voice")}, user_id, None)

    def document(self, chat_id: int, *, user_id: int | None = None) -> JSON:
        content = {"document": self._history.media("document")}
        return self._message_update(chat_id, content, user_id, None)

    def location(
        self, chat_id: int, latitude: float, longitude: float, *, user_id: int | None = None
    ) -> JSON:
        content = {"location": {"latitude": latitude, "longitude": longitude}}
        return self._message_update(chat_id, content, user_id, None)

    def edited_message(self, chat_id: int, message_id: int, new_text: str) -> JSON:
        """The user edited one of their earlier messages (same message_id, new text)."""
        message = self._history.get(chat_id, message_id)
        if message is None:
            raise KeyError(f"no message {message_id} in that chat to edit")
        message["text"] = new_text
        message["edit_date"] = int(self._now().timestamp())
        return {"update_id": next(self._update_ids), "edited_message": dict(message)}

    def callback_query(
        self, chat_id: int, data: str, *, message_id: int | None = None, user_id: int | None = None
    ) -> JSON:
        """A button press on a bot message (by default the newest one with a keyboard)."""
        message = self._keyboard_message(chat_id, message_id)
        query_id = str(next(self._query_ids))
        self.open_callback_queries.add(query_id)
        query = {
            "id": query_id,
            "from": user_object(user_id if user_id is not None else chat_id),
            "message": message,
            "chat_instance": f"-{abs(chat_id)}777",
            "data": data,
        }
        return {"update_id": next(self._update_ids), "callback_query": query}

    def _keyboard_message(self, chat_id: int, message_id: int | None) -> JSON:
        if message_id is not None:
            found = self._history.get(chat_id, message_id)
            if found is None:
                raise KeyError(f"no message {message_id} in that chat")
            return found
        with_keyboard = [m for m in self._history.in_chat(chat_id) if "reply_markup" in m]
        if not with_keyboard:
            raise KeyError("no bot message with a keyboard in that chat")
        return with_keyboard[-1]

    def _message_update(
        self, chat_id: int, content: JSON, user_id: int | None, language_code: str | None
    ) -> JSON:
        sender = user_object(
            user_id if user_id is not None else chat_id, language_code=language_code
        )
        message = self._history.add(chat_id, sender, content)
        return {"update_id": next(self._update_ids), "message": dict(message)}
