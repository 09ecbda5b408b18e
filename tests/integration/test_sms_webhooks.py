"""POST /twilio/sms and /twilio/status: signatures, bad input, storing before answering.

Signatures are made with twilio's real RequestValidator (tests.fakes.twilio_webhooks).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from bot.bootstrap import Harbour, build
from bot.settings import Settings
from bot.store.models import InboxItem
from bot.store.uow import UnitOfWork
from bot.web.app import create_app
from tests.fakes.twilio_api import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, FakeTwilio
from tests.fakes.twilio_webhooks import SIGNATURE_HEADER, inbound_sms_params, signed_webhook
from tests.integration.test_sms_support import (
    HARBOUR_NUMBER,
    MAX_BODY_BYTES,
    SURVIVOR,
    SmsRig,
    add_sms_advocate,
    enrol_sms,
    serve_rig,
    sms_channel,
)

PROXIED = "https://harbour.example.org"  # what Twilio calls; TLS ends at a proxy before us


@pytest.fixture
async def rig(settings: Settings) -> AsyncIterator[SmsRig]:
    async with serve_rig(settings) as made:
        yield made


class BehindProxy:
    """Harbour's app reached over ASGI at http://test, while Twilio signs `public_url`."""

    def __init__(self, harbour: Harbour, http: httpx.AsyncClient, public_url: str) -> None:
        self.harbour = harbour
        self.http = http
        self.public_url = public_url

    async def post_signed_for(
        self, signed_url: str, params: Mapping[str, str], **changes: Any
    ) -> httpx.Response:
        headers, body = signed_webhook(signed_url, dict(params), DEFAULT_AUTH_TOKEN)
        headers.update(changes.get("headers", {}))
        return await self.http.post(
            "/twilio/sms", content=changes.get("body", body), headers=headers
        )

    async def stored(self) -> int:
        async with UnitOfWork(self.harbour.db, self.harbour.cipher) as uow:
            return len(await uow.inbox.unprocessed())


@asynccontextmanager
async def proxied(settings: Settings, public_url: str) -> AsyncIterator[BehindProxy]:
    async with FakeTwilio() as twilio:
        channel = sms_channel(twilio, public_url)
        harbour = await build(settings, {"sms": channel}, pacers={})
        app = create_app(harbour.db, channel.web_routes(harbour.inbound), MAX_BODY_BYTES)
        transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
                yield BehindProxy(harbour, http, public_url)
        finally:
            await channel.stop()
            await harbour.close()


@pytest.fixture
async def proxy(settings: Settings) -> AsyncIterator[BehindProxy]:
    async with proxied(settings, PROXIED) as made:
        yield made


def params(body: str = "hello", **overrides: str) -> dict[str, str]:
    made = inbound_sms_params(
        from_=SURVIVOR, to=HARBOUR_NUMBER, body=body, account_sid=DEFAULT_ACCOUNT_SID
    )
    made.update(overrides)
    return made


# -- the happy path ----------------------------------------------------------------------


async def test_signed_sms_is_stored_answered_with_empty_twiml_and_replied_to(rig: SmsRig) -> None:
    await enrol_sms(rig.harbour, SURVIVOR, await add_sms_advocate(rig.harbour))
    response = await rig.text("menu")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/xml")
    assert response.text.endswith("<Response/>")
    assert await rig.count(InboxItem) == 1
    (reply,) = rig.twilio.sent_to(SURVIVOR)  # the reply went out through the REST API
    assert reply.from_ == HARBOUR_NUMBER
    assert reply.status_callback == rig.public_url + "/twilio/status"
    assert "\n1 " in reply.body  # a numbered menu
    (row,) = await rig.outbox()
    assert (row.status, row.provider_id) == ("sent", reply.sid)


async def test_concurrent_duplicate_message_sids_store_one_and_reply_once(rig: SmsRig) -> None:
    await enrol_sms(rig.harbour, SURVIVOR, await add_sms_advocate(rig.harbour))
    same = params("menu")
    answers = await asyncio.gather(*(rig.post("/twilio/sms", same) for _ in range(8)))
    await rig.harbour.drain()
    assert [a.status_code for a in answers] == [200] * 8  # Twilio must not retry any of them
    assert await rig.count(InboxItem) == 1
    assert len(rig.twilio.sent_to(SURVIVOR)) == 1


# -- signatures ----------------------------------------------------------------------------


async def test_forged_missing_and_tampered_signatures_get_403_and_store_nothing(
    proxy: BehindProxy,
) -> None:
    url = PROXIED + "/twilio/sms"
    forged_headers, body = signed_webhook(url, params(), "not-our-auth-token")
    forged = await proxy.http.post("/twilio/sms", content=body, headers=forged_headers)
    missing = await proxy.post_signed_for(url, params(), headers={SIGNATURE_HEADER: ""})
    no_header = await proxy.http.post(
        "/twilio/sms",
        content=urlencode(params()).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    changed = await proxy.post_signed_for(
        url, params("hello"), body=urlencode(params("hello!")).encode()
    )
    garbage = await proxy.post_signed_for(url, params(), headers={SIGNATURE_HEADER: "%%%"})
    assert [r.status_code for r in (forged, missing, no_header, changed, garbage)] == [403] * 5
    assert await proxy.stored() == 0


async def test_signature_is_checked_against_the_public_url_not_the_one_we_see(
    proxy: BehindProxy,
) -> None:
    as_twilio_signs = await proxy.post_signed_for(PROXIED + "/twilio/sms", params())
    as_we_see_it = await proxy.post_signed_for("http://test/twilio/sms", params())
    plain_http = await proxy.post_signed_for("http://harbour.example.org/twilio/sms", params())
    other_path = await proxy.post_signed_for(PROXIED + "/twilio/status", params())
    assert as_twilio_signs.status_code == 200
    assert [r.status_code for r in (as_we_see_it, plain_http, other_path)] == [403, 403, 403]
    assert await proxy.stored() == 1


async def test_a_port_in_the_public_url_is_part_of_what_is_signed(settings: Settings) -> None:
    """RequestValidator accepts the URL with or without its port (Twilio's own signing is
    inconsistent there), but a different port is a different URL."""
    async with proxied(settings, "https://harbour.example.org:8443") as proxy:
        with_port = await proxy.post_signed_for(
            "https://harbour.example.org:8443/twilio/sms", params()
        )
        without_port = await proxy.post_signed_for(
            "https://harbour.example.org/twilio/sms", params()
        )
        other_port = await proxy.post_signed_for(
            "https://harbour.example.org:9443/twilio/sms", params()
        )
        assert (with_port.status_code, without_port.status_code) == (200, 200)
        assert other_port.status_code == 403


async def test_the_default_port_may_be_signed_either_way(proxy: BehindProxy) -> None:
    """Twilio sometimes signs https://host:443/...; RequestValidator tries both forms."""
    explicit = await proxy.post_signed_for("https://harbour.example.org:443/twilio/sms", params())
    assert explicit.status_code == 200


# -- bad input: a clear 400, never a 500 ----------------------------------------------------


async def test_bad_input_gets_a_clear_400(proxy: BehindProxy) -> None:
    url = PROXIED + "/twilio/sms"
    cases: dict[str, httpx.Response] = {}
    for field in ("MessageSid", "From", "Body"):
        incomplete = params()
        del incomplete[field]
        cases[f"missing {field}"] = await proxy.post_signed_for(url, incomplete)
    for sender in ("07700900123", "447700900123", "+44 7700 900123", "Vodafone", "+1"):
        cases[f"From {sender!r}"] = await proxy.post_signed_for(url, params(From=sender))
    cases["Body of 1601"] = await proxy.post_signed_for(url, params("x" * 1601))
    cases["MessageSid junk"] = await proxy.post_signed_for(url, params(MessageSid="../../x"))
    for name, response in cases.items():
        assert response.status_code == 400, name
        assert response.text and "Traceback" not in response.text, name
    assert "From" in cases["From 'Vodafone'"].text
    # Twilio's maximum, 1,600 characters, is a message like any other.
    at_the_limit = await proxy.post_signed_for(url, params("y" * 1600))
    assert at_the_limit.status_code == 200
    assert await proxy.stored() == 1


async def test_malformed_bodies_and_wrong_content_types_get_400(proxy: BehindProxy) -> None:
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    answers = [
        await proxy.http.post("/twilio/sms", content=b"Body=%FF%FE&From=x", headers=form),
        await proxy.http.post("/twilio/sms", content=b"Body=a&&&From", headers=form),
        await proxy.http.post("/twilio/sms", content=b"\xff\xfe\x00garbage", headers=form),
        await proxy.http.post("/twilio/sms", content=b"Body=a&Body=b", headers=form),
        await proxy.http.post("/twilio/sms", json={"Body": "hi", "From": SURVIVOR}),
        await proxy.http.post("/twilio/sms", content=b"Body=hi", headers={}),
    ]
    assert [a.status_code for a in answers] == [400] * len(answers)
    assert await proxy.stored() == 0


async def test_an_oversized_body_gets_413(proxy: BehindProxy) -> None:
    response = await proxy.post_signed_for(
        PROXIED + "/twilio/sms", params(), body=b"Body=" + b"x" * (MAX_BODY_BYTES + 10)
    )
    assert response.status_code == 413
    assert await proxy.stored() == 0


async def test_only_post_is_served(proxy: BehindProxy) -> None:
    response = await proxy.http.get("/twilio/sms")
    assert response.status_code == 405


# -- the database is down: Twilio must keep the message -------------------------------------


async def test_a_storage_failure_gets_503_so_twilio_retries(proxy: BehindProxy) -> None:
    async def broken(*_args: object) -> int | None:
        raise ConnectionError("database unavailable")

    proxy.harbour.conversations.store = broken  # type: ignore[method-assign]
    response = await proxy.post_signed_for(PROXIED + "/twilio/sms", params())
    assert response.status_code == 503
    assert "Response" not in response.text  # never acknowledged as handled


# -- receipts are checked the same way ------------------------------------------------------


async def test_status_callbacks_need_a_signature_and_well_formed_fields(
    proxy: BehindProxy,
) -> None:
    url = PROXIED + "/twilio/status"
    receipt = {"MessageSid": "SM" + "a" * 32, "MessageStatus": "delivered"}
    headers, body = signed_webhook(url, receipt, "not-our-auth-token")
    forged = await proxy.http.post("/twilio/status", content=body, headers=headers)
    headers, body = signed_webhook(url, {**receipt, "ErrorCode": "x1"}, DEFAULT_AUTH_TOKEN)
    bad_code = await proxy.http.post("/twilio/status", content=body, headers=headers)
    headers, body = signed_webhook(url, {"MessageSid": receipt["MessageSid"]}, DEFAULT_AUTH_TOKEN)
    no_status = await proxy.http.post("/twilio/status", content=body, headers=headers)
    headers, body = signed_webhook(url, receipt, DEFAULT_AUTH_TOKEN)
    unknown = await proxy.http.post("/twilio/status", content=body, headers=headers)
    assert forged.status_code == 403
    assert (bad_code.status_code, no_status.status_code) == (400, 400)
    assert unknown.status_code == 200  # a receipt for a message we do not know: accepted
