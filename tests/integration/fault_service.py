"""A sending process for the kill -9 scenario (delivery_faults.py): it sends the outbox to
the fake Twilio and Telegram given on the command line until it is killed. It builds only
the outbox sender, so that it starts quickly.

    python -m tests.integration.fault_service TWILIO_URL TELEGRAM_URL   (HARBOUR_* from env)
"""

from __future__ import annotations

import asyncio
import logging
import sys
from datetime import timedelta

from bot.bootstrap import LOCALES_DIR, office_hours
from bot.channels.sms.channel import SmsChannel
from bot.channels.telegram.channel import TelegramChannel, build_bot
from bot.messaging.outbox import OutboxSender
from bot.messaging.pacing import ChannelPacer, Limits
from bot.messaging.staff_notices import StaffNotices
from bot.ports import Channel, SystemClock
from bot.safety.escalation import Escalations
from bot.settings import load_settings
from bot.staff.texts import StaffTexts
from bot.store.database import open_store

HARBOUR_NUMBER = "+447700900999"
TELEGRAM_TOKEN = (
    "123456789:AAFakeHarbourTokenForLoopbackTests00"  # tests.fakes.telegram_api.DEFAULT_TOKEN
)
TWILIO_SID, TWILIO_TOKEN = "AC" + "f" * 32, "fake-auth-token-for-loopback-tests"


def quick_pacers() -> dict[str, ChannelPacer]:
    return {
        "sms": ChannelPacer(Limits(per_second=40.0, per_address_interval=0.02)),
        "telegram": ChannelPacer(Limits(per_second=40.0, per_address_interval=0.02)),
    }


async def main(twilio_url: str, telegram_url: str) -> None:
    logging.basicConfig(level=logging.ERROR)  # in-doubt re-sends are expected here
    settings = load_settings()
    channels: dict[str, Channel] = {
        "sms": SmsChannel(
            account_sid=TWILIO_SID, auth_token=TWILIO_TOKEN, sender=HARBOUR_NUMBER,
            api_url=twilio_url, public_url="http://127.0.0.1:9",
        ),
        "telegram": TelegramChannel(build_bot(TELEGRAM_TOKEN, telegram_url), flood_window=0),
    }  # fmt: skip
    db, cipher = await open_store(settings, migrate=False)
    texts = StaffTexts.load(LOCALES_DIR / "staff")
    escalations = Escalations(texts, office_hours(settings), timedelta(minutes=5))
    sender = OutboxSender(
        db, cipher, channels, quick_pacers(), StaffNotices(texts, escalations), SystemClock(),
        lease=timedelta(seconds=settings.outbox_lease_seconds),
    )  # fmt: skip
    every = sender.lease.total_seconds() / 2

    async def release() -> None:
        while True:
            await sender.release_expired()
            await asyncio.sleep(every)

    releasing = asyncio.create_task(release())
    await sender.run(asyncio.Event(), asyncio.Event(), idle=0.1)
    releasing.cancel()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
