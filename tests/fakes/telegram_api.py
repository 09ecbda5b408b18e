"""A fake Telegram Bot API on loopback, for the real python-telegram-bot client.

Point PTB 22 at it with ``telegram.Bot(token, base_url=fake.base_url)``: PTB appends the
token to base_url and then "/<method>", so requests arrive as ``/bot<token>/<method>``.

What it does that matters for Harbour's tests:
- records every call (`calls`, `calls_to()`, `sent_to()`), including the ones it refused;
- keeps updates until getUpdates is called with an offset past them, and long-polls;
- enforces one message a second per chat and thirty overall (see telegram_limits);
- can be scripted to answer 5xx, hang, or 403 for a blocked chat; refuses to delete messages
  older than 48 hours by its clock.
Run standalone with ``python -m tests.fakes.telegram_api --port 8081`` (any token accepted).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import time
from dataclasses import dataclass, field
from datetime import datetime
from http import HTTPStatus
from typing import Any

from aiohttp import web

from tests.fakes.clock import SystemClock, WallClock
from tests.fakes.faults import Fault, FaultScript
from tests.fakes.loopback import LoopbackServer, run_standalone
from tests.fakes.telegram_limits import SendRateLimiter
from tests.fakes.telegram_messages import BotApiError, Handler, MessageMethods, chat_key
from tests.fakes.telegram_objects import JSON, ChatHistory, UpdateBuilder
from tests.fakes.telegram_wire import error_response, post_update_to, read_params

DEFAULT_TOKEN = "123456789:AAFakeHarbourTokenForLoopbackTests00"
# Methods that put a message into a chat: these count towards the flood limits.
MESSAGE_CREATING = {
    "sendmessage", "copymessage", "forwardmessage", "sendphoto", "sendvoice", "senddocument",
}  # fmt: skip
CHAT_GUARDED = MESSAGE_CREATING | {"sendchataction"}  # refused with 403 for a blocked chat
BLOCKED_DESCRIPTION = "Forbidden: bot was blocked by the user"


@dataclass
class ApiCall:
    method: str  # as the client spelled it, e.g. "sendMessage"
    params: JSON
    at: float  # time.monotonic() when it arrived
    date: datetime  # by the fake's clock
    status: int | None = None  # None while the call is still being answered
    result: Any = None


@dataclass
class WebhookSettings:
    url: str
    secret_token: str | None = None
    allowed_updates: list[str] = field(default_factory=list)


class FakeTelegram(LoopbackServer):
    def __init__(
        self,
        *,
        token: str | None = DEFAULT_TOKEN,
        port: int = 0,
        clock: WallClock | None = None,
        per_chat_limit: int = 1,
        overall_limit: int = 30,
        rate_window: float = 1.0,
    ) -> None:
        """`token=None` accepts any token. `clock` dates messages and judges the 48-hour
        delete window; rate limits always use real elapsed time."""
        super().__init__(port=port)
        self.token = token
        self.clock: WallClock = clock or SystemClock()
        bot_id = int(token.split(":")[0]) if token and token.split(":")[0].isdigit() else 1
        self.bot_user: JSON = {
            "id": bot_id, "is_bot": True, "first_name": "Assistant", "username": "fake_test_bot",
            "can_join_groups": False, "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }  # fmt: skip
        self.history = ChatHistory(self.clock.now)
        self.updates = UpdateBuilder(self.history, self.clock.now)
        self.messages = MessageMethods(self.history, self.updates, self.bot_user)
        self.limiter = SendRateLimiter(
            per_chat=per_chat_limit, overall=overall_limit, window=rate_window
        )
        self.faults = FaultScript()
        self.calls: list[ApiCall] = []
        self.blocked_chats: set[int | str] = set()
        self.deactivated_chats: set[int | str] = set()
        self.migrated_chats: dict[int | str, int] = {}
        self.webhook: WebhookSettings | None = None
        self.too_many_requests_sent = 0
        self._queue: list[JSON] = []
        self._arrived = asyncio.Event()
        self._poll_generation = 0
        self._handlers: dict[str, Handler] = {
            **self.messages.handlers(),
            "getme": lambda _params: self.bot_user,
            "getupdates": self._get_updates,
            "setwebhook": self._set_webhook,
            "deletewebhook": self._delete_webhook,
            "getwebhookinfo": self._get_webhook_info,
        }

    @property
    def base_url(self) -> str:
        """What to pass as `base_url` to `telegram.Bot` / `ApplicationBuilder().base_url()`."""
        return f"{self.url}/bot"

    def build_app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        return app

    async def stop(self) -> None:
        self._arrived.set()  # wake long polls so they end before the runner does
        await super().stop()

    # -- what tests inject and script ------------------------------------------------------

    def push_update(self, update: JSON) -> int:
        """Queue an update for getUpdates (or `deliver_to_webhook`); returns its update_id."""
        self._queue.append(update)
        self._queue.sort(key=lambda queued: int(queued["update_id"]))
        self._wake_pollers()
        return int(update["update_id"])

    @property
    def pending_updates(self) -> list[JSON]:
        return list(self._queue)

    def fail_next(
        self, n: int = 1, *, status: int = 500, method: str | None = None, chat_id: Any = None
    ) -> None:
        """The next `n` matching calls answer `status` and do nothing."""
        self.faults.add(Fault("status", n, status=status, method=method, target=_target(chat_id)))

    def hang_next(
        self,
        n: int = 1,
        *,
        seconds: float = 30.0,
        method: str | None = None,
        chat_id: Any = None,
        processed: bool = False,
    ) -> None:
        """The next `n` matching calls answer only after `seconds`. With `processed=False`
        nothing happens and the late answer is 504; with `processed=True` the call is carried
        out at once (the message exists) and its normal answer comes late."""
        target = _target(chat_id)
        self.faults.add(
            Fault("hang", n, seconds=seconds, method=method, target=target, processed=processed)
        )

    def block(self, chat_id: int | str) -> None:
        """The user blocked the bot: sends to this chat answer 403 until `unblock`."""
        self.blocked_chats.add(chat_key(chat_id))

    def deactivate(self, chat_id: int | str) -> None:
        """The user deleted their account: sends answer 403 "user is deactivated"."""
        self.deactivated_chats.add(chat_key(chat_id))

    def migrate(self, chat_id: int, new_chat_id: int) -> None:
        """The group became a supergroup: sends to the old id answer 400 with
        migrate_to_chat_id, as Telegram does."""
        self.migrated_chats[chat_key(chat_id)] = new_chat_id

    def unblock(self, chat_id: int | str) -> None:
        self.blocked_chats.discard(chat_key(chat_id))

    # -- what tests read -------------------------------------------------------------------

    def calls_to(self, method: str) -> list[ApiCall]:
        return [call for call in self.calls if call.method.lower() == method.lower()]

    def sent_to(self, chat_id: int | str) -> list[JSON]:
        """Messages the bot successfully sent or copied into this chat, in order, as sent."""
        chat = chat_key(chat_id)
        sent = []
        for call in self.calls:
            if call.status == 200 and call.method.lower() in MESSAGE_CREATING:
                if chat_key(call.params.get("chat_id")) == chat:
                    sent.append(self._sent_message(call))
        return sent

    async def deliver_to_webhook(self) -> list[int]:
        """Push queued updates to the webhook as Telegram would: in order, stopping at the
        first non-2xx answer (that update stays queued and is retried next time)."""
        if self.webhook is None:
            raise RuntimeError("no webhook set")
        statuses = []
        while self._queue:
            status, _ = await post_update_to(
                self.webhook.url, self._queue[0], self.webhook.secret_token
            )
            statuses.append(status)
            if not 200 <= status < 300:
                break
            self._queue.pop(0)
        return statuses

    # -- the request pipeline --------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if self.token is not None and request.match_info["token"] != self.token:
            return error_response(401, "Unauthorized")
        handler = self._handlers.get(method.lower())
        if handler is None:
            return error_response(404, "Not Found")
        try:
            params = await read_params(request)
        except ValueError:
            return error_response(400, "Bad Request: can't parse request body")
        call = ApiCall(method, params, at=time.monotonic(), date=self.clock.now())
        self.calls.append(call)
        try:
            await self._run(method.lower(), params, handler, call)
        except BotApiError as error:
            call.status = error.code
            if error.code == HTTPStatus.TOO_MANY_REQUESTS:
                self.too_many_requests_sent += 1
            return error_response(
                error.code, error.description, error.retry_after, error.migrate_to
            )
        return web.json_response({"ok": True, "result": call.result})

    async def _run(self, method: str, params: JSON, handler: Handler, call: ApiCall) -> None:
        chat = params.get("chat_id")
        fault = self.faults.take(method, _target(chat) if chat not in (None, "") else None)
        if fault is not None and fault.kind == "status":
            raise BotApiError(fault.status, _phrase(fault.status))
        if fault is not None and not fault.processed:
            await self.pause(fault.seconds)
            raise BotApiError(504, _phrase(504))
        if method in CHAT_GUARDED:
            self._guard_chat(method, chat_key(chat))
        result = handler(params)
        if inspect.isawaitable(result):
            result = await result
        call.result, call.status = result, 200
        if fault is not None:  # carried out, but the answer is late
            await self.pause(fault.seconds)

    def _guard_chat(self, method: str, chat: int | str) -> None:
        if chat in self.blocked_chats:
            raise BotApiError(403, BLOCKED_DESCRIPTION)
        if chat in self.deactivated_chats:
            raise BotApiError(403, "Forbidden: user is deactivated")
        if chat in self.migrated_chats:
            raise BotApiError(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                migrate_to=self.migrated_chats[chat],
            )
        if method in MESSAGE_CREATING:
            retry_after = self.limiter.admit(chat)
            if retry_after is not None:
                raise BotApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after)

    def _sent_message(self, call: ApiCall) -> JSON:
        if call.method.lower() != "copymessage":
            return dict(call.result)
        chat = chat_key(call.params["chat_id"])
        return self.history.get(chat, call.result["message_id"]) or dict(call.result)

    # -- updates and webhook ---------------------------------------------------------------

    async def _get_updates(self, params: JSON) -> list[JSON]:
        if self.webhook is not None:
            raise BotApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = int(params.get("offset") or 0)
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        timeout = float(params.get("timeout") or 0)
        self._confirm_before(offset)
        self._poll_generation += 1
        generation = self._poll_generation
        self._wake_pollers()  # an older long poll is now superseded
        deadline = asyncio.get_running_loop().time() + timeout
        while not self._queue:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0 or self._stopping.is_set():
                break
            arrived = self._arrived
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(arrived.wait(), timeout=remaining)
            if generation != self._poll_generation:
                raise BotApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; "
                    "make sure that only one bot instance is running",
                )
        return self._queue[:limit]

    def _confirm_before(self, offset: int) -> None:
        """Telegram forgets updates below a positive offset; a negative one keeps the last N."""
        if offset > 0:
            self._queue = [u for u in self._queue if int(u["update_id"]) >= offset]
        elif offset < 0:
            self._queue = self._queue[offset:]

    def _wake_pollers(self) -> None:
        self._arrived.set()
        self._arrived = asyncio.Event()

    def _set_webhook(self, params: JSON) -> bool:
        url = str(params.get("url") or "")
        if not url:
            return self._delete_webhook(params)
        secret = params.get("secret_token")
        if secret is not None and not _valid_secret(str(secret)):
            raise BotApiError(400, "Bad Request: secret token contains unallowed characters")
        allowed = params.get("allowed_updates")
        self.webhook = WebhookSettings(
            url, str(secret) if secret else None, allowed if isinstance(allowed, list) else []
        )
        if params.get("drop_pending_updates") is True:
            self._queue.clear()
        return True

    def _delete_webhook(self, params: JSON) -> bool:
        self.webhook = None
        if params.get("drop_pending_updates") is True:
            self._queue.clear()
        return True

    def _get_webhook_info(self, _params: JSON) -> JSON:
        info: JSON = {
            "url": self.webhook.url if self.webhook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._queue),
        }
        if self.webhook is not None:
            info["max_connections"] = 40
            if self.webhook.allowed_updates:
                info["allowed_updates"] = self.webhook.allowed_updates
        return info


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"Error {status}"


def _target(chat_id: Any) -> str | None:
    return None if chat_id is None else str(chat_key(chat_id))


def _valid_secret(secret: str) -> bool:
    allowed = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
    return 1 <= len(secret) <= 256 and set(secret) <= allowed


if __name__ == "__main__":
    run_standalone(
        lambda port: FakeTelegram(token=None, port=port), "Fake Telegram Bot API on loopback"
    )
