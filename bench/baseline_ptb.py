"""The baseline: the usual python-telegram-bot bot, measured the way bench/inbound.py measures
Harbour (same fake Bot API, same load, same machine, same invocation when run from there).

The bot is PTB's canonical shape: a ConversationHandler with a menu of three states (main
menu, information topics, one topic), its state in memory (DictPersistence, the in-memory
persistence PTB ships), each step answered with a message with buttons. Updates come in
through a custom webhook exactly as PTB's examples/customwebhookbot/starlettebot.py does it:
a Starlette route puts `Update.de_json(await request.json())` on the Application's
update_queue and answers 200 at once; the Application (`.updater(None)`) processes the queue.

"Handled" for this bot: acknowledged, and its reply received by the fake Bot API. Nothing is
stored: a crash loses the conversation states and any update acknowledged but not yet
processed.

Run: .venv/bin/python bench/baseline_ptb.py [--quick]   (the baseline alone, under a minute)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if sys.path and Path(sys.path[0]).resolve() == ROOT / "bench":
    sys.path.pop(0)  # bench/telegram.py must not shadow the `telegram` package
sys.path.insert(0, str(ROOT))

from bench.inbound import (  # noqa: E402
    FIRST_CHAT,
    SCALING,
    SUSTAINED_CHATS,
    BotProcess,
    Chats,
    Handled,
    RunResult,
    Sizes,
    closed_loop,
    flatness,
    machine,
    serve_until_stopped,
    text_update,
)

MENU, TOPICS, TOPIC = range(3)


def build_application(api_base: str, token: str) -> Any:
    """The bot: a ConversationHandler menu with three states, kept in memory."""
    from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
    from telegram.ext import (
        Application,
        CommandHandler,
        ContextTypes,
        ConversationHandler,
        DictPersistence,
        MessageHandler,
        filters,
    )

    def keyboard(*labels: str) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup(
            [[InlineKeyboardButton(label, callback_data=str(n))] for n, label in enumerate(labels)]
        )

    menu_keys = keyboard("My advocate", "Appointments", "Help now", "Information", "Settings")
    topic_keys = keyboard("Housing", "Money", "Work", "Health", "Legal", "NRM", "Helpline", "Menu")
    page_keys = keyboard("More", "Topics", "Menu")

    async def main_menu(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> int:
        assert update.message is not None
        await update.message.reply_text("What would you like to do?", reply_markup=menu_keys)
        return MENU

    async def topics(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> int:
        assert update.message is not None
        await update.message.reply_text("Which topic?", reply_markup=topic_keys)
        return TOPICS

    async def topic(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> int:
        assert update.message is not None
        await update.message.reply_text("Housing: where to start.", reply_markup=page_keys)
        return TOPIC

    application = (
        Application.builder()
        .token(token)
        .base_url(api_base)
        .updater(None)
        .persistence(DictPersistence())
        .build()
    )
    application.add_handler(
        ConversationHandler(
            entry_points=[CommandHandler("start", main_menu)],
            states={
                MENU: [MessageHandler(filters.Regex("^4$"), topics)],
                TOPICS: [MessageHandler(filters.Regex("^1$"), topic)],
                TOPIC: [MessageHandler(filters.Regex("^3$"), main_menu)],
            },
            fallbacks=[CommandHandler("start", main_menu)],
            name="menu",
            persistent=True,
        )
    )
    return application


async def ptb_child(options: dict[str, Any], conn: Connection) -> None:
    """In its own process: the bot behind PTB's custom-webhook Starlette app."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route
    from telegram import Update

    application = build_application(options["api"], options["token"])

    async def telegram(request: Request) -> Response:  # as in customwebhookbot/starlettebot.py
        await application.update_queue.put(
            Update.de_json(data=await request.json(), bot=application.bot)
        )
        return Response()

    app = Starlette(routes=[Route("/telegram/webhook", telegram, methods=["POST"])])
    async with application:
        await application.start()
        await serve_until_stopped(app, options["port"], conn)
        await application.stop()


def replies_counter(fake: Any) -> Handled:
    """sendMessage calls the fake Bot API has answered, counted as they come."""
    seen = {"index": 0, "count": 0}

    async def handled() -> int:
        calls = fake.calls
        for call in calls[seen["index"] :]:
            if call.method == "sendMessage" and call.status == 200:
                seen["count"] += 1
        seen["index"] = len(calls)
        return seen["count"]

    return handled


async def _start_every_chat(webhook: str, chats: int, handled: Handled) -> None:
    """/start in every chat, so each is at the main menu before anything is timed."""
    import aiohttp

    from bench.inbound import SECRET, SECRET_HEADER

    target = await handled() + chats
    async with aiohttp.ClientSession() as session:
        for n in range(chats):
            body = json.dumps(text_update(1 + n, FIRST_CHAT + n, "/start")).encode()
            headers = {SECRET_HEADER: SECRET, "Content-Type": "application/json"}
            async with session.post(webhook, data=body, headers=headers) as response:
                await response.read()
    deadline = time.monotonic() + 60
    while await handled() < target and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.01)


async def measure_baseline(
    fake: Any, sizes: Sizes, sustained_chats: int, scaling: tuple[int, ...]
) -> dict[str, RunResult]:
    from tests.fakes.telegram_api import DEFAULT_TOKEN

    results: dict[str, RunResult] = {}
    options = {"api": fake.base_url, "token": DEFAULT_TOKEN}
    async with BotProcess(ptb_child, options) as bot:
        handled = replies_counter(fake)
        await _start_every_chat(bot.webhook, max(scaling), handled)
        chats = Chats(max(scaling))
        results["sustained"] = await closed_loop(
            bot.webhook, chats, sustained_chats, sizes.sustained, handled
        )
        print(results["sustained"].line(f"baseline, {sustained_chats} chats"))
        for count in scaling:
            run = await closed_loop(bot.webhook, chats, count, sizes.per_scaling_run, handled)
            results[f"chats{count}"] = run
            print(run.line(f"baseline, {count} concurrent chat(s)"))
    return results


async def main(sizes: Sizes) -> None:
    from tests.fakes.telegram_api import FakeTelegram

    print(machine())
    print("baseline: python-telegram-bot ConversationHandler, state in memory, custom webhook")
    async with FakeTelegram(per_chat_limit=1_000_000, overall_limit=1_000_000) as fake:
        results = await measure_baseline(fake, sizes, SUSTAINED_CHATS, SCALING)
    rates = {c: results[f"chats{c}"].handled_rate for c in SCALING}
    print(f"  by concurrent chats: {flatness(rates)}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    asyncio.run(main(Sizes.quick() if parser.parse_args().quick else Sizes()))
