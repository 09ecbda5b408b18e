"""A staff member's reply reaches the survivor marked with who wrote it (first name or
role, `reply_mark`), in the survivor's language, so they can tell it from the bot."""

from __future__ import annotations

import pytest

from bot.engine import SUPPORTED_LANGUAGES
from bot.engine.survivor_checks import unisolated
from bot.settings import Settings
from tests.harness import add_advocate, enrol, onboard, say, start


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
@pytest.mark.parametrize("mark", ["name", "role"])
async def test_replies_are_marked_with_the_sender(
    settings: Settings, language: str, mark: str
) -> None:
    harbour, sent = await start(settings.model_copy(update={"reply_mark": mark}))
    try:
        case = await enrol(harbour, "s1", await add_advocate(harbour), language=language)
        await onboard(harbour, "s1")
        await say(harbour, "advocate:amira", f"#{case} 10:30 tomorrow, 08000 121 700")
        (reply,) = [m for m in sent.to("s1") if m.kind == "reply"]
        catalogue = harbour.bundle.catalogue
        sender = "Amira" if mark == "name" else catalogue.text(language, "relay.role.advocate")
        assert sender in reply.text and "10:30 tomorrow, 08000 121 700" in reply.text
        assert not reply.text.startswith("10:30")
        if language in ("ar", "fa"):
            assert unisolated(reply.text) == [], "names and numbers isolated in RTL text"
    finally:
        await harbour.close()
