"""Carrying out one outbox row on Telegram, and turning Telegram's errors into SendResults.

Three kinds of row reach Telegram:
- a message (message, relay, escalation, alert): sendMessage, with the choices as an inline
  keyboard and protect_content when the text is sensitive;
- "copy": copyMessage of a survivor's photo, voice note, document... into the advocate's
  chat, with the case code as its caption. Harbour never downloads the media;
- "attach": a survivor's MMS picture or file, sent by its Twilio URL (sendPhoto, sendVideo,
  sendAudio or sendDocument), the case code as its caption;
- "clear": delete the listed messages one by one (Telegram's deleteMessages cannot say which
  ones failed), then say honestly how many could not be deleted.

Nothing here logs a text, a chat id or the token.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import timedelta
from typing import Any

import httpx
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, ReplyParameters
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.warnings import PTBDeprecationWarning

from bot.channels.telegram.flood import FloodGuard
from bot.ports import OutboundMessage, SendResult

log = logging.getLogger(__name__)

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_BYTES = 64
CUT_MARK = " […]"


def retry_seconds(error: RetryAfter) -> float:
    """retry_after in seconds, whether PTB gives an int or (PTB_TIMEDELTA=true) a timedelta.
    Reading it as an int warns in PTB 22; the warning is expected here and silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value: Any = error.retry_after
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
    return max(seconds, 0.0)


def result_for(error: TelegramError) -> SendResult:
    """What an error means for the outbox. BadRequest and TimedOut are NetworkErrors in PTB,
    so the order of these checks matters."""
    text = error.message.lower()
    if isinstance(error, RetryAfter):
        return SendResult("retry", retry_after=retry_seconds(error), error="rate_limited")
    if isinstance(error, Forbidden):
        if "deactivated" in text:
            return SendResult("failed", error="user_deactivated", permanent="invalid")
        return SendResult("failed", error="forbidden", permanent="blocked")
    if isinstance(error, InvalidToken):
        log.error("Telegram rejected the bot token: check HARBOUR_TELEGRAM_TOKEN")
        return SendResult("retry", error="invalid_token")  # our fault: keep the message
    if isinstance(error, ChatMigrated):
        return SendResult("failed", error="chat_migrated", permanent="invalid")
    if isinstance(error, BadRequest):
        if "chat not found" in text or "user not found" in text or "peer_id_invalid" in text:
            return SendResult("failed", error="chat_not_found", permanent="invalid")
        return SendResult("failed", error="bad_request")
    if isinstance(error, TimedOut):
        if isinstance(error.__cause__, httpx.ConnectTimeout | httpx.PoolTimeout):
            return SendResult("retry", error="timeout")  # never left us: nothing to doubt
        # The request went out and no answer came: Telegram may have sent it.
        return SendResult("retry", error="timeout", in_doubt=True)
    if isinstance(error, NetworkError):
        return SendResult("retry", error="server_error")  # 5xx and connection problems
    return SendResult("retry", error="telegram_error")


def keyboard(choices: Sequence[tuple[str, str]]) -> InlineKeyboardMarkup | None:
    """One button per row (labels can be long in some languages). A value Telegram would
    refuse (over 64 bytes) is left out rather than failing the whole message."""
    rows = []
    for value, label in choices:
        if not 1 <= len(value.encode()) <= MAX_CALLBACK_BYTES or not label:
            log.warning("a choice value is too long for a Telegram button and was left out")
            continue
        rows.append([InlineKeyboardButton(label, callback_data=value)])
    return InlineKeyboardMarkup(rows) if rows else None


def bounded(text: str, limit: int) -> str:
    """Captions only carry a case code. Message texts are split into rows of at most MAX_TEXT
    when queued (bot/store/parts.py), so this cut only ever guards a row queued before that."""
    return text if len(text) <= limit else text[: limit - len(CUT_MARK)] + CUT_MARK


class TelegramSender:
    def __init__(self, bot: Bot, guard: FloodGuard | None = None) -> None:
        self.bot = bot
        self.guard = guard or FloodGuard()

    async def send(self, message: OutboundMessage) -> SendResult:
        try:
            chat_id = int(message.address)
        except ValueError:
            return SendResult("failed", error="bad_address", permanent="invalid")
        try:
            return await self._send_to(chat_id, message)
        except ChatMigrated as moved:
            # A group Telegram turned into a supergroup: follow it, once, and say where it
            # went so the outbox stores the new id (nothing is sent twice: the old chat
            # refused this message).
            new_id = int(moved.new_chat_id)
            try:
                result = await self._send_to(new_id, message)
            except TelegramError as error:
                result = result_for(error)
            return replace(result, moved_to=str(new_id))
        except TelegramError as error:
            return result_for(error)

    async def _send_to(self, chat_id: int, message: OutboundMessage) -> SendResult:
        if message.kind == "copy":
            return await self._copy(chat_id, message)
        if message.kind == "clear":
            return await self._clear(chat_id, message.meta)
        if message.kind == "attach":
            return await self._attach(chat_id, message)
        return await self._message(chat_id, message)

    async def _message(self, chat_id: int, message: OutboundMessage) -> SendResult:
        if not message.text.strip():
            return SendResult("failed", error="empty_text")
        await self.guard.wait(chat_id, urgent=message.meta.get("urgent") is True)
        sent = await self.bot.send_message(
            chat_id,
            bounded(message.text, MAX_TEXT),
            reply_markup=keyboard(message.choices),
            protect_content=message.sensitive or None,
        )
        return SendResult("sent", provider_id=str(sent.message_id))

    async def _copy(self, chat_id: int, message: OutboundMessage) -> SendResult:
        meta = message.meta
        from_chat, source_id = meta.get("from_chat_id"), meta.get("message_id")
        if not isinstance(from_chat, int) or not isinstance(source_id, int):
            return SendResult("failed", error="bad_copy_request")
        caption = meta.get("caption")
        await self.guard.wait(chat_id)
        copied = await self.bot.copy_message(
            chat_id,
            from_chat,
            source_id,
            caption=bounded(caption, MAX_CAPTION) if isinstance(caption, str) else None,
            reply_parameters=_reply_to(meta.get("reply_to")),
        )
        return SendResult("sent", provider_id=str(copied.message_id))

    async def _attach(self, chat_id: int, message: OutboundMessage) -> SendResult:
        """A survivor's MMS picture, clip or file, by the URL Twilio keeps it at: Telegram
        fetches it, Harbour never holds it."""
        url, content_type = message.meta.get("url"), str(message.meta.get("content_type", ""))
        if not isinstance(url, str) or not url.startswith("https://"):
            return SendResult("failed", error="bad_attach_request")
        caption = bounded(message.text, MAX_CAPTION) if message.text else None
        await self.guard.wait(chat_id)
        major = content_type.split("/", 1)[0].lower()
        protect = message.sensitive or None
        if major == "image" and not content_type.lower().endswith("gif"):
            sent = await self.bot.send_photo(chat_id, url, caption=caption, protect_content=protect)
        elif major == "video":
            sent = await self.bot.send_video(chat_id, url, caption=caption, protect_content=protect)
        elif major == "audio":
            sent = await self.bot.send_audio(chat_id, url, caption=caption, protect_content=protect)
        else:
            sent = await self.bot.send_document(
                chat_id, url, caption=caption, protect_content=protect
            )
        return SendResult("sent", provider_id=str(sent.message_id))

    async def _clear(self, chat_id: int, meta: Mapping[str, Any]) -> SendResult:
        """Delete one by one. "Not found" means already gone (deleted by the survivor, or by
        an earlier try of this same row), so a retry after a 5xx counts honestly."""
        ids = [i for i in meta.get("message_ids", []) if isinstance(i, int)]
        failed = 0
        for message_id in ids:
            try:
                await self.bot.delete_message(chat_id, message_id)
            except BadRequest as error:
                if "not found" not in error.message.lower():
                    failed += 1  # too old, or Telegram will not let the bot delete it
        report = _report_text(meta, failed, len(ids) - failed)
        report_chat = meta.get("report_chat")
        if report is None or not isinstance(report_chat, int):
            return SendResult("sent", error=f"not_deleted={failed}" if failed else None)
        await self.guard.wait(report_chat)
        sent = await self.bot.send_message(report_chat, report, protect_content=True)
        return SendResult("sent", provider_id=str(sent.message_id))


def _report_text(meta: Mapping[str, Any], failed: int, deleted: int) -> str | None:
    """The report, from templates rendered when the row was queued (in the reader's
    language); {count} is how many could not be deleted, {deleted} how many were."""
    template = meta.get("report_some" if failed else "report_all")
    if not isinstance(template, str) or not template:
        return None
    return template.replace("{count}", str(failed)).replace("{deleted}", str(deleted))


def _reply_to(message_id: object) -> ReplyParameters | None:
    if not isinstance(message_id, int):
        return None
    return ReplyParameters(message_id, allow_sending_without_reply=True)
