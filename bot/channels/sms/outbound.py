"""Sending one SMS through the twilio REST client, and never twice.

Outcomes map onto SendResult for the outbox:
- 201 -> sent, with the message sid (the receipt at /twilio/status refers to it);
- 5xx, 429 and connection failures -> retry (the outbox backs off);
- 21610 (the number opted out with the carrier) -> failed, permanent "opted_out";
- an invalid or unreachable number -> failed, permanent "invalid"; other 4xx -> failed.

A request that times out (or loses its connection after being sent) may still have created
the message. It is never resent blindly: we list the recent messages to that number and look
for ours, recognised by a keyed digest of (number, body) and the time we started. Only a
digest and a time are kept, in memory, never the body; a digest stays "unsettled" until a
listing or a later send settles it, and every send with an unsettled digest reconciles first.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import os
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

import aiohttp
from twilio.base.exceptions import TwilioRestException

from bot.ports import Clock, SendResult

log = logging.getLogger(__name__)

OPTED_OUT = 21610
INVALID_NUMBER = frozenset({21211, 21214, 21265, 21408, 21612, 21614})
THROTTLED = 20429
AUTH_FAILED = frozenset({20003, 20005, 20008})
MAX_BODY = 1600
CLOCK_SKEW = timedelta(minutes=5)  # Twilio's clock versus ours, when matching a listing
RECONCILE_PAGE = 20
MAX_UNSETTLED = 10_000
MAX_KNOWN_SIDS = 50_000


class MessagesApi(Protocol):
    """The part of twilio's `client.messages` used here."""

    async def create_async(self, **kwargs: Any) -> Any: ...

    async def list_async(self, **kwargs: Any) -> list[Any]: ...


@dataclass(frozen=True)
class Unsettled:
    started: datetime


class TwilioSender:
    def __init__(
        self, sender: str, status_callback: str | None, clock: Clock, timeout: float
    ) -> None:
        self.sender = sender
        self.status_callback = status_callback
        self.clock = clock
        self.timeout = timeout
        self._key = os.urandom(32)  # digests only mean something inside this process
        self._unsettled: OrderedDict[str, Unsettled] = OrderedDict()
        self._known: OrderedDict[str, None] = OrderedDict()  # sids already given to a send

    def digest(self, to: str, body: str) -> str:
        return hmac.new(self._key, f"{to}\x00{body}".encode(), hashlib.sha256).hexdigest()

    @property
    def unsettled(self) -> int:
        return len(self._unsettled)

    async def send(
        self, api: MessagesApi, to: str, body: str, media: Sequence[str] = ()
    ) -> SendResult:
        """One SMS (an MMS when `media` has URLs for Twilio to attach)."""
        if not body.strip():
            return SendResult(status="failed", error="empty")
        if len(body) > MAX_BODY:
            return SendResult(status="failed", error="too_long")
        digest = self.digest(to, body)
        if digest in self._unsettled:
            settled = await self._reconcile(api, to, digest)
            if settled is not None:
                return settled
        started = self.clock.now()
        try:
            async with asyncio.timeout(self.timeout + 1.0):  # the HTTP deadline, plus a margin
                created = await api.create_async(**self._params(to, body, media))
        except TwilioRestException as exc:
            return self._refused(exc)
        except (TimeoutError, aiohttp.ServerDisconnectedError, aiohttp.ClientPayloadError):
            # Sent, perhaps: the answer never came. Find out before anything is resent.
            self._remember(digest, started)
            log.warning("an SMS send timed out; reconciling before any resend")
            settled = await self._reconcile(api, to, digest)
            # Not listed yet is not proof it never will be: the outbox keeps the attempt in
            # doubt and looks again (find_sent) before anything is re-sent.
            return settled or SendResult(status="retry", error="timeout", in_doubt=True)
        except (aiohttp.ClientError, OSError) as exc:
            return SendResult(status="retry", error=f"connection:{type(exc).__name__}")
        return self._sent(digest, str(created.sid))

    def _params(self, to: str, body: str, media: Sequence[str] = ()) -> dict[str, Any]:
        params: dict[str, Any] = {"to": to, "from_": self.sender, "body": body}
        if media:
            params["media_url"] = list(media)
        if self.status_callback:
            params["status_callback"] = self.status_callback
        return params

    def _sent(self, digest: str, sid: str) -> SendResult:
        self._unsettled.pop(digest, None)
        self._known[sid] = None
        while len(self._known) > MAX_KNOWN_SIDS:
            self._known.popitem(last=False)
        return SendResult(status="sent", provider_id=sid)

    def _remember(self, digest: str, started: datetime) -> None:
        earlier = self._unsettled.get(digest)
        self._unsettled[digest] = earlier or Unsettled(started)
        while len(self._unsettled) > MAX_UNSETTLED:
            self._unsettled.popitem(last=False)

    async def _reconcile(self, api: MessagesApi, to: str, digest: str) -> SendResult | None:
        """`sent` if our message is on Twilio's side after all; `retry` if we cannot tell
        yet; None if it is certainly not there, so it may be sent (again)."""
        attempt = self._unsettled[digest]
        try:
            async with asyncio.timeout(self.timeout + 1.0):
                listed = await api.list_async(to=to, limit=RECONCILE_PAGE, page_size=RECONCILE_PAGE)
        except (TwilioRestException, TimeoutError, aiohttp.ClientError, OSError) as exc:
            log.warning("could not list messages to reconcile a send (%s)", type(exc).__name__)
            return SendResult(status="retry", error="reconcile_failed")
        sid = self._find(listed, to, digest, attempt.started - CLOCK_SKEW)
        if sid is None:
            self._unsettled.pop(digest, None)
            return None
        log.info("a timed-out SMS send had gone through; recorded without resending")
        return self._sent(digest, sid)

    async def find_sent(
        self, api: MessagesApi, to: str, body: str, since: datetime
    ) -> list[str] | None:
        """Sids of messages from our number to `to` with this body, created since `since`
        (less the clock skew), oldest first; None when Twilio could not be asked. The outbox
        leaves out sids other rows already own, so an earlier identical text is not ours."""
        try:
            async with asyncio.timeout(self.timeout + 1.0):
                listed = await api.list_async(to=to, limit=RECONCILE_PAGE, page_size=RECONCILE_PAGE)
        except (TwilioRestException, TimeoutError, aiohttp.ClientError, OSError) as exc:
            log.warning("could not list messages to settle a send (%s)", type(exc).__name__)
            return None
        digest, found = self.digest(to, body), []
        earliest = since - CLOCK_SKEW
        for message in sorted(listed, key=lambda m: _created(m) or earliest):
            sid = str(getattr(message, "sid", "") or "")
            created = _created(message)
            if not sid or created is None or created < earliest:
                continue
            if not str(getattr(message, "direction", "outbound")).startswith("outbound"):
                continue
            if str(getattr(message, "from_", self.sender)) != self.sender:
                continue
            body_there = str(getattr(message, "body", "") or "")
            if hmac.compare_digest(self.digest(to, body_there), digest):
                found.append(sid)
        return found

    def _find(self, listed: Iterable[Any], to: str, digest: str, since: datetime) -> str | None:
        for message in sorted(listed, key=lambda m: _created(m) or since):
            sid = str(getattr(message, "sid", "") or "")
            created = _created(message)
            if not sid or sid in self._known or created is None or created < since:
                continue
            if not str(getattr(message, "direction", "outbound")).startswith("outbound"):
                continue
            if str(getattr(message, "from_", self.sender)) != self.sender:
                continue
            body = str(getattr(message, "body", "") or "")
            if hmac.compare_digest(self.digest(to, body), digest):
                return sid
        return None

    def _refused(self, exc: TwilioRestException) -> SendResult:
        status, code = int(exc.status or 0), int(exc.code or 0)
        if status == 429 or code == THROTTLED:
            return SendResult(status="retry", retry_after=1.0, error="throttled")
        if status >= 500 or status == 0:
            return SendResult(status="retry", error=f"http:{status}")
        if code == OPTED_OUT:
            return SendResult(status="failed", error="twilio:21610", permanent="opted_out")
        if code in INVALID_NUMBER:
            return SendResult(status="failed", error=f"twilio:{code}", permanent="invalid")
        if status == 401 or code in AUTH_FAILED:
            # Our credentials, not the survivor's phone: keep the message and shout.
            log.error("Twilio refused Harbour's credentials (error %s); check the settings", code)
            return SendResult(status="retry", retry_after=60.0, error=f"twilio:{code}")
        log.warning("Twilio refused an SMS (HTTP %d, error %s)", status, code)
        return SendResult(status="failed", error=f"twilio:{code or status}")


def _created(message: Any) -> datetime | None:
    created = getattr(message, "date_created", None)
    return created if isinstance(created, datetime) else None
