"""The Telegram channel, on python-telegram-bot 22's Bot (no Application, no Updater).

    update -> webhook or poller -> inbox (stored first) -> parse() -> conversation service
    outbox row -> send() -> sendMessage / copyMessage / deleteMessage

`HARBOUR_TELEGRAM_MODE` picks how updates arrive: "polling" (the default; getUpdates, the
offset moving only past stored updates) or "webhook" (POST /telegram/webhook, with the secret
header compared in constant time). `HARBOUR_TELEGRAM_API_URL` points the client at any Bot API
server: Telegram's, a self-hosted telegram-bot-api, or the loopback fake in tests.
Pacing (1 a second per chat, 30 a second overall) is the outbox's ChannelPacer's job.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from starlette.routing import BaseRoute, Route
from telegram.error import TelegramError
from telegram.request import HTTPXRequest

from bot.channels.telegram.flood import FloodGuard
from bot.channels.telegram.parse import callback_query_id, parse_update
from bot.channels.telegram.receive import (
    ALLOWED_UPDATES,
    WEBHOOK_PATH,
    Poller,
    RawUpdatesBot,
    WebhookEndpoint,
)
from bot.channels.telegram.send import TelegramSender
from bot.ports import Acceptor, InboundMessage, OutboundMessage, SendResult
from bot.settings import Settings

log = logging.getLogger(__name__)

Mode = Literal["polling", "webhook"]
# Enough connections for the outbox to send to many chats at once without queueing in the
# pool (queued requests would leave together and break Telegram's per-chat limit).
SEND_POOL = 128
SEND_READ_TIMEOUT = 60.0


def build_bot(
    token: str, api_url: str, send_read_timeout: float = SEND_READ_TIMEOUT
) -> RawUpdatesBot:
    """A Bot for `api_url` (e.g. https://api.telegram.org or http://127.0.0.1:8081)."""
    # PTB 22 warns whenever it builds a RetryAfter unless time periods are timedeltas, the
    # behaviour its next major version makes the default. Opt in (unless set otherwise).
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    sending = HTTPXRequest(
        connection_pool_size=SEND_POOL,
        connect_timeout=5.0,
        # A slow answer is waited for: giving up on a request Telegram is still carrying out
        # leaves its outcome in doubt, and Telegram cannot be asked afterwards.
        read_timeout=send_read_timeout,
        write_timeout=15.0,
        pool_timeout=30.0,
    )
    polling = HTTPXRequest(connection_pool_size=2, connect_timeout=5.0, read_timeout=10.0)
    return RawUpdatesBot(
        token,
        base_url=api_url.rstrip("/") + "/bot",
        request=sending,
        get_updates_request=polling,
    )


class TelegramChannel:
    name = "telegram"
    render_as = "telegram"  # choices become inline buttons, not numbered lines

    def __init__(
        self,
        bot: RawUpdatesBot,
        *,
        mode: Mode = "polling",
        webhook_secret: str | None = None,
        public_url: str | None = None,
        poll_timeout: float = 25.0,
        flood_window: float = 1.0,
    ) -> None:
        """`flood_window` is Telegram's second; tests against a faster fake shrink it."""
        if mode == "webhook" and not webhook_secret:
            raise ValueError("webhook mode needs a secret token")
        self.bot = bot
        self.mode = mode
        self.webhook_secret = webhook_secret
        self.public_url = public_url
        self.poll_timeout = poll_timeout
        self.sender = TelegramSender(bot, FloodGuard(window=flood_window))
        self.poller: Poller | None = None
        self._stop = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._poll_task: asyncio.Task[None] | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> TelegramChannel:
        if settings.telegram_token is None:
            raise ValueError("HARBOUR_TELEGRAM_TOKEN is not set")
        secret = settings.telegram_webhook_secret
        return cls(
            build_bot(settings.telegram_token.get_secret_value(), settings.telegram_api_url),
            mode=settings.telegram_mode,
            webhook_secret=secret.get_secret_value() if secret else None,
            public_url=settings.public_url,
        )

    # -- Channel --------------------------------------------------------------------------
    def parse(self, payload: Mapping[str, Any]) -> InboundMessage | None:
        return parse_update(payload)

    async def send(self, message: OutboundMessage) -> SendResult:
        # Reopens the connection pool if stop() closed it while the outbox was draining.
        await self.bot.request.initialize()
        return await self.sender.send(message)

    # -- ChannelRuntime -------------------------------------------------------------------
    def web_routes(self, inbound: Acceptor) -> Sequence[BaseRoute]:
        if self.mode != "webhook" or not self.webhook_secret:
            return []  # no secret, no route: an open webhook would accept anyone's updates
        endpoint = WebhookEndpoint(self.webhook_secret, inbound, self.answer_button_later)
        return [Route(WEBHOOK_PATH, endpoint.handle, methods=["POST"])]

    async def start(self, inbound: Acceptor) -> None:
        self._stop = asyncio.Event()
        if self.mode == "polling":
            self.poller = Poller(
                self.bot, inbound, self.answer_button_later, poll_timeout=self.poll_timeout
            )
            self._poll_task = asyncio.create_task(self._poll(self.poller))
        elif self.public_url:
            self._spawn(self._register_webhook(self.public_url.rstrip("/") + WEBHOOK_PATH))
        else:
            log.info("Telegram webhook mode: register %s with setWebhook yourself", WEBHOOK_PATH)

    async def stop(self) -> None:
        self._stop.set()
        if self._poll_task is not None:
            # A long poll in flight: nothing is lost, the offset only moves past stored
            # updates, and an update stored twice is dropped by the inbox.
            self._poll_task.cancel()
            await asyncio.gather(self._poll_task, return_exceptions=True)
            self._poll_task = None
        if self._tasks:  # button answers and webhook registration: let them finish briefly
            await asyncio.wait(list(self._tasks), timeout=2.0)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.bot.shutdown()

    # -- background work ------------------------------------------------------------------
    def answer_button_later(self, update: Mapping[str, Any]) -> None:
        """Stop the button's spinner. Runs after the update is stored, never before."""
        query_id = callback_query_id(update)
        if query_id is not None:
            self._spawn(self._answer(query_id))

    async def _answer(self, query_id: str) -> None:
        try:
            await self.bot.answer_callback_query(query_id)
        except TelegramError as exc:  # too old, or answered already: the press still counts
            log.info("a button press could not be answered (%s)", type(exc).__name__)

    async def _poll(self, poller: Poller) -> None:
        with contextlib.suppress(TelegramError):
            # getUpdates refuses to run while a webhook is set (409); pending updates stay.
            await self.bot.delete_webhook(drop_pending_updates=False)
        await poller.run(self._stop)

    async def _register_webhook(self, url: str) -> None:
        try:
            await self.bot.set_webhook(
                url, secret_token=self.webhook_secret, allowed_updates=list(ALLOWED_UPDATES)
            )
            log.info("Telegram webhook registered")
        except TelegramError as exc:
            log.error("Telegram webhook could not be registered (%s)", type(exc).__name__)

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
