""" "My appointments" lists the upcoming appointments: day, date and time in the survivor's
time zone, police and court named only "Appointment" in discreet mode, never the place."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.engine import SUPPORTED_LANGUAGES
from bot.settings import Settings
from bot.store.uow import UnitOfWork
from tests.harness import add_advocate, say
from tests.integration.test_reminders import ADVOCATE, harbour_at, survivor


async def test_my_appointments_lists_them_in_the_survivors_time(settings: Settings) -> None:
    harbour, sent, _clock = await harbour_at(settings, datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    try:
        case = await survivor(harbour, "s1", await add_advocate(harbour), language="pl",
                              timezone="Europe/Warsaw")  # fmt: skip
        await say(harbour, "s1", "2")
        assert sent.to("s1")[-1].meta.get("key") == "appointments.none"
        await say(harbour, ADVOCATE, f"/appt {case} 2026-12-03 14:30 police Station Rd 5")
        await say(harbour, ADVOCATE, f"/appt {case} 2026-12-04 09:15 solicitor")
        await say(harbour, "s1", "2")
        listed = sent.to("s1")[-1]
        assert listed.meta.get("key") == "appointments.list"
        lines = listed.text.splitlines()
        assert lines[1] == "- Spotkanie: czw. 3 gru, 14:30", lines  # discreet: no "police"
        assert lines[2].startswith("- ") and lines[2].endswith("4 gru, 09:15")
        assert "Station" not in listed.text
        async with UnitOfWork(harbour.db, harbour.cipher) as uow:
            found = await uow.people.survivor_by_code(case)
            assert found is not None
            found.discreet = False
        await say(harbour, "s1", "2")
        police = harbour.bundle.catalogue.text("pl", "appt.type.police")
        assert f"- {police}: czw. 3 gru, 14:30" in sent.to("s1")[-1].text
    finally:
        await harbour.close()


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
async def test_my_appointments_in_every_language(settings: Settings, language: str) -> None:
    harbour, sent, _clock = await harbour_at(settings, datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    try:
        case = await survivor(harbour, "s1", await add_advocate(harbour), language=language)
        await say(harbour, ADVOCATE, f"/appt {case} 2026-12-03 14:30 court")
        await say(harbour, "s1", "2")
        listed = sent.to("s1")[-1]
        catalogue = harbour.bundle.catalogue
        assert listed.meta.get("key") == "appointments.list"
        assert catalogue.text(language, "appt.type.other") in listed.text
        assert catalogue.text(language, "appt.type.court") not in listed.text
        assert "14:30" in listed.text and "{" not in listed.text
    finally:
        await harbour.close()
