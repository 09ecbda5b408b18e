"""The small interfaces at the edges: channels, the translator and the clock.

Channels (bot/channels) and the translator (bot/translation) implement these; tests plug in
fakes that record what they were asked.
Addresses are neutral strings: a Telegram chat id, an E.164 phone number, a local name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, Protocol, runtime_checkable


@dataclass(frozen=True)
class InboundMessage:
    """A provider's payload turned into what the conversation service understands."""

    channel: str
    address: str
    text: str
    choice: str | None = None  # a button's value
    kind: Literal["text", "command", "media"] = "text"
    language_hint: str | None = None  # simulate's "language" on a survivor's first line
    meta: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class OutboundMessage:
    address: str
    text: str
    choices: tuple[tuple[str, str], ...] = ()  # (value, label)
    kind: str = "message"  # message | relay | escalation | alert
    sensitive: bool = False
    meta: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SendResult:
    """What happened to one send. `error` is a short code, never message content."""

    status: Literal["sent", "retry", "failed"]
    provider_id: str | None = None
    retry_after: float | None = None
    error: str | None = None
    permanent: Literal["blocked", "opted_out", "invalid"] | None = None
    moved_to: str | None = None  # the provider moved the address (a migrated Telegram group)
    # The provider may have accepted it although we never heard (a timeout after the request
    # went out): the outbox must find out, or re-send at most once, never blindly.
    in_doubt: bool = False


class Channel(Protocol):
    name: str

    def parse(self, payload: Mapping[str, Any]) -> InboundMessage | None:
        """Turn a stored raw payload into a message, or None if there is nothing to answer."""

    async def send(self, message: OutboundMessage) -> SendResult:
        """Deliver one message. Never raises for provider errors: returns a SendResult."""


@runtime_checkable
class SentLookup(Protocol):
    """A channel whose provider can list what was sent (Twilio): an attempt whose outcome is
    unknown is settled by looking, not by sending again."""

    async def find_sent(self, message: OutboundMessage, since: datetime) -> list[str] | None:
        """Provider ids of messages like this one, to this address, created since `since`,
        oldest first. None when the provider could not be asked."""


class Translator(Protocol):
    async def translate(self, text: str, source: str | None, target: str) -> str | None:
        """The translation, or None when it failed or timed out (the caller keeps the original)."""


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class Acceptor(Protocol):
    async def accept(self, channel: str, provider_id: str, payload: Mapping[str, Any]) -> bool:
        """Store a raw payload durably (False: a duplicate). Raises if it could not be stored,
        in which case the provider must NOT be acknowledged."""


@dataclass(frozen=True)
class Receipt:
    """A provider's later word on a message we handed over (an SMS status callback)."""

    provider_id: str
    status: str  # the provider's word, e.g. "delivered"
    error_code: int | None = None


class ReceiptSink(Protocol):
    async def record(self, receipt: Receipt) -> bool:
        """Record a receipt. False: not recorded yet (unknown message), so the provider should
        send it again. Raises if it could not be stored."""


@runtime_checkable
class ReceiptSource(Protocol):
    """An Acceptor that can also take delivery receipts for a channel."""

    def delivery_receipts(self, channel: str, unknown_wait: float) -> ReceiptSink: ...


@runtime_checkable
class ChannelRuntime(Protocol):
    """What a channel with its own traffic (webhooks, polling) adds to `harbour run`."""

    def web_routes(self, inbound: Acceptor) -> Sequence[Any]:
        """Starlette routes for this channel's webhooks."""

    async def start(self, inbound: Acceptor) -> None:
        """Begin receiving (start polling, register a webhook). Must return promptly."""

    async def stop(self) -> None:
        """Stop receiving and release connections."""


class ManualClock:
    """A clock that moves only when told: `harbour simulate` and tests use it to travel in time."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime.now(UTC)

    def now(self) -> datetime:
        return self._now

    def set(self, when: datetime) -> None:
        if when.tzinfo is None:
            raise ValueError("naive datetime")
        self._now = when


class Ticker(Protocol):
    """A periodic job (reminders, re-alerts, check-ins, purge). It does what is due at `now`,
    reading only the database, and returns when it next has something due (None: nothing
    scheduled). Jobs carry ids only, never message text."""

    async def tick(self, now: datetime) -> datetime | None: ...
