"""The message methods of the fake Bot API: send, copy, edit, delete, buttons, commands.

Each handler takes the decoded parameters and returns the `result` value, or raises
`BotApiError` with the status and description Telegram uses for that mistake.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

from tests.fakes.telegram_objects import JSON, MEDIA_KEYS, ChatHistory, UpdateBuilder

MAX_TEXT = 4096
MAX_CALLBACK_DATA = 64
COMMAND_NAME = re.compile(r"^[a-z0-9_]{1,32}$")
CHAT_ACTIONS = {
    "typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
    "upload_document", "choose_sticker", "find_location", "record_video_note",
    "upload_video_note",
}  # fmt: skip
MEDIA_SEND_METHODS = {"sendphoto": "photo", "sendvoice": "voice", "senddocument": "document"}

Handler = Callable[[JSON], Any]


class BotApiError(Exception):
    def __init__(
        self,
        code: int,
        description: str,
        retry_after: int | None = None,
        migrate_to: int | None = None,
    ) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after
        self.migrate_to = migrate_to  # a group upgraded to a supergroup


def chat_key(value: Any) -> int | str:
    """Chat ids arrive as ints (JSON) or digits (form); '@name' stays text."""
    if value is None or value == "":
        raise BotApiError(400, "Bad Request: chat_id is empty")
    try:
        return int(value)
    except (TypeError, ValueError):
        return str(value)


class MessageMethods:
    def __init__(self, history: ChatHistory, updates: UpdateBuilder, bot_user: JSON) -> None:
        self.history = history
        self.updates = updates
        self.bot_user = bot_user
        self.deleted: list[tuple[int | str, int]] = []
        self.answered_callbacks: list[JSON] = []
        self.chat_actions: list[tuple[int | str, str]] = []
        self.commands: dict[tuple[str, str], list[JSON]] = {}

    def handlers(self) -> dict[str, Handler]:
        table: dict[str, Handler] = {
            "sendmessage": self.send_message,
            "copymessage": self.copy_message,
            "editmessagetext": self.edit_message_text,
            "editmessagereplymarkup": self.edit_message_reply_markup,
            "deletemessage": self.delete_message,
            "deletemessages": self.delete_messages,
            "answercallbackquery": self.answer_callback_query,
            "setmycommands": self.set_my_commands,
            "getmycommands": self.get_my_commands,
            "sendchataction": self.send_chat_action,
        }
        for method, kind in MEDIA_SEND_METHODS.items():
            table[method] = functools.partial(self.send_media, kind=kind)
        return table

    def send_message(self, params: JSON) -> JSON:
        text = str(params.get("text") or "")
        if not text.strip():
            raise BotApiError(400, "Bad Request: message text is empty")
        if len(text) > MAX_TEXT:
            raise BotApiError(400, "Bad Request: message is too long")
        return self._store_sent(params, {"text": text})

    def send_media(self, params: JSON, kind: str) -> JSON:
        if not params.get(kind):
            raise BotApiError(400, f"Bad Request: there is no {kind} in the request")
        content: JSON = {kind: self.history.media(kind)}
        if params.get("caption"):
            content["caption"] = str(params["caption"])
        return self._store_sent(params, content)

    def copy_message(self, params: JSON) -> JSON:
        source = self.history.get(chat_key(params.get("from_chat_id")), int(params["message_id"]))
        if source is None:
            raise BotApiError(400, "Bad Request: message to copy not found")
        content = {key: source[key] for key in MEDIA_KEYS if key in source}
        if "caption" in params:
            content["caption"] = str(params["caption"])
        copy = self._store_sent(params, content)
        return {"message_id": copy["message_id"]}

    def edit_message_text(self, params: JSON) -> JSON:
        message = self._own_message(params, "edit")
        text = str(params.get("text") or "")
        if not text.strip():
            raise BotApiError(400, "Bad Request: message text is empty")
        markup = _inline_markup(params.get("reply_markup"))
        if message.get("text") == text and message.get("reply_markup") == markup:
            raise BotApiError(
                400,
                "Bad Request: message is not modified: specified new message content and reply "
                "markup are exactly the same as a current content and reply markup of the message",
            )
        message["text"] = text
        return self._apply_markup_and_edit_date(message, markup)

    def edit_message_reply_markup(self, params: JSON) -> JSON:
        message = self._own_message(params, "edit")
        markup = _inline_markup(params.get("reply_markup"))
        if message.get("reply_markup") == markup:
            raise BotApiError(400, "Bad Request: message is not modified")
        return self._apply_markup_and_edit_date(message, markup)

    def delete_message(self, params: JSON) -> bool:
        chat = chat_key(params.get("chat_id"))
        message_id = int(params.get("message_id") or 0)
        message = self.history.get(chat, message_id)
        if message is None:
            raise BotApiError(400, "Bad Request: message to delete not found")
        if self.history.too_old_to_delete(message):
            raise BotApiError(400, "Bad Request: message can't be deleted for everyone")
        self.history.remove(chat, message_id)
        self.deleted.append((chat, message_id))
        return True

    def delete_messages(self, params: JSON) -> bool:
        """Deletes what it can and skips the rest, as Telegram does; it answers 400 only when
        nothing at all could be deleted. The caller cannot tell which ones were skipped."""
        chat = chat_key(params.get("chat_id"))
        message_ids = params.get("message_ids")
        if not isinstance(message_ids, list) or not 1 <= len(message_ids) <= 100:
            raise BotApiError(400, "Bad Request: message_ids must be a list of 1-100 ids")
        deleted_any = False
        for message_id in message_ids:
            try:
                self.delete_message({"chat_id": chat, "message_id": message_id})
            except BotApiError:
                continue
            deleted_any = True
        if not deleted_any:
            raise BotApiError(400, "Bad Request: message to delete not found")
        return True

    def answer_callback_query(self, params: JSON) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        if query_id not in self.updates.open_callback_queries:
            raise BotApiError(
                400,
                "Bad Request: query is too old and response timeout expired or query ID is invalid",
            )
        self.updates.open_callback_queries.discard(query_id)
        self.answered_callbacks.append(dict(params))
        return True

    def set_my_commands(self, params: JSON) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise BotApiError(400, "Bad Request: commands must be a list of at most 100")
        for command in commands:
            if not COMMAND_NAME.match(str(command.get("command", ""))):
                raise BotApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise BotApiError(400, "Bad Request: command description is invalid")
        self.commands[_commands_key(params)] = commands
        return True

    def get_my_commands(self, params: JSON) -> list[JSON]:
        return self.commands.get(_commands_key(params), [])

    def send_chat_action(self, params: JSON) -> bool:
        action = str(params.get("action") or "")
        if action not in CHAT_ACTIONS:
            raise BotApiError(400, "Bad Request: wrong parameter action in request")
        self.chat_actions.append((chat_key(params.get("chat_id")), action))
        return True

    def _store_sent(self, params: JSON, content: JSON) -> JSON:
        chat = chat_key(params.get("chat_id"))
        markup = _inline_markup(params.get("reply_markup"))
        if markup is not None:
            content["reply_markup"] = markup
        if params.get("protect_content") is True:
            content["has_protected_content"] = True
        replied = _reply_target(params)
        if replied is not None and (original := self.history.get(chat, replied)) is not None:
            content["reply_to_message"] = original
        return dict(self.history.add(chat, self.bot_user, content))

    def _own_message(self, params: JSON, verb: str) -> JSON:
        chat = chat_key(params.get("chat_id"))
        message = self.history.get(chat, int(params.get("message_id") or 0))
        if message is None:
            raise BotApiError(400, f"Bad Request: message to {verb} not found")
        if message["from"].get("id") != self.bot_user["id"]:
            raise BotApiError(400, f"Bad Request: message can't be {verb}ed")
        return message

    def _apply_markup_and_edit_date(self, message: JSON, markup: JSON | None) -> JSON:
        if markup is None:
            message.pop("reply_markup", None)
        else:
            message["reply_markup"] = markup
        message["edit_date"] = self.history.timestamp()
        return dict(message)


def _inline_markup(markup: Any) -> JSON | None:
    """Keep inline keyboards (checking callback_data as Telegram does); ignore other markups,
    which Telegram does not echo back on the message."""
    if not isinstance(markup, dict) or "inline_keyboard" not in markup:
        return None
    for row in markup["inline_keyboard"]:
        for button in row:
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode()) <= MAX_CALLBACK_DATA:
                raise BotApiError(400, "Bad Request: BUTTON_DATA_INVALID")
            if not button.get("text"):
                raise BotApiError(400, "Bad Request: text buttons are unallowed in the keyboard")
    return markup


def _reply_target(params: JSON) -> int | None:
    reply = params.get("reply_parameters")
    if isinstance(reply, dict) and "message_id" in reply:
        return int(reply["message_id"])
    if params.get("reply_to_message_id") is not None:
        return int(params["reply_to_message_id"])
    return None


def _commands_key(params: JSON) -> tuple[str, str]:
    scope = params.get("scope")
    scope_type = scope.get("type", "default") if isinstance(scope, dict) else "default"
    return scope_type, str(params.get("language_code") or "")
