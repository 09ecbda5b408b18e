"""The async HTTP client under the twilio REST client, with a real deadline.

twilio 9.13's `AsyncTwilioHttpClient` on aiohttp 3.14 has two problems, both fixed here:
- it stores `timeout=` but never applies it (`create_async`/`list_async` pass none), so a
  hung request waits forever; here every request gets the client's deadline;
- it wraps the credentials in `aiohttp.BasicAuth`, which raises a DeprecationWarning on every
  request; here the same Basic credentials go in a plain Authorization header.
(Copied from tests/fakes/twilio_client.py, where it is exercised against the fake API.)
"""

from __future__ import annotations

import aiohttp
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client


class DeadlineTwilioHttpClient(AsyncTwilioHttpClient):  # type: ignore[misc]
    async def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - the base class's signature
        allow_redirects: bool = False,
    ) -> Response:
        headers = dict(headers or {})
        if auth is not None:
            headers["Authorization"] = aiohttp.encode_basic_auth(auth[0], auth[1])
        return await super().request(
            method,
            url,
            params=params,
            data=data,
            headers=headers,
            auth=None,
            timeout=timeout if timeout is not None else self.timeout,
            allow_redirects=allow_redirects,
        )


def make_client(base_url: str, account_sid: str, auth_token: str, *, timeout: float) -> Client:
    """A twilio `Client` whose Messages calls go to `base_url`, each with a deadline.

    Call it inside the running event loop (the HTTP client opens an aiohttp session) and
    close it with ``await client.http_client.close()``. `environment={}` keeps TWILIO_EDGE and
    TWILIO_REGION out: either one makes twilio rewrite the URL's host.
    """
    http_client = DeadlineTwilioHttpClient(timeout=timeout)
    client = Client(account_sid, auth_token, http_client=http_client, environment={})
    client.api.base_url = base_url.rstrip("/")
    return client
