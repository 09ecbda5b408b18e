"""Settings as a survivor lives them: each question shows the current value, and a typed
range of quiet hours is stored."""

from __future__ import annotations

from bot.settings import Settings
from bot.store.uow import UnitOfWork
from tests.harness import add_advocate, enrol, onboard, say, start


async def test_settings_show_current_values_and_take_typed_quiet_hours(
    settings: Settings,
) -> None:
    harbour, sent = await start(settings)
    try:
        await enrol(harbour, "s1", await add_advocate(harbour), language="en")
        await onboard(harbour, "s1")
        await say(harbour, "s1", "settings")
        await say(harbour, "s1", "4")
        assert "Discreet mode is On." in sent.to("s1")[-1].text
        await say(harbour, "s1", "off")
        assert [m.meta.get("key") for m in sent.to("s1")[-2:]] == [
            "settings.saved",
            "settings.main",
        ]
        await say(harbour, "s1", "4")
        assert "Discreet mode is Off." in sent.to("s1")[-1].text
        await say(harbour, "s1", "menu")
        await say(harbour, "s1", "settings")
        await say(harbour, "s1", "2")
        assert "Quiet hours: No quiet hours." in sent.to("s1")[-1].text
        await say(harbour, "s1", "11pm to 7am")
        await say(harbour, "s1", "2")
        assert "Quiet hours: 23:00-07:00." in sent.to("s1")[-1].text
        assert not [m for m in sent.to("advocate:amira") if m.kind == "relay"]
        async with UnitOfWork(harbour.db, harbour.cipher) as uow:
            (survivor,) = await uow.people.all_survivors()
            assert (survivor.quiet_start, survivor.quiet_end) == ("23:00", "07:00")
    finally:
        await harbour.close()
