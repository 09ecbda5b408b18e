"""Twilio's requests to us: inbound SMS (`POST /twilio/sms`) and receipts (`POST /twilio/status`).

Every request is checked in this order, and each failure has its own clear answer:
1. a form body (`application/x-www-form-urlencoded`), valid UTF-8, well formed -> else 400;
2. `X-Twilio-Signature` made with our auth token over HARBOUR_PUBLIC_URL + path (not the
   URL this process sees, which a TLS-terminating proxy changes) -> else 403;
3. the fields we need, in the shape we expect -> else 400;
4. stored durably before we answer -> else 503, so Twilio keeps the message.
Oversized bodies never get here: bot/web/app.py answers 413 first. Nothing from the request
(number, body, signature) is ever logged.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from twilio.request_validator import RequestValidator

from bot.phones import inbound_e164
from bot.ports import Acceptor, Receipt, ReceiptSink

log = logging.getLogger(__name__)

SMS_PATH = "/twilio/sms"
STATUS_PATH = "/twilio/status"
SIGNATURE_HEADER = "X-Twilio-Signature"
FORM_TYPE = "application/x-www-form-urlencoded"
MAX_FIELDS = 100
MAX_BODY_CHARS = 1600  # Twilio's limit for one (concatenated) message; over it is refused
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'


class BadRequest(Exception):
    """The request cannot be used. The message is safe to return and to log."""


def twiml() -> Response:
    return Response(EMPTY_TWIML, media_type="text/xml")


def refuse(status: int, why: str) -> Response:
    return PlainTextResponse(why, status_code=status)


def is_message_sid(value: str) -> bool:
    """Shaped like a Twilio message id ("SM" + 32 hex digits today); kept a little loose so
    a new id format does not turn every message away."""
    return 10 <= len(value) <= 64 and value.isascii() and value.isalnum()


async def read_form(request: Request) -> dict[str, str]:
    """The form fields, refusing anything that is not a plain, well-formed form."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != FORM_TYPE:
        raise BadRequest(f"expected {FORM_TYPE}")
    raw = await request.body()
    try:
        text = raw.decode("utf-8")
        pairs = parse_qsl(
            text,
            keep_blank_values=True,
            strict_parsing=bool(text),
            errors="strict",
            max_num_fields=MAX_FIELDS,
        )
    except (UnicodeDecodeError, ValueError):
        raise BadRequest("malformed form body") from None
    form: dict[str, str] = {}
    for key, value in pairs:
        if key in form:
            raise BadRequest(f"repeated field {key}")  # Twilio never repeats a field
        form[key] = value
    return form


class SignatureCheck:
    """Twilio's RequestValidator against the public URL Twilio was told to call."""

    def __init__(self, auth_token: str, public_url: str) -> None:
        self._validator = RequestValidator(auth_token)
        self._public_url = public_url.rstrip("/")

    def url_for(self, request: Request) -> str:
        query = request.url.query
        return self._public_url + request.url.path + (f"?{query}" if query else "")

    def valid(self, request: Request, form: dict[str, str]) -> bool:
        signature = request.headers.get(SIGNATURE_HEADER)
        if not signature:
            return False
        try:
            return bool(self._validator.validate(self.url_for(request), form, signature))
        except (TypeError, ValueError):  # a malformed header must not become a 500
            return False


def sms_fields(form: dict[str, str]) -> tuple[str, str]:
    """(MessageSid, E.164 sender) of an inbound SMS, or BadRequest saying what is wrong."""
    sid = form.get("MessageSid", "")
    if not sid:
        raise BadRequest("missing MessageSid")
    if not is_message_sid(sid):
        raise BadRequest("MessageSid is not a Twilio message id")
    sender = form.get("From")
    if not sender:
        raise BadRequest("missing From")
    normalised = inbound_e164(sender)
    if normalised is None:
        raise BadRequest("From is not an E.164 phone number")
    if "Body" not in form:
        raise BadRequest("missing Body")
    if len(form["Body"]) > MAX_BODY_CHARS:
        raise BadRequest(f"Body must be at most {MAX_BODY_CHARS} characters")
    return sid, normalised


def receipt_fields(form: dict[str, str]) -> Receipt:
    sid = form.get("MessageSid", "")
    status = (form.get("MessageStatus") or form.get("SmsStatus") or "").strip().lower()
    if not is_message_sid(sid):
        raise BadRequest("missing or malformed MessageSid")
    if not status or len(status) > 32 or not status.isalpha():
        raise BadRequest("missing or malformed MessageStatus")
    raw_code = form.get("ErrorCode", "").strip()
    if raw_code and not (raw_code.isdigit() and len(raw_code) <= 6):
        raise BadRequest("malformed ErrorCode")
    return Receipt(sid, status, int(raw_code) if raw_code else None)


Handler = Callable[[Request], Awaitable[Response]]


def webhook_routes(
    check: SignatureCheck, inbound: Acceptor, receipts: ReceiptSink | None
) -> list[Route]:
    async def checked_form(request: Request) -> dict[str, str] | Response:
        try:
            form = await read_form(request)
        except BadRequest as exc:
            return refuse(400, str(exc))
        if not check.valid(request, form):
            log.warning("refused a Twilio webhook with a missing or wrong signature")
            return refuse(403, "signature missing or not valid")
        return form

    async def sms(request: Request) -> Response:
        form = await checked_form(request)
        if isinstance(form, Response):
            return form
        try:
            sid, sender = sms_fields(form)
        except BadRequest as exc:
            return refuse(400, str(exc))
        payload = {**form, "From": sender}
        try:
            await inbound.accept("sms", sid, payload)  # False (a duplicate) is fine too
        except Exception as exc:
            log.error("could not store an inbound SMS (%s); Twilio will retry", type(exc).__name__)
            return refuse(503, "temporarily unavailable")
        return twiml()

    async def status(request: Request) -> Response:
        form = await checked_form(request)
        if isinstance(form, Response):
            return form
        try:
            receipt = receipt_fields(form)
        except BadRequest as exc:
            return refuse(400, str(exc))
        if receipts is not None:
            try:
                await receipts.record(receipt)
            except Exception as exc:
                log.error("could not record a delivery receipt (%s)", type(exc).__name__)
                return refuse(503, "temporarily unavailable")
        return twiml()

    return [
        Route(SMS_PATH, sms, methods=["POST"]),
        Route(STATUS_PATH, status, methods=["POST"]),
    ]
