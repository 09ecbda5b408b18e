"""The real async twilio client pointed at any base URL, for the fake's own tests.

The working client (a per-request deadline, and Basic credentials sent as a plain header
because aiohttp deprecates `BasicAuth`) lives in production code, bot/channels/sms/http.py;
the fakes reuse it so the tests exercise exactly what Harbour sends with.
"""

from __future__ import annotations

from twilio.rest import Client

from bot.channels.sms.http import make_client


def make_async_client(
    base_url: str, account_sid: str, auth_token: str, *, timeout: float = 10.0
) -> Client:
    """Call it inside the running event loop; close with ``await client.http_client.close()``."""
    return make_client(base_url, account_sid, auth_token, timeout=timeout)
