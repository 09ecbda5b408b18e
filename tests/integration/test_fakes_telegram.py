"""The fake Bot API, exercised through the real python-telegram-bot 22 client."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import timedelta

import aiohttp
import pytest
from aiohttp import web
from telegram import (
    Bot,
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Update,
)
from telegram.error import (
    BadRequest,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.request import HTTPXRequest

from tests.fakes.clock import FakeClock
from tests.fakes.telegram_api import DEFAULT_TOKEN, FakeTelegram
from tests.fakes.telegram_wire import SECRET_HEADER, post_update_to

SURVIVOR = 5550001
ADVOCATE = 5550002
KEYBOARD = InlineKeyboardMarkup(
    [
        [
            InlineKeyboardButton("Yes", callback_data="yes"),
            InlineKeyboardButton("No", callback_data="no"),
        ]
    ]
)


@pytest.fixture(autouse=True)
def _timedelta_retry_after(monkeypatch: pytest.MonkeyPatch) -> None:
    # PTB 22 warns when RetryAfter.retry_after is read as an int; opt in to timedelta.
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def telegram(clock: FakeClock) -> AsyncIterator[FakeTelegram]:
    # Functional tests may send freely to one chat; the flood-limit tests use `limited`.
    async with FakeTelegram(clock=clock, per_chat_limit=1000) as fake:
        yield fake


@pytest.fixture
async def limited() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:  # Telegram's limits: 1/s per chat, 30/s overall
        yield fake


def client_for(fake: FakeTelegram, read_timeout: float = 3.0) -> Bot:
    request = HTTPXRequest(read_timeout=read_timeout)
    polling = HTTPXRequest(read_timeout=read_timeout)
    return Bot(DEFAULT_TOKEN, base_url=fake.base_url, request=request, get_updates_request=polling)


@pytest.fixture
async def bot(telegram: FakeTelegram) -> AsyncIterator[Bot]:
    async with client_for(telegram) as client:
        yield client


@pytest.fixture
async def limited_bot(limited: FakeTelegram) -> AsyncIterator[Bot]:
    async with client_for(limited) as client:
        yield client


async def test_get_me_answers_through_the_token_url(bot: Bot, telegram: FakeTelegram) -> None:
    assert bot.username == "fake_test_bot"
    assert bot.id == 123456789
    assert [call.method for call in telegram.calls] == ["getMe"]


async def test_wrong_token_is_rejected(telegram: FakeTelegram) -> None:
    with pytest.raises(InvalidToken):
        async with Bot("987:wrong", base_url=telegram.base_url):
            pass


async def test_send_message_records_keyboard_and_protection(
    bot: Bot, telegram: FakeTelegram, clock: FakeClock
) -> None:
    first = await bot.send_message(SURVIVOR, "Hello", reply_markup=KEYBOARD, protect_content=True)
    second = await bot.send_message(ADVOCATE, "Hi")

    assert first.message_id == 1 and second.message_id == 1  # counted per chat
    assert first.reply_markup == KEYBOARD
    assert first.has_protected_content is True
    assert first.from_user is not None and first.from_user.id == bot.id
    assert first.date == clock.now().replace(microsecond=0)
    call = telegram.calls_to("sendMessage")[0]
    assert call.params["protect_content"] is True
    assert call.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "yes"
    assert [m["text"] for m in telegram.sent_to(SURVIVOR)] == ["Hello"]


async def test_get_updates_keeps_updates_until_an_offset_passes_them(
    bot: Bot, telegram: FakeTelegram
) -> None:
    update_id = telegram.push_update(telegram.updates.text(SURVIVOR, "/start 7Q2K"))

    seen = await bot.get_updates(offset=0, timeout=0)
    again = await bot.get_updates(offset=update_id, timeout=0)
    after = await bot.get_updates(offset=update_id + 1, timeout=0)

    assert [u.update_id for u in seen] == [update_id] == [u.update_id for u in again]
    assert after == ()
    message = seen[0].message
    assert message is not None and message.text == "/start 7Q2K"
    assert message.entities[0].type == "bot_command" and message.entities[0].length == 6
    assert telegram.pending_updates == []


async def test_long_poll_returns_when_an_update_arrives(bot: Bot, telegram: FakeTelegram) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=2))
    await asyncio.sleep(0.2)
    assert not poll.done()
    telegram.push_update(telegram.updates.text(SURVIVOR, "hi"))
    updates = await asyncio.wait_for(poll, timeout=1.5)
    assert [u.message.text for u in updates if u.message] == ["hi"]


async def test_long_poll_waits_for_its_timeout_when_nothing_comes(bot: Bot) -> None:
    started = time.monotonic()
    assert await bot.get_updates(timeout=1) == ()
    assert time.monotonic() - started >= 0.9


async def test_a_second_poller_terminates_the_first(bot: Bot) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=2))
    await asyncio.sleep(0.2)
    assert await bot.get_updates(timeout=0) == ()
    with pytest.raises(Conflict):
        await first


async def test_callback_query_round_trip(bot: Bot, telegram: FakeTelegram) -> None:
    sent = await bot.send_message(SURVIVOR, "Continue?", reply_markup=KEYBOARD)
    telegram.push_update(telegram.updates.callback_query(SURVIVOR, "yes"))

    (update,) = await bot.get_updates(timeout=0)
    query = update.callback_query
    assert query is not None and query.data == "yes"
    assert query.message is not None and query.message.message_id == sent.message_id
    assert await bot.answer_callback_query(query.id) is True
    with pytest.raises(BadRequest, match="query id is invalid"):
        await bot.answer_callback_query(query.id)


async def test_other_update_kinds_parse_in_ptb(bot: Bot, telegram: FakeTelegram) -> None:
    original = telegram.updates.text(SURVIVOR, "helo")
    telegram.push_update(original)
    telegram.push_update(telegram.updates.edited_message(SURVIVOR, 1, "hello"))
    telegram.push_update(telegram.updates.photo(SURVIVOR, caption="doc"))
    telegram.push_update(telegram.updates.voice(SURVIVOR))
    telegram.push_update(telegram.updates.location(SURVIVOR, 51.5, -0.1))

    updates = await bot.get_updates(timeout=0)

    assert [u.update_id for u in updates] == sorted(u.update_id for u in updates)
    edited, photo, voice, location = (u for u in updates[1:])
    assert edited.edited_message is not None and edited.edited_message.text == "hello"
    assert photo.message is not None and photo.message.photo and photo.message.caption == "doc"
    assert voice.message is not None and voice.message.voice is not None
    assert location.message is not None and location.message.location is not None
    assert isinstance(updates[0], Update)


async def test_reply_to_a_relayed_message_is_visible(bot: Bot, telegram: FakeTelegram) -> None:
    relayed = await bot.send_message(ADVOCATE, "[K7] message")
    telegram.push_update(telegram.updates.text(ADVOCATE, "answer", reply_to=relayed.message_id))
    (update,) = await bot.get_updates(timeout=0)
    assert update.message is not None and update.message.reply_to_message is not None
    assert update.message.reply_to_message.message_id == relayed.message_id


async def test_edit_text_and_markup(bot: Bot, telegram: FakeTelegram) -> None:
    sent = await bot.send_message(SURVIVOR, "Choose", reply_markup=KEYBOARD)
    edited = await bot.edit_message_text(
        "Chosen", chat_id=SURVIVOR, message_id=sent.message_id, reply_markup=KEYBOARD
    )
    assert getattr(edited, "text", None) == "Chosen"
    assert getattr(edited, "reply_markup", None) == KEYBOARD
    with pytest.raises(BadRequest, match="not modified"):
        await bot.edit_message_text(
            "Chosen", chat_id=SURVIVOR, message_id=sent.message_id, reply_markup=KEYBOARD
        )
    await bot.edit_message_reply_markup(chat_id=SURVIVOR, message_id=sent.message_id)
    stored = telegram.history.get(SURVIVOR, sent.message_id)
    assert stored is not None and "reply_markup" not in stored and stored["text"] == "Chosen"
    with pytest.raises(BadRequest, match="not found"):
        await bot.edit_message_text("x", chat_id=SURVIVOR, message_id=99)


async def test_delete_respects_the_48_hour_window(
    bot: Bot, telegram: FakeTelegram, clock: FakeClock
) -> None:
    old = await bot.send_message(SURVIVOR, "old")
    clock.advance(timedelta(hours=49))
    telegram.push_update(telegram.updates.text(SURVIVOR, "recent from the survivor"))
    recent = await bot.send_message(SURVIVOR, "recent")

    with pytest.raises(BadRequest, match="can't be deleted"):
        await bot.delete_message(SURVIVOR, old.message_id)
    assert await bot.delete_message(SURVIVOR, recent.message_id) is True
    assert await bot.delete_messages(SURVIVOR, [old.message_id, 2]) is True  # 2: survivor's
    with pytest.raises(BadRequest, match="not found"):
        await bot.delete_message(SURVIVOR, recent.message_id)
    assert telegram.messages.deleted == [(SURVIVOR, recent.message_id), (SURVIVOR, 2)]
    assert [m["message_id"] for m in telegram.history.in_chat(SURVIVOR)] == [old.message_id]


async def test_copy_media_to_the_advocate(bot: Bot, telegram: FakeTelegram) -> None:
    inbound = telegram.updates.voice(SURVIVOR)
    copied = await bot.copy_message(ADVOCATE, SURVIVOR, inbound["message"]["message_id"])
    assert copied.message_id == 1
    (delivered,) = telegram.sent_to(ADVOCATE)
    assert delivered["voice"] == inbound["message"]["voice"]
    with pytest.raises(BadRequest, match="copy not found"):
        await bot.copy_message(ADVOCATE, SURVIVOR, 42)


async def test_multipart_and_json_bodies_are_accepted(bot: Bot, telegram: FakeTelegram) -> None:
    photo = await bot.send_photo(SURVIVOR, photo=b"\x89PNG fake bytes", caption="c")
    assert photo.photo and photo.caption == "c"
    async with aiohttp.ClientSession() as session:
        url = f"{telegram.base_url}{DEFAULT_TOKEN}/sendMessage"
        async with session.post(url, json={"chat_id": ADVOCATE, "text": "json"}) as response:
            body = await response.json()
    assert body["ok"] is True and body["result"]["text"] == "json"


async def test_per_chat_limit_surfaces_as_retry_after(
    limited_bot: Bot, limited: FakeTelegram
) -> None:
    await limited_bot.send_message(SURVIVOR, "one")
    with pytest.raises(RetryAfter) as raised:
        await limited_bot.send_message(SURVIVOR, "two")
    assert raised.value.retry_after == timedelta(seconds=1)
    await limited_bot.send_message(ADVOCATE, "other chats are not affected")
    assert limited.too_many_requests_sent == 1
    assert [m["text"] for m in limited.sent_to(SURVIVOR)] == ["one"]


async def test_overall_limit_is_thirty_a_second(limited_bot: Bot, limited: FakeTelegram) -> None:
    await asyncio.gather(*(limited_bot.send_message(1000 + n, "x") for n in range(30)))
    with pytest.raises(RetryAfter):
        await limited_bot.send_message(2000, "the 31st")
    assert limited.too_many_requests_sent == 1


async def test_paced_sends_get_no_429(limited_bot: Bot, limited: FakeTelegram) -> None:
    for _ in range(3):
        await limited_bot.send_message(SURVIVOR, "paced")
        await asyncio.sleep(1.05)
    assert limited.too_many_requests_sent == 0


async def test_blocked_chat_surfaces_as_forbidden(bot: Bot, telegram: FakeTelegram) -> None:
    telegram.block(SURVIVOR)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(SURVIVOR, "hello")
    with pytest.raises(Forbidden):
        await bot.send_chat_action(SURVIVOR, "typing")
    telegram.unblock(SURVIVOR)
    assert await bot.send_chat_action(SURVIVOR, "typing") is True
    assert [call.status for call in telegram.calls[1:]] == [403, 403, 200]


async def test_scripted_server_errors_by_method_and_chat(bot: Bot, telegram: FakeTelegram) -> None:
    telegram.fail_next(2, status=502, method="sendMessage", chat_id=SURVIVOR)
    for _ in range(2):
        with pytest.raises(NetworkError, match="Bad Gateway"):
            await bot.send_message(SURVIVOR, "lost")
    await bot.send_message(ADVOCATE, "unaffected")
    await bot.send_message(SURVIVOR, "delivered")
    assert [m["text"] for m in telegram.sent_to(SURVIVOR)] == ["delivered"]
    assert telegram.faults.pending == 0


async def test_hang_times_out_with_or_without_processing(telegram: FakeTelegram) -> None:
    telegram.hang_next(method="sendMessage", seconds=5)
    telegram.hang_next(method="sendMessage", seconds=5, processed=True)
    async with Bot(
        DEFAULT_TOKEN, base_url=telegram.base_url, request=HTTPXRequest(read_timeout=0.3)
    ) as impatient:
        with pytest.raises(TimedOut):
            await impatient.send_message(SURVIVOR, "never stored")
        with pytest.raises(TimedOut):
            await impatient.send_message(ADVOCATE, "stored, answer lost")
    assert telegram.sent_to(SURVIVOR) == []
    assert [m["text"] for m in telegram.sent_to(ADVOCATE)] == ["stored, answer lost"]


async def test_commands_are_stored_per_language(bot: Bot) -> None:
    commands = [BotCommand("help", "Help"), BotCommand("clear", "Clear this chat")]
    assert await bot.set_my_commands(commands, language_code="pl") is True
    assert await bot.get_my_commands(language_code="pl") == tuple(commands)
    assert await bot.get_my_commands() == ()
    with pytest.raises(BadRequest):
        await bot.set_my_commands([BotCommand("Not Valid", "x")])


async def test_webhook_mode(bot: Bot, telegram: FakeTelegram) -> None:
    received: list[tuple[str | None, dict[str, object]]] = []
    answers = [503, 200, 200, 200]

    async def receiver(request: web.Request) -> web.Response:
        received.append((request.headers.get(SECRET_HEADER), await request.json()))
        return web.Response(status=answers.pop(0))

    app = web.Application()
    app.router.add_post("/hook", receiver)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        url = f"http://127.0.0.1:{port}/hook"
        assert await bot.set_webhook(url, secret_token="s3cret-token") is True
        info = await bot.get_webhook_info()
        assert info.url == url
        with pytest.raises(Conflict):
            await bot.get_updates(timeout=0)
        telegram.push_update(telegram.updates.text(SURVIVOR, "first"))
        telegram.push_update(telegram.updates.text(SURVIVOR, "second"))

        assert await telegram.deliver_to_webhook() == [503]  # refused: kept for a retry
        assert await telegram.deliver_to_webhook() == [200, 200]
        assert telegram.pending_updates == []
        status, _ = await post_update_to(url, {"update_id": 1}, None)
        assert status == 200
    finally:
        await runner.cleanup()
    assert [secret for secret, _ in received] == ["s3cret-token"] * 3 + [None]
    texts = [body["message"]["text"] for _, body in received[:3]]  # type: ignore[index]
    assert texts == ["first", "first", "second"]
    assert await bot.delete_webhook() is True
    assert (await bot.get_webhook_info()).url == ""
