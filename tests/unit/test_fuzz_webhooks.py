"""Fuzzing every webhook endpoint of the real Starlette app (Telegram, Twilio SMS and
receipts, health): any body, any content type, with or without valid credentials, gets
2xx, 400, 403 or 413, never a 500. Bodies that pass the checks are stored, nothing else."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.routing import Route
from twilio.request_validator import RequestValidator

from bot.channels.sms.webhooks import (
    SIGNATURE_HEADER,
    SMS_PATH,
    STATUS_PATH,
    SignatureCheck,
    webhook_routes,
)
from bot.channels.telegram.receive import SECRET_HEADER, WEBHOOK_PATH, WebhookEndpoint
from bot.web.app import create_app

SECRET = "fuzz-secret-Token_1"
AUTH_TOKEN = "fuzz-auth-token-0123456789abcdef"
PUBLIC = "https://harbour.example.org"
MAX_BODY = 4096
ALLOWED = {200, 400, 403, 413}


class StoreAll:
    def __init__(self) -> None:
        self.stored: list[tuple[str, str]] = []

    async def accept(self, channel: str, provider_id: str, payload: Mapping[str, Any]) -> bool:
        self.stored.append((channel, provider_id))
        return True


class FakeDatabase:  # /healthz only touches db.engine
    class engine:
        @staticmethod
        def connect() -> Any:
            raise RuntimeError("no database in this test")


def build(acceptor: StoreAll) -> httpx.AsyncClient:
    telegram = WebhookEndpoint(SECRET, acceptor, lambda _update: None)
    routes = [Route(WEBHOOK_PATH, telegram.handle, methods=["POST"])]
    routes += webhook_routes(SignatureCheck(AUTH_TOKEN, PUBLIC), acceptor, None)
    app = create_app(FakeDatabase(), routes, max_body_bytes=MAX_BODY)  # type: ignore[arg-type]
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner),
    max_leaves=20,
)
updates = st.fixed_dictionaries(
    {"update_id": st.integers(min_value=-5, max_value=2**40)},
    optional={"message": json_values, "callback_query": json_values, "edited_message": json_values},
)
bodies = st.one_of(
    st.binary(max_size=MAX_BODY + 200),
    json_values.map(lambda v: json.dumps(v).encode()),
    updates.map(lambda u: json.dumps(u).encode()),
    st.dictionaries(st.text(max_size=20), st.text(max_size=200), max_size=8).map(
        lambda form: urlencode(form).encode()
    ),
)
content_types = st.sampled_from(
    [None, "application/json", "application/x-www-form-urlencoded", "text/plain",
     "multipart/form-data; boundary=x", "application/json; charset=utf-8", "\x00bad"]
)  # fmt: skip
paths = st.sampled_from([WEBHOOK_PATH, SMS_PATH, STATUS_PATH, "/healthz", "/nowhere"])


def signed_form(path: str, form: dict[str, str]) -> tuple[bytes, dict[str, str]]:
    signature = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC + path, form)
    headers = {"Content-Type": "application/x-www-form-urlencoded", SIGNATURE_HEADER: signature}
    return urlencode(form).encode(), headers


async def post(path: str, body: bytes, headers: dict[str, str]) -> int:
    async with build(StoreAll()) as client:
        return (await client.post(path, content=body, headers=headers)).status_code


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(paths, bodies, content_types, st.booleans())
def test_any_body_anywhere_never_gets_a_500(
    path: str, body: bytes, content_type: str | None, with_secret: bool
) -> None:
    headers = {SECRET_HEADER: SECRET} if with_secret else {}
    if content_type is not None:
        headers["Content-Type"] = content_type
    status = asyncio.run(post(path, body, headers))
    assert status in ALLOWED | {404, 405}  # unknown paths and GET-only routes
    if path in (WEBHOOK_PATH, SMS_PATH, STATUS_PATH):
        assert status in ALLOWED


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from([SMS_PATH, STATUS_PATH]),
    st.dictionaries(
        st.sampled_from(["MessageSid", "From", "Body", "MessageStatus", "ErrorCode", "To", "x"]),
        st.text(max_size=40),
        max_size=6,
    ),
)
def test_signed_twilio_forms_of_any_shape_get_a_clear_answer(
    path: str, form: dict[str, str]
) -> None:
    body, headers = signed_form(path, form)
    status = asyncio.run(post(path, body, headers))
    assert status in {200, 400}  # signed: the shape decides, never a crash


@settings(max_examples=200, deadline=None)
@given(updates)
def test_authentic_telegram_updates_of_any_shape_are_stored_or_refused(
    update: dict[str, Any],
) -> None:
    acceptor = StoreAll()

    async def run() -> int:
        async with build(acceptor) as client:
            headers = {SECRET_HEADER: SECRET, "Content-Type": "application/json"}
            return (await client.post(WEBHOOK_PATH, json=update, headers=headers)).status_code

    status = asyncio.run(run())
    stored = acceptor.stored == [("telegram", str(update["update_id"]))]
    assert (status, stored) in {(200, True), (400, False)}
    assert (status == 200) is (update["update_id"] >= 0)


def test_a_declared_foreign_content_type_is_refused_before_any_handler() -> None:
    acceptor = StoreAll()

    async def run() -> int:
        async with build(acceptor) as client:
            headers = {SECRET_HEADER: SECRET, "Content-Type": "text/plain"}
            body = json.dumps({"update_id": 5}).encode()
            return (await client.post(WEBHOOK_PATH, content=body, headers=headers)).status_code

    assert asyncio.run(run()) == 400
    assert acceptor.stored == []
