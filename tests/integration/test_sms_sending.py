"""Outbound SMS through the real twilio client and the fake Twilio: retries, throttling,
timeouts reconciled without a duplicate, opt-outs (21610) and delivery receipts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from twilio.base.exceptions import TwilioRestException

from bot.bootstrap import default_pacers
from bot.channels.sms.outbound import TwilioSender
from bot.settings import Settings, load_settings
from bot.store.models import AuditEvent, OutboxItem
from tests.fakes.clock import FakeClock
from tests.integration.test_sms_support import (
    HARBOUR_NUMBER,
    SURVIVOR,
    SmsRig,
    add_sms_advocate,
    enrol_sms,
    serve_rig,
)

ADVOCATE = "advocate:amira"


@pytest.fixture
async def rig(settings: Settings) -> AsyncIterator[SmsRig]:
    async with serve_rig(settings, send_deadline=0.5) as made:
        await enrol_sms(made.harbour, SURVIVOR, await add_sms_advocate(made.harbour))
        yield made


async def later(rig: SmsRig, minutes: int = 10) -> None:
    """Let backoff pass, then send what is due."""
    rig.clock.advance(timedelta(minutes=minutes))
    await rig.harbour.drain()


async def survivor_rows(rig: SmsRig) -> list[OutboxItem]:
    return await rig.outbox(OutboxItem.channel == "sms")


async def test_server_errors_are_retried_and_the_message_sent_once(rig: SmsRig) -> None:
    rig.twilio.fail_next(2, status=503, to=SURVIVOR)
    await rig.text("menu")
    (row,) = await survivor_rows(rig)
    assert (row.status, row.attempts, row.last_error) == ("pending", 1, "http:503")
    assert rig.twilio.sent_to(SURVIVOR) == []
    await later(rig)
    await later(rig)
    (row,) = await survivor_rows(rig)
    (sent,) = rig.twilio.sent_to(SURVIVOR)
    assert (row.status, row.attempts, row.provider_id) == ("sent", 3, sent.sid)


async def test_throttling_is_retried(rig: SmsRig) -> None:
    rig.twilio.throttle_next(to=SURVIVOR)
    await rig.text("menu")
    (row,) = await survivor_rows(rig)
    assert (row.status, row.last_error) == ("pending", "throttled")
    await later(rig)
    assert len(rig.twilio.sent_to(SURVIVOR)) == 1
    assert [r.status for r in rig.twilio.requests if r.method == "POST"] == [429, 201]


async def test_a_timed_out_send_is_reconciled_not_resent(rig: SmsRig) -> None:
    rig.twilio.hang_next(to=SURVIVOR, seconds=30)
    await rig.text("menu")
    (record,) = rig.twilio.sent_to(SURVIVOR)  # Twilio took it; its answer never came
    (row,) = await survivor_rows(rig)
    assert (row.status, row.provider_id) == ("sent", record.sid)
    calls = [(r.method, r.status) for r in rig.twilio.requests]
    assert calls == [("POST", None), ("GET", 200)]  # the listing, never a second create
    await later(rig)
    assert len(rig.twilio.sent_to(SURVIVOR)) == 1
    assert rig.channel.outbound.unsettled == 0


async def test_opted_out_number_is_marked_and_the_advocate_told(rig: SmsRig) -> None:
    rig.twilio.opt_out(SURVIVOR)
    await rig.text("menu")
    (row,) = await survivor_rows(rig)
    assert (row.status, row.last_error) == ("failed", "twilio:21610")
    assert (await rig.identity()).status == "opted_out"
    (alert,) = rig.staff.to(ADVOCATE)
    assert alert.kind == "alert" and "no longer be delivered" in alert.text
    assert SURVIVOR not in alert.text
    # Nothing more is queued for them while opted out, even when they write.
    await rig.text("menu")
    assert len(await survivor_rows(rig)) == 1
    # The carrier's START lets messages through again, and so do we.
    rig.twilio.opt_in(SURVIVOR)
    await rig.text("START")
    assert (await rig.identity()).status == "active"
    assert len(rig.twilio.sent_to(SURVIVOR)) == 1


async def test_receipts_move_the_row_forward_and_never_back(rig: SmsRig) -> None:
    await rig.text("menu")
    (record,) = rig.twilio.sent_to(SURVIVOR)
    # "queued" tells no more than our own "sent" (handed to Twilio): the row keeps it.
    assert await rig.twilio.set_status(record.sid, "queued") == 200
    assert await rig.twilio.set_status(record.sid, "sent") == 200
    assert [r.status for r in await survivor_rows(rig)] == ["sent"]
    assert await rig.twilio.set_status(record.sid, "delivered") == 200
    assert await rig.twilio.set_status(record.sid, "sent") == 200  # late and out of order
    assert [r.status for r in await survivor_rows(rig)] == ["delivered"]
    assert rig.staff.to(ADVOCATE) == []


async def test_an_undelivered_message_is_a_contact_loss_signal(rig: SmsRig) -> None:
    await rig.text("menu")
    (record,) = rig.twilio.sent_to(SURVIVOR)
    assert await rig.twilio.set_status(record.sid, "undelivered", error_code=30003) == 200
    await rig.harbour.drain()
    (row,) = await survivor_rows(rig)
    assert (row.status, row.last_error) == ("undelivered", "twilio:30003")
    (alert,) = rig.staff.to(ADVOCATE)
    assert "could not deliver" in alert.text and "30003" in alert.text
    assert (await rig.identity()).status == "active"  # the number may work again
    assert await rig.count(AuditEvent, AuditEvent.action == "delivery.undelivered") == 1


async def test_a_failed_receipt_with_21610_marks_the_number_opted_out(rig: SmsRig) -> None:
    await rig.text("menu")
    (record,) = rig.twilio.sent_to(SURVIVOR)
    assert await rig.twilio.set_status(record.sid, "failed", error_code=21610) == 200
    await rig.harbour.drain()
    assert (await rig.identity()).status == "opted_out"
    (alert,) = rig.staff.to(ADVOCATE)
    assert "no longer be delivered" in alert.text
    # The same receipt again changes nothing and tells nobody twice.
    assert await rig.twilio.set_status(record.sid, "failed", error_code=21610) == 200
    await rig.harbour.drain()
    assert len(rig.staff.to(ADVOCATE)) == 1


def test_the_sms_rate_is_a_setting() -> None:
    settings = load_settings(sms_per_second=4.5)
    assert default_pacers(settings)["sms"].limits.per_second == 4.5
    assert load_settings().sms_per_second == 1.0


# -- reconciliation, step by step, against a scripted Messages API ---------------------------


class ScriptedApi:
    """Plays back outcomes for create; lists what it has 'created'."""

    def __init__(self, clock: FakeClock, *outcomes: str) -> None:
        self.clock = clock
        self.outcomes = list(outcomes)
        self.created: list[SimpleNamespace] = []
        self.creates = 0
        self.list_fails = 0

    async def create_async(self, **kwargs: Any) -> Any:
        self.creates += 1
        outcome = self.outcomes.pop(0) if self.outcomes else "ok"
        message = SimpleNamespace(
            sid=f"SM{len(self.created):032d}",
            to=kwargs["to"],
            from_=kwargs["from_"],
            body=kwargs["body"],
            direction="outbound-api",
            date_created=self.clock.now(),
        )
        if outcome in ("ok", "lost-answer"):
            self.created.append(message)
        if outcome == "ok":
            return message
        raise TimeoutError  # "lost-answer": created, "lost-request": never arrived

    async def list_async(self, **kwargs: Any) -> list[Any]:
        if self.list_fails:
            self.list_fails -= 1
            raise TwilioRestException(503, "uri", "unavailable")
        return [m for m in reversed(self.created) if m.to == kwargs["to"]]


def sender(clock: FakeClock) -> TwilioSender:
    return TwilioSender(HARBOUR_NUMBER, None, clock, timeout=1.0)


async def test_a_lost_request_is_sent_again_after_the_listing_shows_nothing() -> None:
    clock = FakeClock()
    api, out = ScriptedApi(clock, "lost-request"), sender(clock)
    first = await out.send(api, SURVIVOR, "hello")
    assert (first.status, first.error) == ("retry", "timeout")
    second = await out.send(api, SURVIVOR, "hello")
    assert second.status == "sent" and api.creates == 2 and len(api.created) == 1


async def test_when_the_listing_fails_the_next_attempt_reconciles_first() -> None:
    clock = FakeClock()
    api, out = ScriptedApi(clock, "lost-answer"), sender(clock)
    api.list_fails = 1
    first = await out.send(api, SURVIVOR, "hello")
    assert (first.status, first.error) == ("retry", "reconcile_failed")
    clock.advance(timedelta(seconds=30))
    second = await out.send(api, SURVIVOR, "hello")
    assert second.status == "sent" and second.provider_id == api.created[0].sid
    assert api.creates == 1  # found on the listing: never created twice


async def test_a_message_already_accounted_for_is_not_claimed_twice() -> None:
    """The same text twice to one number: the second is a message of its own."""
    clock = FakeClock()
    api, out = ScriptedApi(clock, "ok", "lost-request"), sender(clock)
    first = await out.send(api, SURVIVOR, "1 Yes\n2 No")
    lost = await out.send(api, SURVIVOR, "1 Yes\n2 No")
    assert lost.status == "retry"  # the listing only shows the first, which is taken
    again = await out.send(api, SURVIVOR, "1 Yes\n2 No")
    assert again.status == "sent" and again.provider_id != first.provider_id
    assert len(api.created) == 2


async def test_empty_and_overlong_texts_fail_without_a_call() -> None:
    clock = FakeClock()
    api, out = ScriptedApi(clock), sender(clock)
    assert (await out.send(api, SURVIVOR, "  ")).error == "empty"
    assert (await out.send(api, SURVIVOR, "x" * 1601)).error == "too_long"
    assert api.creates == 0
