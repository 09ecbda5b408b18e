"""Logging that never carries a message body, a phone number, a chat id or a token.

Two layers:
1. Libraries that log content (python-telegram-bot logs whole updates at DEBUG, httpx logs
   request URLs that contain the bot token, twilio logs parameters at INFO, uvicorn's access
   log has paths and client addresses) are only heard from at WARNING and above.
2. Every record that is kept is rendered once and scrubbed: configured secrets, anything
   shaped like a bot token, a phone number or a long run of digits (chat ids) is masked.
Harbour's own code logs ids, codes and counts only; the scrubber is the safety net.
"""

from __future__ import annotations

import logging
import re
import sys
import traceback
from collections.abc import Iterable

# Loggers that may put content into their messages below WARNING.
CHATTY_LIBRARIES = (
    "telegram",
    "httpx",
    "httpcore",
    "twilio",
    "aiohttp",
    "hpack",
    "uvicorn.access",
    "apscheduler",
    "asyncio",
    "sqlalchemy.engine",
    "aiosqlite",
    "urllib3",
    "deep_translator",
    "alembic",  # migration progress is noise in a terminal
)

_BOT_TOKEN = re.compile(r"\b\d{5,}:[A-Za-z0-9_-]{20,}")
# A phone number: optional +, then 7 or more digits that may be split by spaces or dashes.
_PHONE = re.compile(r"\+?\d(?:[ \-]?\d){6,}")
REDACTED = "[redacted]"


class RedactingFilter(logging.Filter):
    """Renders each record and masks secrets, tokens, phone numbers and long digit runs."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = sorted({s for s in secrets if len(s) >= 6}, key=len, reverse=True)

    def add_secret(self, secret: str) -> None:
        if len(secret) >= 6 and secret not in self.secrets:
            self.secrets = sorted([*self.secrets, secret], key=len, reverse=True)

    def scrub(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        text = _BOT_TOKEN.sub(REDACTED, text)
        return _PHONE.sub(REDACTED, text)

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING and record.name.startswith(CHATTY_LIBRARIES):
            return False
        record.msg = self.scrub(record.getMessage())
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            # Exception messages can quote content (a URL with the token, a parsed body):
            # keep the frames and the exception's type, never its message.
            exc = record.exc_info[1]
            frames = "".join(traceback.format_tb(exc.__traceback__))
            record.exc_text = self.scrub(frames) + type(exc).__name__
            record.exc_info = None
        return True


_FILTER = RedactingFilter()


def redacting_filter() -> RedactingFilter:
    return _FILTER


def setup_logging(level: str = "INFO", secrets: Iterable[str] = (), stream: object = None) -> None:
    """Configure the root logger once, with the redacting filter on its handler."""
    for secret in secrets:
        _FILTER.add_secret(secret)
    root = logging.getLogger()
    root.setLevel(level)
    for handler in list(root.handlers):
        if getattr(handler, "_harbour", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stderr)  # type: ignore[arg-type]
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(_FILTER)
    handler._harbour = True  # type: ignore[attr-defined]
    root.addHandler(handler)
