"""A fake Twilio Messages REST API (2010-04-01) on loopback, for the real twilio 9 client.

How to point the real client at it (or at any base URL, e.g. HARBOUR_TWILIO_API_URL): set
`client.api.base_url`. `client.api` is the cached `Api` domain and the Messages resources build
their URLs from its `base_url` ("https://api.twilio.com" by default), so one assignment
redirects create/list/fetch, sync and async alike (`point_client_at` below). For the async
client use `tests.fakes.twilio_client.make_async_client`, which also fixes two problems of
twilio 9.13's AsyncTwilioHttpClient (its timeout is ignored; it uses the deprecated
aiohttp.BasicAuth) and keeps TWILIO_EDGE/TWILIO_REGION, which rewrite the host, out.

Run standalone with ``python -m tests.fakes.twilio_api --port 8082``; it prints nothing secret
(the default test account sid and token are constants below).
"""

from __future__ import annotations

import base64
import binascii
import hmac
from dataclasses import dataclass

from aiohttp import web
from twilio.rest import Client

from tests.fakes.clock import SystemClock, WallClock
from tests.fakes.faults import Fault, FaultScript
from tests.fakes.loopback import LoopbackServer, run_standalone
from tests.fakes.twilio_listing import list_page
from tests.fakes.twilio_records import API_VERSION, MessageRecord, error_body
from tests.fakes.twilio_webhooks import post_signed, status_callback_params

DEFAULT_ACCOUNT_SID = "AC" + "f" * 32
DEFAULT_AUTH_TOKEN = "fake-auth-token-for-loopback-tests"
MAX_BODY = 1600
SENT_STATUSES = {"sent", "delivered", "undelivered", "failed"}


def point_client_at(client: Client, base_url: str) -> None:
    """Send the Messages API calls of a twilio `Client` to `base_url` (no trailing slash)."""
    client.api.base_url = base_url.rstrip("/")


@dataclass
class ApiRequest:
    method: str
    path: str
    params: dict[str, str]
    status: int | None = None  # None while the answer is pending (or never comes)


class FakeTwilio(LoopbackServer):
    def __init__(
        self,
        *,
        account_sid: str = DEFAULT_ACCOUNT_SID,
        auth_token: str = DEFAULT_AUTH_TOKEN,
        port: int = 0,
        clock: WallClock | None = None,
    ) -> None:
        super().__init__(port=port)
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.clock: WallClock = clock or SystemClock()
        self.messages: list[MessageRecord] = []
        self.requests: list[ApiRequest] = []
        self.faults = FaultScript()
        self.opted_out: set[str] = set()
        self.callbacks: list[tuple[str, dict[str, str], int]] = []  # (url, params, answer)

    def build_app(self) -> web.Application:
        app = web.Application()
        base = f"/{API_VERSION}/Accounts/{{account}}/Messages"
        app.router.add_post(base + ".json", self._create)
        app.router.add_get(base + ".json", self._list)
        app.router.add_get(base + "/{sid}.json", self._fetch)
        return app

    # -- scripting ---------------------------------------------------------------------------

    def fail_next(self, n: int = 1, *, status: int = 500, to: str | None = None) -> None:
        """The next `n` sends (optionally to one number) answer `status`; nothing is recorded."""
        self.faults.add(Fault("status", n, status=status, method="create", target=to))

    def throttle_next(self, n: int = 1, *, to: str | None = None) -> None:
        """The next `n` sends answer 429 (Twilio error 20429); nothing is recorded."""
        self.fail_next(n, status=429, to=to)

    def hang_next(self, n: int = 1, *, seconds: float = 30.0, to: str | None = None) -> None:
        """The next `n` sends ARE recorded, but the answer only comes after `seconds` (or
        never, if the client gives up first): the case timeout reconciliation must handle."""
        self.faults.add(Fault("hang", n, seconds=seconds, method="create", target=to))

    def opt_out(self, number: str) -> None:
        """The number texted STOP: sends to it answer 400 with error 21610 until `opt_in`."""
        self.opted_out.add(number)

    def opt_in(self, number: str) -> None:
        self.opted_out.discard(number)

    # -- reading and driving delivery --------------------------------------------------------

    def sent_to(self, number: str) -> list[MessageRecord]:
        return [record for record in self.messages if record.to == number]

    def find(self, sid: str) -> MessageRecord:
        for record in self.messages:
            if record.sid == sid:
                return record
        raise KeyError(sid)

    async def set_status(
        self, sid: str, status: str, *, error_code: int | None = None
    ) -> int | None:
        """Move a message to `status` and, if it has a StatusCallback, post the signed receipt
        there as Twilio does. Returns the callback's HTTP status (None without a callback)."""
        record = self.find(sid)
        now = self.clock.now()
        record.status, record.date_updated = status, now
        if status in SENT_STATUSES and record.date_sent is None:
            record.date_sent = now
        if error_code is not None:
            record.error_code, record.error_message = error_code, f"Twilio error {error_code}"
        if record.status_callback is None:
            return None
        params = status_callback_params(record)
        answer, _ = await post_signed(record.status_callback, params, self.auth_token)
        self.callbacks.append((record.status_callback, params, answer))
        return answer

    # -- handlers ----------------------------------------------------------------------------

    async def _create(self, request: web.Request) -> web.Response:
        form = {key: str(value) for key, value in (await request.post()).items()}
        logged = ApiRequest("POST", request.path, form)
        self.requests.append(logged)
        denied = self._check_auth(request)
        if denied is not None:
            return _answer(logged, denied)
        fault = self.faults.take("create", form.get("To"))
        if fault is not None and fault.kind == "status":
            return _answer(logged, _fault_response(fault.status))
        invalid = _validate_send(form, self.opted_out)
        if invalid is not None:
            return _answer(logged, invalid)
        record = MessageRecord(
            account_sid=self.account_sid,
            to=form["To"],
            from_=form.get("From", ""),
            body=form.get("Body", ""),
            date_created=self.clock.now(),
            status_callback=form.get("StatusCallback") or None,
            messaging_service_sid=form.get("MessagingServiceSid") or None,
        )
        self.messages.append(record)
        if fault is not None:  # hang: recorded, answer withheld
            await self.pause(fault.seconds)
        return _answer(logged, web.json_response(record.to_json(), status=201))

    async def _list(self, request: web.Request) -> web.Response:
        query = dict(request.query)
        logged = ApiRequest("GET", request.path, query)
        self.requests.append(logged)
        denied = self._check_auth(request)
        if denied is not None:
            return _answer(logged, denied)
        try:
            page = list_page(self.messages, query, request.path)
        except ValueError as error:
            return _answer(logged, _json_error(400, 20001, str(error)))
        return _answer(logged, web.json_response(page))

    async def _fetch(self, request: web.Request) -> web.Response:
        logged = ApiRequest("GET", request.path, {})
        self.requests.append(logged)
        denied = self._check_auth(request)
        if denied is not None:
            return _answer(logged, denied)
        try:
            record = self.find(request.match_info["sid"])
        except KeyError:
            return _answer(logged, _json_error(404, 20404, "The requested resource was not found"))
        return _answer(logged, web.json_response(record.to_json()))

    def _check_auth(self, request: web.Request) -> web.Response | None:
        if request.match_info["account"] != self.account_sid:
            return _json_error(404, 20404, "The requested resource was not found")
        user, password = _basic_credentials(request.headers.get("Authorization", ""))
        good_user = hmac.compare_digest(user.encode(), self.account_sid.encode())
        good_password = hmac.compare_digest(password.encode(), self.auth_token.encode())
        if not (good_user and good_password):
            return _json_error(401, 20003, "Authenticate")
        return None


def _validate_send(form: dict[str, str], opted_out: set[str]) -> web.Response | None:
    to = form.get("To", "")
    if not to:
        return _json_error(400, 21604, "A 'To' phone number is required.")
    if not form.get("From") and not form.get("MessagingServiceSid"):
        return _json_error(400, 21603, "A 'From' phone number is required.")
    if not form.get("Body") and not form.get("MediaUrl"):
        return _json_error(400, 21602, "Message body is required.")
    if len(form.get("Body", "")) > MAX_BODY:
        return _json_error(
            400, 21617, "The concatenated message body exceeds the 1600 character limit."
        )
    if not (to.startswith("+") and to[1:].isdigit() and 8 <= len(to) <= 16):
        return _json_error(400, 21211, "Invalid 'To' Phone Number")  # number not echoed
    if to in opted_out:
        return _json_error(400, 21610, "Attempt to send to unsubscribed recipient")
    return None


def _fault_response(status: int) -> web.Response:
    if status == 429:
        return _json_error(429, 20429, "Too Many Requests")
    return _json_error(status, 20500, "An internal server error has occurred")


def _json_error(status: int, code: int, message: str) -> web.Response:
    return web.json_response(error_body(status, code, message), status=status)


def _answer(logged: ApiRequest, response: web.Response) -> web.Response:
    logged.status = response.status
    return response


def _basic_credentials(header: str) -> tuple[str, str]:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return "", ""
    try:
        decoded = base64.b64decode(encoded, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return "", ""
    user, _, password = decoded.partition(":")
    return user, password


if __name__ == "__main__":
    run_standalone(lambda port: FakeTwilio(port=port), "Fake Twilio Messages API on loopback")
