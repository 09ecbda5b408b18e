"""Nothing lost, nothing doubled: the outbox under injected faults, on SQLite and PostgreSQL.

Each scenario counts sent, lost, duplicated and out-of-order texts from what the fake Twilio
and Telegram received (delivery_faults.py; bench/faults.py runs the same with the full
figures: a 25 s lock, 20 kills). Duplicates are allowed only for Telegram sends in flight at
a kill -9, and each is counted as an in-doubt re-send.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.settings import Settings
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.twilio_api import FakeTwilio
from tests.integration import delivery_faults as faults


@pytest.fixture
async def twilio() -> AsyncIterator[FakeTwilio]:
    async with FakeTwilio() as server:
        yield server


@pytest.fixture
async def telegram() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(per_chat_limit=1000, overall_limit=100_000) as server:
        yield server


def assert_clean(counts: faults.Counts, doubled_allowed: int = 0) -> None:
    assert (counts.lost, counts.out_of_order) == (0, 0), counts
    assert counts.sent == counts.queued, counts
    assert counts.duplicated <= doubled_allowed, counts


async def test_paced_sms_with_90_queued_sends_each_once(
    settings: Settings, twilio: FakeTwilio, telegram: FakeTelegram
) -> None:
    counts = await faults.paced_sms(settings, twilio, telegram)
    assert counts.notes["virtual_seconds"] > 120  # longer than a lease: renewals kept them
    assert_clean(counts)


async def test_an_hour_of_provider_errors_loses_nothing(
    settings: Settings, twilio: FakeTwilio, telegram: FakeTelegram
) -> None:
    counts = await faults.provider_outage(settings, twilio, telegram, hours=1.0, addresses=2)
    assert counts.notes["longest_backoff_s"] <= 300
    assert_clean(counts)


async def test_answers_slower_than_the_timeout_are_not_sent_twice(
    settings: Settings, twilio: FakeTwilio, telegram: FakeTelegram
) -> None:
    counts = await faults.slow_answers(settings, twilio, telegram)
    assert_clean(counts)
    assert counts.in_doubt_resends == 0


async def test_telegram_answers_past_the_deadline_are_re_sent_once_and_counted(
    settings: Settings, twilio: FakeTwilio, telegram: FakeTelegram
) -> None:
    counts = await faults.slow_answers(
        settings, twilio, telegram, answer_after=1.5, telegram_timeout=0.5, label="past deadline"
    )
    assert (counts.lost, counts.out_of_order, counts.sent) == (0, 0, counts.queued), counts
    assert counts.duplicated == counts.in_doubt_resends <= 3


async def test_a_database_write_lock_during_sends(
    settings: Settings, twilio: FakeTwilio, telegram: FakeTelegram
) -> None:
    assert_clean(await faults.write_lock(settings, twilio, telegram, seconds=3.0))


async def test_kill_9_during_sends(
    settings: Settings, twilio: FakeTwilio, telegram: FakeTelegram
) -> None:
    counts = await faults.killed(settings, twilio, telegram, loops=3, addresses=4)
    assert counts.notes["kills"] == 3
    # Only Telegram sends in flight at a kill may arrive twice, each counted.
    assert_clean(counts, doubled_allowed=counts.in_doubt_resends)
    assert "doubled_sms" not in counts.notes
