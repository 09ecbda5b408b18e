"""Requests Twilio makes to *our* server: inbound SMS and delivery receipts, signed.

The signature is computed with twilio's own `RequestValidator`, so a webhook that accepts
these will accept Twilio's. Sign with the exact public URL the handler validates against
(scheme, host, port and path): that is what the tests about proxies and ports vary.
"""

from __future__ import annotations

from urllib.parse import urlencode

import aiohttp
from twilio.request_validator import RequestValidator

from tests.fakes.twilio_records import API_VERSION, MessageRecord, count_segments, new_sid

SIGNATURE_HEADER = "X-Twilio-Signature"
FORM_TYPE = "application/x-www-form-urlencoded"
CALLBACK_TIMEOUT = aiohttp.ClientTimeout(total=10.0)


def signed_webhook(
    url: str, params: dict[str, str], auth_token: str
) -> tuple[dict[str, str], bytes]:
    """Headers and form body for a POST to `url`, signed as Twilio signs it."""
    signature = RequestValidator(auth_token).compute_signature(url, params)
    headers = {SIGNATURE_HEADER: signature, "Content-Type": FORM_TYPE}
    return headers, urlencode(params).encode()


def inbound_sms_params(
    *, from_: str, to: str, body: str, account_sid: str, message_sid: str | None = None
) -> dict[str, str]:
    """The form fields Twilio posts to a Messaging webhook for one incoming SMS."""
    sid = message_sid or new_sid("SM")
    return {
        "ToCountry": "GB",
        "ToState": "",
        "SmsMessageSid": sid,
        "NumMedia": "0",
        "ToCity": "",
        "FromZip": "",
        "SmsSid": sid,
        "FromState": "",
        "SmsStatus": "received",
        "FromCity": "",
        "Body": body,
        "FromCountry": "GB",
        "To": to,
        "ToZip": "",
        "NumSegments": str(count_segments(body)),
        "MessageSid": sid,
        "AccountSid": account_sid,
        "From": from_,
        "ApiVersion": API_VERSION,
    }


def status_callback_params(record: MessageRecord) -> dict[str, str]:
    """The form fields of a delivery receipt for the record's current status."""
    params = {
        "AccountSid": record.account_sid,
        "ApiVersion": API_VERSION,
        "From": record.from_,
        "MessageSid": record.sid,
        "MessageStatus": record.status,
        "SmsSid": record.sid,
        "SmsStatus": record.status,
        "To": record.to,
    }
    if record.error_code is not None:
        params["ErrorCode"] = str(record.error_code)
    return params


async def post_signed(url: str, params: dict[str, str], auth_token: str) -> tuple[int, str]:
    """POST a signed form to `url` as Twilio would; returns (status, body)."""
    headers, body = signed_webhook(url, params, auth_token)
    async with aiohttp.ClientSession(timeout=CALLBACK_TIMEOUT) as session:
        async with session.post(url, data=body, headers=headers) as response:
            return response.status, await response.text()
