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
        opt_in = str(payload.get("OptOutType", "")).upper() == "START" or (
            text.strip().lower() in CARRIER_OPT_IN
        )
        return InboundMessage(
            channel=self.name,
            address=sender,
            text=text,
            kind="media" if media and not text.strip() else "text",
            meta={"resubscribed": True} if opt_in else {},
        )

    async def send(self, message: OutboundMessage) -> SendResult:
        if self._stopped:  # the last sends of a shutdown: a client of their own, closed after
            client = self._make_client()
            try:
                return await self.outbound.send(client.messages, message.address, message.text)
            finally:
                await client.http_client.close()
        if self._client is None:  # made on first use: it needs the running event loop
            self._client = self._make_client()
        return await self.outbound.send(self._client.messages, message.address, message.text)

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
