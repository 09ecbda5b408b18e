"""Message records of the fake Twilio API, serialised as Twilio's 2010-04-01 JSON.

Dates are RFC 2822 strings in GMT, counts are strings, and `date_sent` stays null until the
message leaves the "queued"/"accepted" state, as on Twilio. That last point matters for
reconciliation: a listing filtered on DateSent does not show a message that is still queued.
"""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime
from typing import Any

API_VERSION = "2010-04-01"
STATUSES = ("accepted", "queued", "sending", "sent", "delivered", "undelivered", "failed")
# GSM 03.38: the basic set costs one septet, the extension set two (escape + char).
GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = set("^{}\\[~]|€\f")


def new_sid(prefix: str) -> str:
    """A Twilio-style sid: two letters and 32 lowercase hex digits."""
    return prefix + secrets.token_hex(16)


def count_segments(body: str) -> int:
    """SMS segments Twilio bills for: GSM-7 160/153 septets, otherwise UCS-2 70/67 units."""
    if all(char in GSM7_BASIC or char in GSM7_EXTENSION for char in body):
        septets = sum(2 if char in GSM7_EXTENSION else 1 for char in body)
        return 1 if septets <= 160 else math.ceil(septets / 153)
    units = len(body.encode("utf-16-le")) // 2
    return 1 if units <= 70 else math.ceil(units / 67)


def rfc2822(moment: datetime | None) -> str | None:
    return None if moment is None else format_datetime(moment, usegmt=True)


@dataclass
class MessageRecord:
    account_sid: str
    to: str
    from_: str
    body: str
    date_created: datetime
    status: str = "queued"
    status_callback: str | None = None
    messaging_service_sid: str | None = None
    sid: str = field(default_factory=lambda: new_sid("SM"))
    date_sent: datetime | None = None
    date_updated: datetime | None = None
    error_code: int | None = None
    error_message: str | None = None
    direction: str = "outbound-api"

    @property
    def uri(self) -> str:
        return f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{self.sid}.json"

    def to_json(self) -> dict[str, Any]:
        return {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": self.body,
            "date_created": rfc2822(self.date_created),
            "date_sent": rfc2822(self.date_sent),
            "date_updated": rfc2822(self.date_updated or self.date_created),
            "direction": self.direction,
            "error_code": self.error_code,
            "error_message": self.error_message,
            "from": self.from_,
            "messaging_service_sid": self.messaging_service_sid,
            "num_media": "0",
            "num_segments": str(count_segments(self.body)),
            "price": None,
            "price_unit": "USD",
            "sid": self.sid,
            "status": self.status,
            "subresource_uris": {"media": self.uri.replace(".json", "/Media.json")},
            "to": self.to,
            "uri": self.uri,
        }


def error_body(status: int, code: int, message: str) -> dict[str, Any]:
    """Twilio's classic error JSON; twilio-python turns it into TwilioRestException(code=...).
    (No "type"/"title" keys, or the client would treat it as an RFC 9457 problem instead.)"""
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
