"""Outages: a send that keeps failing is retried, at most ~5 minutes apart, for the whole retry
window (outbox_retry_hours) before it is given up, and giving up is told to staff. Urgent sends
never give up. Runs on a virtual clock, with a two-hour window to keep it short."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from bot.bootstrap import Harbour
from bot.channels.local import LocalChannel
from bot.messaging.outcomes import backoff_seconds
from bot.ports import InboundMessage, OutboundMessage, SendResult
from bot.settings import Settings, load_settings
from bot.staff.routing import PRIORITY_URGENT
from bot.store.models import OutboxItem
from bot.store.uow import UnitOfWork
from tests.fakes.clock import FakeClock
from tests.harness import Recorder, add_advocate, start


class DownSms:
    """An SMS provider that answers 503 until `up` is set."""

    name = "sms"
    render_as = "sms"

    def __init__(self) -> None:
        self.up = False
        self.tries = 0
        self.sent: list[OutboundMessage] = []

    def parse(self, payload: Mapping[str, Any]) -> InboundMessage | None:
        return None

    async def send(self, message: OutboundMessage) -> SendResult:
        self.tries += 1
        if not self.up:
            return SendResult(status="retry", error="http:503")
        self.sent.append(message)
        return SendResult(status="sent", provider_id=f"SM{len(self.sent)}")


def short_window(settings: Settings) -> Settings:
    return load_settings(
        database_url=settings.database_url,
        data_dir=settings.data_dir,
        secret_key=settings.secret_key,
        outbox_retry_hours=2,
    )


async def rig(settings: Settings) -> tuple[Harbour, Recorder, DownSms, FakeClock]:
    clock, sms, recorder = FakeClock(), DownSms(), Recorder()
    channels = {"local": LocalChannel(recorder, render_as="telegram"), "sms": sms}
    harbour, _ = await start(short_window(settings), channels=channels, clock=clock)
    return harbour, recorder, sms, clock


async def queue_to_sms_survivor(harbour: Harbour, advocate: int) -> None:
    async with UnitOfWork(harbour.db, harbour.cipher) as uow:
        now = harbour.clock.now()
        survivor = await uow.people.new_survivor(
            now, status="active", language="en", advocate_id=advocate
        )
        identity = await uow.people.add_identity("sms", "+447700900123", now, survivor=survivor)
        await uow.session.flush()
        for text, priority, kind in (
            ("ordinary", 0, "message"),
            ("urgent", PRIORITY_URGENT, "message"),
        ):
            uow.outbox.add(
                channel="sms", identity_id=identity.id, payload={"text": text}, now=now,
                priority=priority, kind=kind, survivor_id=survivor.id,
            )  # fmt: skip


async def rows(harbour: Harbour) -> dict[str, OutboxItem]:
    async with UnitOfWork(harbour.db, harbour.cipher) as uow:
        found = (await uow.session.execute(select(OutboxItem).order_by(OutboxItem.id))).scalars()
        return {str(uow.outbox.payload(row).get("text")): row for row in found}


async def run_for(harbour: Harbour, clock: FakeClock, span: timedelta) -> None:
    """Send what is due, then move to the next retry, until `span` has passed."""
    end = clock.now() + span
    while clock.now() < end:
        await harbour.drain()
        async with UnitOfWork(harbour.db, harbour.cipher) as uow:
            due = await uow.outbox.next_due_at(list(harbour.channels))
        step = min(max(due or end, clock.now() + timedelta(seconds=1)), end)
        clock.set(step)
    await harbour.drain()


def test_backoff_is_capped_at_five_minutes() -> None:
    assert 0.8 <= backoff_seconds(1) <= 1.2
    assert all(backoff_seconds(n) <= 300 for n in range(1, 60))
    assert backoff_seconds(30) >= 240


async def test_an_outage_within_the_window_loses_nothing(settings: Settings) -> None:
    harbour, recorder, sms, clock = await rig(settings)
    try:
        await queue_to_sms_survivor(harbour, await add_advocate(harbour))
        await run_for(harbour, clock, timedelta(hours=1, minutes=50))
        assert {row.status for row in (await rows(harbour)).values()} == {"pending"}
        retries_so_far = sms.tries
        assert retries_so_far > 2 * 8  # both rows kept trying, ~5 minutes apart at most
        sms.up = True
        await run_for(harbour, clock, timedelta(minutes=6))
        assert sorted(m.text for m in sms.sent) == ["ordinary", "urgent"]  # each once
        assert recorder.to("advocate:amira") == []  # nobody was told of a loss: none happened
    finally:
        await harbour.close()


async def test_after_the_window_it_is_given_up_and_the_advocate_told_but_urgent_goes_on(
    settings: Settings,
) -> None:
    harbour, recorder, sms, clock = await rig(settings)
    try:
        await queue_to_sms_survivor(harbour, await add_advocate(harbour))
        await run_for(harbour, clock, timedelta(hours=2, minutes=10))
        found = await rows(harbour)
        assert found["ordinary"].status == "failed"
        assert (found["ordinary"].last_error or "").startswith("gave_up:")
        assert found["urgent"].status == "pending"  # urgent never gives up
        told = [m for m in recorder.to("advocate:amira") if m.kind == "alert"]
        assert len(told) == 1 and "+447700900123" not in told[0].text
        await run_for(harbour, clock, timedelta(hours=10))
        assert (await rows(harbour))["urgent"].status == "pending"
        sms.up = True
        await run_for(harbour, clock, timedelta(minutes=6))
        assert [m.text for m in sms.sent] == ["urgent"]
    finally:
        await harbour.close()


async def test_a_staff_address_down_for_the_window_is_reported_to_admins_elsewhere(
    settings: Settings,
) -> None:
    harbour, recorder, _sms, clock = await rig(settings)
    try:
        await add_advocate(harbour, "boss", role="admin")  # reached on the local channel
        async with UnitOfWork(harbour.db, harbour.cipher) as uow:
            now = clock.now()
            amira = await uow.people.add_staff("amira", "advocate", "en", now)
            identity = await uow.people.add_identity("sms", "+447700900555", now, staff=amira)
            await uow.session.flush()
            uow.outbox.add(
                channel="sms", identity_id=identity.id, payload={"text": "a note"}, now=now,
                kind="alert",
            )  # fmt: skip
        await run_for(harbour, clock, timedelta(hours=2, minutes=10))
        assert (await rows(harbour))["a note"].status == "failed"
        told = [m.text for m in recorder.to("staff:boss")]
        assert len(told) == 1 and "amira" in told[0]
        async with UnitOfWork(harbour.db, harbour.cipher) as uow:
            still = await uow.people.identity("sms", "+447700900555")
            assert still is not None and still.status == "active"  # an outage, not a refusal
    finally:
        await harbour.close()
