"""Channels: Telegram (telegram/), SMS over Twilio (sms/) and local mode (local.py), turning
provider traffic into neutral messages and back. `configured_channels` builds those the
settings enable.

May import: only bot.ports and the foundation; services are reached through the ports.
"""

from __future__ import annotations

from bot.ports import Channel
from bot.settings import Settings


def configured_channels(settings: Settings) -> dict[str, Channel]:
    """The real channels enabled by credentials. Imported lazily: local mode needs neither."""
    channels: dict[str, Channel] = {}
    if settings.telegram_enabled:
        from bot.channels.telegram.channel import TelegramChannel

        channels["telegram"] = TelegramChannel.from_settings(settings)
    if settings.sms_enabled:
        from bot.channels.sms.channel import SmsChannel

        channels["sms"] = SmsChannel.from_settings(settings)
    return channels
