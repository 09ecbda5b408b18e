"""Receiving Telegram updates without ever losing one: the webhook and the polling loop.

python-telegram-bot's own webhook answers 200 before anything is stored and its polling
moves the offset before updates are processed. Here, both store the raw update first:
- webhook: 200 only after `inbound.accept` returned; a database failure answers 503, so
  Telegram keeps the update and sends it again. Never a 500.
- polling: the offset moves past an update only after it is stored.
Duplicates (a retried delivery, two instances) are dropped by the inbox's unique
(channel, update_id), which is a set of ids seen, not a "highest id" that a restarted
sequence could fool.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Callable, Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from telegram import Bot
from telegram.error import Conflict, InvalidToken, TelegramError

from bot.ports import Acceptor

log = logging.getLogger(__name__)

CHANNEL = "telegram"
WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
ALLOWED_UPDATES = ("message", "edited_message", "callback_query")
MAX_BACKOFF = 30.0
# A real update nests about six levels deep. Anything far deeper is hostile: refused before
# it can exhaust the parser's or the encoder's recursion (a 500) further down.
MAX_DEPTH = 64

OnStored = Callable[[Mapping[str, Any]], None]


def too_deep(value: object, limit: int = MAX_DEPTH) -> bool:
    """Whether parsed JSON nests deeper than `limit` (iteratively: no recursion to exhaust)."""
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > limit:
                return True
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return False


def update_id_of(update: object) -> int | None:
    if not isinstance(update, dict):
        return None
    update_id = update.get("update_id")
    if isinstance(update_id, bool) or not isinstance(update_id, int) or not 0 <= update_id < 2**63:
        return None
    return update_id


class WebhookEndpoint:
    """POST /telegram/webhook. `on_stored` runs for each newly stored update (it answers
    button presses); it is never called for a duplicate delivery."""

    def __init__(self, secret: str, inbound: Acceptor, on_stored: OnStored) -> None:
        if not secret:
            raise ValueError("a webhook needs a secret token")
        self._secret = secret.encode()
        self._inbound = inbound
        self._on_stored = on_stored

    async def handle(self, request: Request) -> Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, self._secret):
            return JSONResponse({"error": "forbidden"}, status_code=403)
        try:
            # RecursionError: thousands of nested brackets; ValueError also covers an integer
            # of more digits than Python converts.
            update = json.loads(await request.body(), parse_constant=_no_constant)
        except (ValueError, UnicodeDecodeError, RecursionError):
            return JSONResponse({"error": "malformed JSON"}, status_code=400)
        if too_deep(update):
            return JSONResponse({"error": "JSON nested too deeply"}, status_code=400)
        update_id = update_id_of(update)
        if update_id is None:
            return JSONResponse({"error": "not a Telegram update"}, status_code=400)
        try:
            stored = await self._inbound.accept(CHANNEL, str(update_id), update)
        except Exception as exc:  # not stored: Telegram must send it again
            log.warning("webhook update not stored (%s): answering 503", type(exc).__name__)
            return JSONResponse({"error": "try again later"}, status_code=503)
        if stored:
            self._on_stored(update)
        return JSONResponse({"ok": True})


def _no_constant(name: str) -> object:
    """NaN and Infinity are not JSON: refused, not stored to trouble a later encoder."""
    raise ValueError(f"{name} is not JSON")


class Poller:
    """getUpdates in a loop. One poller per bot token: a second one gets 409 Conflict."""

    def __init__(
        self,
        bot: RawUpdatesBot,
        inbound: Acceptor,
        on_stored: OnStored,
        *,
        poll_timeout: float = 25.0,
        retry_base: float = 1.0,
    ) -> None:
        self.bot = bot
        self.inbound = inbound
        self.on_stored = on_stored
        self.poll_timeout = poll_timeout
        self.retry_base = retry_base
        self.stored = 0  # updates stored by this poller (for tests and the benchmark)
        self._failures = 0

    async def run(self, stop: asyncio.Event) -> None:
        offset: int | None = None
        while not stop.is_set():
            try:
                updates = await self.bot.get_raw_updates(offset, self.poll_timeout)
            except (Conflict, InvalidToken, TelegramError) as exc:
                await self._pause(stop, exc)
                continue
            # Telegram forgets every update below the offset we send next, so it only ever
            # moves past updates that are stored. After an empty answer it goes back to
            # None: Telegram can restart its update_id sequence from a lower number.
            offset = None
            for update in updates:
                update_id = update_id_of(update)
                if update_id is None:
                    log.warning("getUpdates returned something without an update_id; skipped")
                    continue
                try:
                    stored = await self.inbound.accept(CHANNEL, str(update_id), update)
                except Exception as exc:
                    await self._pause(stop, exc)
                    break  # not stored: ask for it again, from here
                offset = update_id + 1
                self._failures = 0
                if stored:
                    self.stored += 1
                    self.on_stored(update)

    async def _pause(self, stop: asyncio.Event, exc: BaseException) -> None:
        self._failures += 1
        delay = min(self.retry_base * 2 ** min(self._failures - 1, 6), MAX_BACKOFF)
        if isinstance(exc, Conflict):
            log.warning("another process is polling this bot (409); waiting %.0fs", delay)
        elif isinstance(exc, InvalidToken):
            log.error("Telegram rejected the bot token: check HARBOUR_TELEGRAM_TOKEN")
        else:
            log.warning("polling paused %.1fs after %s", delay, type(exc).__name__)
        try:
            await asyncio.wait_for(stop.wait(), timeout=delay)
        except TimeoutError:
            pass


class RawUpdatesBot(Bot):
    """A Bot that can fetch updates as the raw JSON Telegram sent, so what is stored is
    exactly what arrived, and one update PTB cannot parse never blocks the ones after it."""

    async def get_raw_updates(self, offset: int | None, long_poll: float) -> list[Any]:
        """Updates from `offset` on, waiting up to `long_poll` seconds for the first one."""
        data: dict[str, Any] = {
            "timeout": int(long_poll),
            "allowed_updates": list(ALLOWED_UPDATES),
        }
        if offset is not None:
            data["offset"] = offset
        read_timeout = (self._request[0].read_timeout or 0) + long_poll
        result = await self._post("getUpdates", data, read_timeout=read_timeout)
        return list(result) if isinstance(result, list) else []
