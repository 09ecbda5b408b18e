"""Channel adapters, one per file. `configured_channels` builds those the settings enable."""

from __future__ import annotations

from bot.ports import Channel
from bot.settings import Settings


def configured_channels(settings: Settings) -> dict[str, Channel]:
    """The real channels enabled by credentials. Imported lazily: local mode needs neither."""
    channels: dict[str, Channel] = {}
    if settings.telegram_enabled:
        from bot.adapters.telegram import TelegramChannel

        channels["telegram"] = TelegramChannel.from_settings(settings)
    if settings.sms_enabled:
        from bot.adapters.twilio_sms import SmsChannel

        channels["sms"] = SmsChannel.from_settings(settings)
    return channels
