"""The fake Twilio Messages API, exercised through the real twilio 9 client."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from aiohttp import web
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from tests.fakes.clock import FakeClock
from tests.fakes.twilio_api import (
    DEFAULT_ACCOUNT_SID,
    DEFAULT_AUTH_TOKEN,
    FakeTwilio,
    point_client_at,
)
from tests.fakes.twilio_client import make_async_client
from tests.fakes.twilio_records import count_segments
from tests.fakes.twilio_webhooks import SIGNATURE_HEADER, inbound_sms_params, signed_webhook

SURVIVOR = "+447700900123"
OTHER = "+447700900456"
HARBOUR = "+447700900999"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def twilio(clock: FakeClock) -> AsyncIterator[FakeTwilio]:
    async with FakeTwilio(clock=clock) as fake:
        yield fake


async def make_client(fake: FakeTwilio, token: str = DEFAULT_AUTH_TOKEN) -> Client:
    return make_async_client(fake.url, DEFAULT_ACCOUNT_SID, token, timeout=5.0)


@pytest.fixture
async def client(twilio: FakeTwilio) -> AsyncIterator[Client]:
    made = await make_client(twilio)
    yield made
    await made.http_client.close()  # type: ignore[attr-defined]


async def send(client: Client, to: str, body: str = "Your appointment is at 10:00") -> object:
    async with asyncio.timeout(5):
        return await client.messages.create_async(to=to, from_=HARBOUR, body=body)


async def test_create_answers_like_twilio(
    client: Client, twilio: FakeTwilio, clock: FakeClock
) -> None:
    message = await send(client, SURVIVOR)
    assert re.fullmatch(r"SM[0-9a-f]{32}", message.sid)  # type: ignore[attr-defined]
    assert message.status == "queued"  # type: ignore[attr-defined]
    assert message.num_segments == "1"  # type: ignore[attr-defined]
    assert message.error_code is None  # type: ignore[attr-defined]
    assert message.date_created == clock.now()  # type: ignore[attr-defined]
    assert message.date_sent is None  # type: ignore[attr-defined]
    (record,) = twilio.sent_to(SURVIVOR)
    assert record.body == "Your appointment is at 10:00" and record.from_ == HARBOUR


async def test_list_filters_by_number_newest_first_across_pages(
    client: Client, twilio: FakeTwilio, clock: FakeClock
) -> None:
    for n in range(5):
        await send(client, SURVIVOR, f"m{n}")
        clock.advance(timedelta(seconds=1))
    await send(client, OTHER, "not listed")

    listed = await client.messages.list_async(to=SURVIVOR, page_size=2)

    assert [m.body for m in listed] == ["m4", "m3", "m2", "m1", "m0"]
    pages = [r for r in twilio.requests if r.method == "GET"]
    assert len(pages) == 3 and all(r.params["To"] == SURVIVOR for r in pages)


async def test_fetch_one_message(client: Client) -> None:
    created = await send(client, SURVIVOR)
    fetched = await client.messages(created.sid).fetch_async()  # type: ignore[attr-defined]
    assert fetched.to == SURVIVOR and fetched.status == "queued"
    with pytest.raises(TwilioRestException) as raised:
        await client.messages("SM" + "0" * 32).fetch_async()
    assert raised.value.status == 404


async def test_date_sent_filter_skips_queued_messages(
    client: Client, twilio: FakeTwilio, clock: FakeClock
) -> None:
    queued = await send(client, SURVIVOR, "still queued")
    sent = await send(client, SURVIVOR, "sent")
    await twilio.set_status(sent.sid, "sent")  # type: ignore[attr-defined]
    since = clock.now() - timedelta(minutes=1)

    listed = await client.messages.list_async(to=SURVIVOR, date_sent_after=since)

    assert [m.sid for m in listed] == [sent.sid]  # type: ignore[attr-defined]
    assert queued.sid not in {m.sid for m in listed}  # type: ignore[attr-defined]
    assert listed[0].date_sent == clock.now()


async def test_wrong_credentials_are_refused(twilio: FakeTwilio) -> None:
    intruder = await make_client(twilio, token="wrong")
    try:
        with pytest.raises(TwilioRestException) as raised:
            await send(intruder, SURVIVOR)
    finally:
        await intruder.http_client.close()  # type: ignore[attr-defined]
    assert (raised.value.status, raised.value.code) == (401, 20003)
    assert twilio.messages == []


async def test_server_errors_and_throttling_record_nothing(
    client: Client, twilio: FakeTwilio
) -> None:
    twilio.fail_next(status=503)
    twilio.throttle_next(to=SURVIVOR)
    with pytest.raises(TwilioRestException) as outage:
        await send(client, OTHER)
    await send(client, OTHER)  # the 429 is reserved for SURVIVOR
    with pytest.raises(TwilioRestException) as throttled:
        await send(client, SURVIVOR)
    assert outage.value.status == 503
    assert (throttled.value.status, throttled.value.code) == (429, 20429)
    assert [r.to for r in twilio.messages] == [OTHER]
    assert [r.status for r in twilio.requests] == [503, 201, 429]


async def test_opted_out_number_gets_21610(client: Client, twilio: FakeTwilio) -> None:
    twilio.opt_out(SURVIVOR)
    with pytest.raises(TwilioRestException) as raised:
        await send(client, SURVIVOR)
    assert (raised.value.status, raised.value.code) == (400, 21610)
    await send(client, OTHER)
    twilio.opt_in(SURVIVOR)
    await send(client, SURVIVOR)
    assert [r.to for r in twilio.messages] == [OTHER, SURVIVOR]


async def test_bad_sends_get_twilio_error_codes(client: Client) -> None:
    with pytest.raises(TwilioRestException) as too_long:
        await send(client, SURVIVOR, "x" * 1601)
    with pytest.raises(TwilioRestException) as bad_number:
        await send(client, "07700 900123")
    assert too_long.value.code == 21617
    assert bad_number.value.code == 21211


async def test_hang_records_the_message_but_the_answer_never_comes(
    client: Client, twilio: FakeTwilio
) -> None:
    twilio.hang_next(to=SURVIVOR, seconds=30)
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.3):
            await client.messages.create_async(to=SURVIVOR, from_=HARBOUR, body="did it go?")

    # Reconciliation: the message exists, so it must not be sent again.
    listed = await client.messages.list_async(to=SURVIVOR, limit=20)
    assert [m.body for m in listed] == ["did it go?"]
    assert twilio.requests[0].status is None  # still unanswered


async def test_status_callbacks_are_signed_like_twilio(client: Client, twilio: FakeTwilio) -> None:
    received: list[tuple[bool, dict[str, str]]] = []

    async def receipt(request: web.Request) -> web.Response:
        params = {k: str(v) for k, v in (await request.post()).items()}
        valid = RequestValidator(DEFAULT_AUTH_TOKEN).validate(
            str(request.url), params, request.headers.get(SIGNATURE_HEADER, "")
        )
        received.append((valid, params))
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/twilio/status", receipt)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    callback = f"http://127.0.0.1:{runner.addresses[0][1]}/twilio/status"
    try:
        async with asyncio.timeout(5):
            message = await client.messages.create_async(
                to=SURVIVOR, from_=HARBOUR, body="hello", status_callback=callback
            )
        assert await twilio.set_status(message.sid, "sent") == 204
        assert await twilio.set_status(message.sid, "undelivered", error_code=30003) == 204
    finally:
        await runner.cleanup()

    assert [valid for valid, _ in received] == [True, True]
    assert [p["MessageStatus"] for _, p in received] == ["sent", "undelivered"]
    assert received[1][1]["ErrorCode"] == "30003" and "ErrorCode" not in received[0][1]
    assert received[0][1]["MessageSid"] == message.sid
    assert twilio.find(message.sid).status == "undelivered"


async def test_client_deadline_applies_without_asyncio_timeout(twilio: FakeTwilio) -> None:
    impatient = make_async_client(twilio.url, DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, timeout=0.3)
    twilio.hang_next(seconds=30)
    try:
        with pytest.raises(TimeoutError):
            await impatient.messages.create_async(to=SURVIVOR, from_=HARBOUR, body="x")
    finally:
        await impatient.http_client.close()  # type: ignore[attr-defined]
    assert len(twilio.sent_to(SURVIVOR)) == 1


# twilio's own async HTTP client passes aiohttp.BasicAuth as auth=, deprecated in aiohttp 3.14.
@pytest.mark.filterwarnings("ignore:BasicAuth is deprecated:DeprecationWarning")
@pytest.mark.filterwarnings("ignore:The 'auth' parameter is deprecated:DeprecationWarning")
async def test_stock_async_client_needs_only_the_base_url(twilio: FakeTwilio) -> None:
    http = AsyncTwilioHttpClient()
    stock = Client(DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, http_client=http, environment={})
    point_client_at(stock, twilio.url)
    try:
        async with asyncio.timeout(5):
            created = await stock.messages.create_async(to=SURVIVOR, from_=HARBOUR, body="hi")
            listed = await stock.messages.list_async(to=SURVIVOR)
    finally:
        await http.close()
    assert [m.sid for m in listed] == [created.sid]


async def test_sync_client_works_the_same_way(twilio: FakeTwilio) -> None:
    sync_client = Client(DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, environment={})
    point_client_at(sync_client, twilio.url)
    created = await asyncio.to_thread(
        sync_client.messages.create, to=SURVIVOR, from_=HARBOUR, body="sync"
    )
    listed = await asyncio.to_thread(sync_client.messages.list, to=SURVIVOR)
    assert [m.sid for m in listed] == [created.sid]


def test_signed_webhook_validates_only_unchanged() -> None:
    url = "https://harbour.example.org/twilio/sms"
    params = inbound_sms_params(
        from_=SURVIVOR, to=HARBOUR, body="JOIN 7Q2K", account_sid=DEFAULT_ACCOUNT_SID
    )
    headers, body = signed_webhook(url, params, DEFAULT_AUTH_TOKEN)
    validator = RequestValidator(DEFAULT_AUTH_TOKEN)
    signature = headers[SIGNATURE_HEADER]

    assert headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert b"Body=JOIN+7Q2K" in body
    assert re.fullmatch(r"SM[0-9a-f]{32}", params["MessageSid"])
    assert validator.validate(url, params, signature)
    assert validator.validate("https://harbour.example.org:443/twilio/sms", params, signature)
    assert not validator.validate(url.replace("https", "http"), params, signature)
    assert not validator.validate(url, {**params, "Body": "JOIN 0000"}, signature)
    assert not RequestValidator("other-token").validate(url, params, signature)


@pytest.mark.parametrize(
    ("body", "segments"),
    [
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("€" * 80, 1),  # GSM-7 extension: two septets each
        ("€" * 81, 2),
        ("ł" * 70, 1),  # not GSM-7: UCS-2
        ("ł" * 71, 2),
        ("🙂" * 35, 1),  # UTF-16 surrogate pairs count twice
    ],
)
def test_segment_count(body: str, segments: int) -> None:
    assert count_segments(body) == segments
