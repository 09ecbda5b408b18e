"""How the fake Bot API reads requests and writes answers, and how Telegram posts to webhooks.

python-telegram-bot 22 sends parameters as a form (or multipart when a file is attached), with
every non-string value JSON-encoded; other clients send JSON. All three are accepted, plus the
query string, and decoded into one dict.
"""

from __future__ import annotations

import json
from typing import Any

import aiohttp
from aiohttp import web

from tests.fakes.telegram_objects import JSON

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
WEBHOOK_TIMEOUT = 10.0  # seconds Telegram-like delivery waits for the webhook to answer
# Parameters that are plain strings: PTB sends every other value JSON-encoded in forms.
STRING_PARAMS = {
    "text",
    "caption",
    "parse_mode",
    "url",
    "secret_token",
    "callback_query_id",
    "action",
    "language_code",
    "ip_address",
    "inline_message_id",
    "title",
    "description",
}


async def post_update_to(
    url: str, update: JSON, secret_token: str | None = None
) -> tuple[int, str]:
    """POST one update to a webhook URL the way Telegram does; returns (status, body)."""
    headers = {SECRET_HEADER: secret_token} if secret_token is not None else {}
    client_timeout = aiohttp.ClientTimeout(total=WEBHOOK_TIMEOUT)
    async with aiohttp.ClientSession(timeout=client_timeout) as session:
        async with session.post(url, json=update, headers=headers) as response:
            return response.status, await response.text()


async def read_params(request: web.Request) -> JSON:
    """Parameters from the query string and a JSON, form or multipart body."""
    params: JSON = {key: _decode(key, value) for key, value in request.query.items()}
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except json.JSONDecodeError as error:
            raise ValueError("bad JSON") from error
        if not isinstance(body, dict):
            raise ValueError("JSON body must be an object")
        params.update(body)
    elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        for key, value in (await request.post()).items():
            if isinstance(value, web.FileField):
                params[key] = {"filename": value.filename, "content_type": value.content_type}
            elif isinstance(value, str):
                params[key] = _decode(key, value)
            else:
                params[key] = _decode(key, bytes(value).decode())
    return params


def _decode(key: str, value: str) -> Any:
    if key in STRING_PARAMS:
        return value
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        return value


def error_response(
    code: int, description: str, retry_after: int | None = None, migrate_to: int | None = None
) -> web.Response:
    body: JSON = {"ok": False, "error_code": code, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    if migrate_to is not None:
        body["parameters"] = {"migrate_to_chat_id": migrate_to}
    return web.json_response(body, status=code)
