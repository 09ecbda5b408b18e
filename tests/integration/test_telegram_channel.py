"""The Telegram adapter against the fake Bot API, through the real python-telegram-bot client:
what parse() makes of each kind of update, and what send() makes of each answer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from itertools import pairwise

import pytest

from bot.channels.telegram.channel import TelegramChannel
from bot.channels.telegram.parse import parse_update
from bot.ports import OutboundMessage
from tests.fakes.telegram_api import FakeTelegram
from tests.integration.telegram_harness import channel_for

CHAT = 5_550_001
OTHER = 5_550_002


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(per_chat_limit=1000) as server:
        yield server


@pytest.fixture
async def channel(fake: FakeTelegram) -> AsyncIterator[TelegramChannel]:
    made = channel_for(fake)
    yield made
    await made.stop()


def test_parse_text_command_edit_button_and_media() -> None:
    fake = FakeTelegram()  # only its update builder is used: no server needed
    build = fake.updates
    text = parse_update(build.text(CHAT, "hello there"))
    start = parse_update(build.text(CHAT, "/start@fake_test_bot ABC234"))
    edited = parse_update(build.edited_message(CHAT, 1, "hello, edited"))
    photo = parse_update(build.photo(CHAT, caption="look"))
    voice = parse_update(build.voice(CHAT))
    where = parse_update(build.location(CHAT, 51.5, -0.12))

    assert text is not None and (text.kind, text.text, text.address) == (
        "text",
        "hello there",
        str(CHAT),
    )
    assert start is not None and (start.kind, start.text) == ("command", "/start ABC234")
    assert edited is not None and edited.text == "hello, edited" and edited.meta["edited"]
    assert edited.meta["message_id"] == 1  # the same message, handled as a new one
    assert photo is not None and (photo.kind, photo.text, photo.meta["media"]) == (
        "media",
        "look",
        "photo",
    )
    assert voice is not None and voice.kind == "media" and voice.meta["media"] == "voice"
    assert where is not None and where.meta["media"] == "location"
    assert where.meta["chat_id"] == CHAT and isinstance(where.meta["message_id"], int)


async def test_parse_button_press(fake: FakeTelegram, channel: TelegramChannel) -> None:
    await channel.send(OutboundMessage(str(CHAT), "Safe?", choices=(("safe", "Yes"),)))
    update = fake.updates.callback_query(CHAT, "safe")
    pressed = parse_update(update)
    assert pressed is not None and pressed.choice == "safe" and pressed.address == str(CHAT)
    assert pressed.meta["callback_query_id"] == update["callback_query"]["id"]


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"update_id": 1},
        {"update_id": 1, "message": "text"},
        {"update_id": 1, "message": {"message_id": 1, "chat": {"id": "x"}, "text": "hi"}},
        {"update_id": 1, "message": {"message_id": 1, "chat": {"id": 5}, "text": 7}},
        {"update_id": 1, "callback_query": {"id": 3, "data": "x"}},
        {"update_id": 1, "message": {"message_id": 1, "chat": {"id": 5}, "new_chat_title": "t"}},
        {
            "update_id": 1,
            "message": {"message_id": 1, "chat": {"id": 5}, "from": {"is_bot": True}, "text": "x"},
        },
    ],
)
def test_parse_ignores_what_cannot_be_answered(payload: dict[str, object]) -> None:
    assert parse_update(payload) is None


async def test_send_records_message_id_buttons_and_protection(
    fake: FakeTelegram, channel: TelegramChannel
) -> None:
    first = await channel.send(
        OutboundMessage(str(CHAT), "Is it safe?", choices=(("safe", "Yes"), ("not_safe", "No")))
    )
    second = await channel.send(OutboundMessage(str(CHAT), "Private", sensitive=True))

    assert (first.status, first.provider_id) == ("sent", "1")
    assert (second.status, second.provider_id) == ("sent", "2")
    sent = fake.sent_to(CHAT)
    keyboard = sent[0]["reply_markup"]["inline_keyboard"]
    assert [[b["callback_data"] for b in row] for row in keyboard] == [["safe"], ["not_safe"]]
    assert "has_protected_content" not in sent[0]
    assert sent[1]["has_protected_content"] is True


async def test_overlong_button_value_is_left_out_not_fatal(
    fake: FakeTelegram, channel: TelegramChannel
) -> None:
    result = await channel.send(
        OutboundMessage(str(CHAT), "Pick", choices=(("x" * 65, "Too long"), ("ok", "Fine")))
    )
    assert result.status == "sent"
    (row,) = fake.sent_to(CHAT)[0]["reply_markup"]["inline_keyboard"]
    assert [b["callback_data"] for b in row] == ["ok"]


async def test_rate_limit_answer_becomes_retry_after() -> None:
    async with FakeTelegram() as strict:  # one message a second per chat
        channel = channel_for(strict, flood_window=0.0)  # the adapter's own guard off
        try:
            assert (await channel.send(OutboundMessage(str(CHAT), "one"))).status == "sent"
            result = await channel.send(OutboundMessage(str(CHAT), "two"))
        finally:
            await channel.stop()
    assert result.status == "retry" and result.error == "rate_limited"
    assert result.retry_after is not None and result.retry_after >= 1
    assert strict.too_many_requests_sent == 1


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_server_errors_are_retried(
    fake: FakeTelegram, channel: TelegramChannel, status: int
) -> None:
    fake.fail_next(status=status, method="sendMessage")
    result = await channel.send(OutboundMessage(str(CHAT), "hello"))
    assert (result.status, result.error, result.permanent) == ("retry", "server_error", None)
    assert (await channel.send(OutboundMessage(str(CHAT), "hello"))).status == "sent"


async def test_timeout_is_retried(fake: FakeTelegram) -> None:
    from telegram.request import HTTPXRequest

    from bot.channels.telegram.channel import RawUpdatesBot
    from tests.fakes.telegram_api import DEFAULT_TOKEN

    quick = RawUpdatesBot(
        DEFAULT_TOKEN, base_url=fake.base_url, request=HTTPXRequest(read_timeout=0.3)
    )
    channel = TelegramChannel(quick)
    fake.hang_next(seconds=2, method="sendMessage")
    try:
        result = await channel.send(OutboundMessage(str(CHAT), "hello"))
    finally:
        await channel.stop()
    assert (result.status, result.error) == ("retry", "timeout")


async def test_blocked_and_unknown_chats_fail_permanently(
    fake: FakeTelegram, channel: TelegramChannel
) -> None:
    fake.block(CHAT)
    blocked = await channel.send(OutboundMessage(str(CHAT), "hello"))
    fake.fail_next(status=400, method="sendMessage")  # a plain 400: our mistake, not theirs
    bad = await channel.send(OutboundMessage(str(OTHER), "hello"))
    assert (blocked.status, blocked.permanent) == ("failed", "blocked")
    assert (bad.status, bad.permanent, bad.error) == ("failed", None, "bad_request")


async def test_chat_not_found_is_invalid(fake: FakeTelegram, channel: TelegramChannel) -> None:
    from tests.fakes.telegram_messages import BotApiError

    def not_found(_params: dict[str, object]) -> None:
        raise BotApiError(400, "Bad Request: chat not found")

    fake._handlers["sendmessage"] = not_found
    result = await channel.send(OutboundMessage(str(CHAT), "hello"))
    assert (result.status, result.permanent, result.error) == (
        "failed",
        "invalid",
        "chat_not_found",
    )


async def test_copy_carries_the_case_code_and_never_downloads(
    fake: FakeTelegram, channel: TelegramChannel
) -> None:
    photo = fake.updates.photo(CHAT, caption="my papers")["message"]
    result = await channel.send(
        OutboundMessage(
            str(OTHER),
            "Case K7 sent a photo.",
            kind="copy",
            meta={
                "from_chat_id": CHAT,
                "message_id": photo["message_id"],
                "caption": "Case K7 sent a photo.\nmy papers",
            },
        )
    )
    assert result.status == "sent" and result.provider_id == "1"
    (copied,) = fake.sent_to(OTHER)
    assert copied["caption"].startswith("Case K7") and copied["photo"] == photo["photo"]
    assert not fake.calls_to("getFile")


async def test_clear_deletes_one_by_one_and_reports_honestly(
    fake: FakeTelegram, channel: TelegramChannel
) -> None:
    mine = fake.updates.text(CHAT, "secret")["message"]["message_id"]
    ours = [
        int((await channel.send(OutboundMessage(str(CHAT), f"m{n}"))).provider_id or 0)
        for n in range(3)
    ]
    gone_already = 99  # deleted by the survivor before: not found counts as gone
    fake.fail_next(status=400, method="deleteMessage")  # one Telegram refuses
    result = await channel.send(
        OutboundMessage(
            str(CHAT),
            "",
            kind="clear",
            meta={
                "message_ids": [*ours, mine, gone_already],
                "report_chat": CHAT,
                "report_all": "All gone.",
                "report_some": "{count} left.",
            },
        )
    )
    assert result.status == "sent"
    assert len(fake.calls_to("deleteMessage")) == 5 and not fake.calls_to("deleteMessages")
    assert fake.sent_to(CHAT)[-1]["text"] == "1 left."
    assert fake.sent_to(CHAT)[-1]["has_protected_content"] is True
    remaining = [m["message_id"] for m in fake.history.in_chat(CHAT)]
    assert len(remaining) == 2  # the one refused, and the report


async def test_flood_guard_spaces_messages_to_one_chat_by_real_departures() -> None:
    async with FakeTelegram(rate_window=0.3) as strict:
        channel = channel_for(strict)  # guard on, scaled to the fake's window
        try:
            results = [await channel.send(OutboundMessage(str(CHAT), f"m{n}")) for n in range(4)]
        finally:
            await channel.stop()
    assert [r.status for r in results] == ["sent"] * 4
    assert strict.too_many_requests_sent == 0
    sends = [c.at for c in strict.calls_to("sendMessage")]
    assert all(later - earlier >= 0.3 for earlier, later in pairwise(sends))
