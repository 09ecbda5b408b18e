"""The SMS channel over Twilio: signed webhooks in, the REST API out.

Addresses are E.164 numbers ("+447911123456"). Choices are rendered as numbered lines
("1 Housing") that the engine accepts back as the number or the word. The sender is a
plain number (HARBOUR_TWILIO_FROM): never an alphanumeric sender, which would name us on
the handset and cannot be replied to.

    Twilio --POST /twilio/sms-----> signature check -> inbox (deduplicated by MessageSid)
    Twilio --POST /twilio/status--> signature check -> outbox row by message sid
    outbox --send()---------------> REST create (reconciled on timeout) -> SendResult
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from starlette.routing import Route
from twilio.rest import Client

from bot.channels.sms.http import make_client
from bot.channels.sms.outbound import TwilioSender
from bot.channels.sms.webhooks import STATUS_PATH, SignatureCheck, webhook_routes
from bot.phones import inbound_e164
from bot.ports import (
    Acceptor,
    Clock,
    InboundMessage,
    OutboundMessage,
    ReceiptSource,
    SendResult,
    SystemClock,
)
from bot.settings import ConfigError, Settings

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 10.0
# Twilio's own opt-in words: after one of them the carrier lets our messages through again.
# ("YES" is one of them too, but here it also answers questions: it is left to the engine.)
CARRIER_OPT_IN = frozenset({"start", "unstop"})
# Twilio's newer opt-out words, which the carrier honours like STOP. The engine knows STOP in
# every language; these two it is told about here, as plain STOP.
CARRIER_OPT_OUT = frozenset({"revoke", "optout"})
MAX_MMS_MEDIA = 10
MAX_URL = 2048


def mms_media(payload: Mapping[str, Any]) -> list[list[str]]:
    """[url, content type] of each picture, clip or file of an MMS (Twilio keeps it; its
    URL is what the advocate is sent). Only https URLs; at most Twilio's ten."""
    found = []
    for n in range(MAX_MMS_MEDIA):
        url, content_type = payload.get(f"MediaUrl{n}"), payload.get(f"MediaContentType{n}")
        if isinstance(url, str) and url.startswith("https://") and len(url) <= MAX_URL:
            found.append([url, content_type if isinstance(content_type, str) else ""])
    return found


def media_kind(content_type: str) -> str:
    """The word staff texts use for it (staff.media_kind.*)."""
    major = content_type.split("/", 1)[0].lower()
    return {"image": "photo", "video": "video", "audio": "audio"}.get(major, "document")


class SmsChannel:
    name = "sms"
    render_as = "sms"  # numbered choices in the text

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        sender: str,
        api_url: str,
        public_url: str,
        timeout: float = DEFAULT_TIMEOUT,
        clock: Clock | None = None,
    ) -> None:
        if inbound_e164(sender) is None:
            raise ConfigError("HARBOUR_TWILIO_FROM must be a phone number in E.164 form")
        self._account_sid = account_sid
        self._auth_token = auth_token
        self._api_url = api_url
        self._timeout = timeout
        self.public_url = public_url.rstrip("/")
        self.signatures = SignatureCheck(auth_token, self.public_url)
        self.outbound = TwilioSender(
            sender, self.public_url + STATUS_PATH, clock or SystemClock(), timeout
        )
        self._client: Client | None = None
        self._stopped = False
        self.receipt_wait = 2.0  # seconds to look for the send a receipt overtook

    @classmethod
    def from_settings(cls, settings: Settings) -> SmsChannel:
        token = settings.twilio_auth_token
        if not (settings.twilio_account_sid and token and settings.twilio_from):
            raise ConfigError("SMS needs HARBOUR_TWILIO_ACCOUNT_SID, _AUTH_TOKEN and _FROM")
        if not settings.public_url:
            raise ConfigError("HARBOUR_PUBLIC_URL is required when SMS is enabled")
        return cls(
            account_sid=settings.twilio_account_sid,
            auth_token=token.get_secret_value(),
            sender=settings.twilio_from,
            api_url=settings.twilio_api_url,
            public_url=settings.public_url,
        )

    # -- Channel ------------------------------------------------------------------------
    def parse(self, payload: Mapping[str, Any]) -> InboundMessage | None:
        sender = payload.get("From")
        body = payload.get("Body", "")
        if not isinstance(sender, str) or inbound_e164(sender) is None:
            return None
        text = body if isinstance(body, str) else ""
        media = str(payload.get("NumMedia", "0")).strip() not in ("", "0")
        # OptOutType: Twilio's Advanced Opt-Out recognised a keyword (perhaps a custom or
        # translated one) and has already opted the number out or in with the carrier.
        opt_type = str(payload.get("OptOutType", "")).strip().upper()
        keyword = text.strip().lower()
        opt_in = opt_type == "START" or keyword in CARRIER_OPT_IN
        if opt_type == "STOP" or keyword in CARRIER_OPT_OUT:
            text = "STOP"
        elif opt_type == "START":
            text = "START"
        meta: dict[str, Any] = {"resubscribed": True} if opt_in else {}
        attached = mms_media(payload) if media else []
        if attached:  # an MMS: passed on to the advocate as Telegram media is, text as caption
            meta |= {"media": media_kind(attached[0][1]), "media_urls": attached}
        return InboundMessage(
            channel=self.name,
            address=sender,
            text=text,
            kind="media" if attached or (media and not text.strip()) else "text",
            meta=meta,
        )

    async def send(self, message: OutboundMessage) -> SendResult:
        urls = message.meta.get("media_urls")
        media = [str(url) for url in urls] if isinstance(urls, list) else []
        if self._stopped:  # the last sends of a shutdown: a client of their own, closed after
            client = self._make_client()
            try:
                return await self.outbound.send(
                    client.messages, message.address, message.text, media
                )
            finally:
                await client.http_client.close()
        if self._client is None:  # made on first use: it needs the running event loop
            self._client = self._make_client()
        return await self.outbound.send(self._client.messages, message.address, message.text, media)

    async def find_sent(self, message: OutboundMessage, since: datetime) -> list[str] | None:
        """An attempt whose outcome is unknown: is it on Twilio's side? (SentLookup)"""
        if self._client is None:
            self._client = self._make_client()
        return await self.outbound.find_sent(
            self._client.messages, message.address, message.text, since
        )

    def _make_client(self) -> Client:
        return make_client(
            self._api_url, self._account_sid, self._auth_token, timeout=self._timeout
        )

    # -- ChannelRuntime -----------------------------------------------------------------
    def web_routes(self, inbound: Acceptor) -> Sequence[Route]:
        receipts = (
            inbound.delivery_receipts(self.name, self.receipt_wait)
            if isinstance(inbound, ReceiptSource)
            else None
        )
        if receipts is None:
            log.warning("delivery receipts are not recorded: no inbound pipeline to store them")
        return webhook_routes(self.signatures, inbound, receipts)

    async def start(self, inbound: Acceptor) -> None:
        """Nothing to start: Twilio calls us. Set the number's messaging webhook in Twilio's
        console to HARBOUR_PUBLIC_URL + /twilio/sms (POST)."""
        self._stopped = False
        log.info("SMS channel ready: webhooks at /twilio/sms and /twilio/status")

    async def stop(self) -> None:
        self._stopped = True
        if self._client is not None:
            await self._client.http_client.close()
            self._client = None
