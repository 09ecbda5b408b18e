"""Appointments from chat and the command line, access control, check-ins, and the
"Done when" script run through `harbour simulate`."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime

from bot.settings import Settings
from tests.harness import add_advocate, say
from tests.integration.test_reminders import (
    ADVOCATE,
    harbour_at,
    jobs,
    survivor,
    texts,
    travel,
)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


async def test_only_the_case_advocate_may_make_move_or_list(settings: Settings) -> None:
    harbour, sent, _clock = await harbour_at(settings, utc(2026, 12, 1, 9, 0))
    try:
        case = await survivor(harbour, "s1", await add_advocate(harbour))
        await add_advocate(harbour, "bo")
        other = "advocate:bo"
        await say(harbour, ADVOCATE, f"/appt {case} 2026-12-03 14:30 police Station Rd")
        await say(harbour, other, f"/appt {case} 2026-12-04 10:00 gp")
        await say(harbour, other, f"/appts {case}")
        await say(harbour, other, "/move 1 2026-12-05 10:00")
        await say(harbour, other, "/cancel 1")
        await say(harbour, other, "/cancel 999")  # unknown: the same answer
        assert len(set(texts(sent, other))) == 1 and len(texts(sent, other)) == 5
        assert len(await jobs(harbour)) == 3, "only the first appointment's jobs exist"
        await say(harbour, ADVOCATE, f"appts {case}")  # the "/" is optional (SMS)
        listing = texts(sent, ADVOCATE)[-1]
        assert "1 · police · Thu 03 Dec 2026 14:30 Europe/London" in listing
        assert "Station Rd" in listing
        await say(harbour, ADVOCATE, f"/appt {case} 2026-12-03 14:30 dentist")
        assert "Unknown appointment type" in texts(sent, ADVOCATE)[-1]
        await say(harbour, ADVOCATE, f"/appt {case} 3/12/2026 14:30 gp")
        assert "YYYY-MM-DD HH:MM" in texts(sent, ADVOCATE)[-1]
        await say(harbour, ADVOCATE, f"/appt {case} 2026-11-30 14:30 gp")
        assert "already passed" in texts(sent, ADVOCATE)[-1]
        await say(harbour, ADVOCATE, "/appt")
        assert texts(sent, ADVOCATE)[-1].startswith("Appointments: /appt CASE")
    finally:
        await harbour.close()


async def test_checkins_reach_the_advocate_and_the_survivor_can_change_them(
    settings: Settings,
) -> None:
    harbour, sent, clock = await harbour_at(settings, utc(2026, 12, 1, 9, 0))
    try:
        case = await survivor(harbour, "s1", await add_advocate(harbour), quiet=("20:00", "09:00"))
        await say(harbour, ADVOCATE, f"/checkin {case} daily 21:00")
        # 21:00 is in their quiet hours: asked at 19:50 instead.
        assert "daily at 21:00" in texts(sent, ADVOCATE)[-1]
        await travel(harbour, clock, utc(2026, 12, 1, 19, 49))
        assert "Hello, how are you doing?" not in texts(sent, "s1")
        await travel(harbour, clock, utc(2026, 12, 1, 19, 51))
        assert texts(sent, "s1")[-1].startswith("Hello, how are you doing?")
        await say(harbour, "s1", "not good")
        assert "Check-in from case" in texts(sent, ADVOCATE)[-1]
        assert "NOT GOOD" in texts(sent, ADVOCATE)[-1]
        await travel(harbour, clock, utc(2026, 12, 2, 19, 51))
        await say(harbour, "s1", "4")  # change how often
        await say(harbour, "s1", "2")  # once a week
        assert "weekly on" in texts(sent, ADVOCATE)[-1]
        await travel(harbour, clock, utc(2026, 12, 3, 19, 51))
        asked = [t for t in texts(sent, "s1") if t.startswith("Hello, how are you")]
        assert len(asked) == 2, "weekly now: not asked the next day"
    finally:
        await harbour.close()


async def test_cli_adds_lists_moves_and_cancels(settings: Settings) -> None:
    harbour, _sent, _clock = await harbour_at(settings, datetime.now(UTC))
    try:
        case = await survivor(harbour, "s1", await add_advocate(harbour))
    finally:
        await harbour.close()
    assert settings.secret_key is not None
    env = {
        **os.environ,
        "HARBOUR_DATABASE_URL": settings.async_database_url,
        "HARBOUR_SECRET_KEY": settings.secret_key.get_secret_value(),
        "HARBOUR_DATA_DIR": str(settings.data_dir),
    }
    harbour_bin = os.path.join(os.path.dirname(sys.executable), "harbour")

    async def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return await asyncio.to_thread(
            subprocess.run, [harbour_bin, "appointment", *args],
            capture_output=True, text=True, env=env, timeout=60,
        )  # fmt: skip

    year = datetime.now(UTC).year + 1
    added = await cli("add", case, f"{year}-03-10", "10:00", "lawyer", "--place", "Firm")
    assert added.returncode == 0 and "solicitor" in added.stdout, added.stderr
    last_sunday = max(d for d in range(25, 32) if date(year, 3, d).weekday() == 6)
    gap = await cli("add", case, f"{year}-03-{last_sunday}", "01:30", "gp")  # clocks go forward
    assert gap.returncode == 2 and "does not exist in Europe/London" in gap.stderr
    listed = await cli("list", case)
    assert listed.returncode == 0 and "10 Mar" in listed.stdout and "solicitor" in listed.stdout
    moved = await cli("move", "1", f"{year}-03-11", "11:00")
    assert moved.returncode == 0 and "11 Mar" in moved.stdout
    assert (await cli("cancel", "1")).returncode == 0
    again = await cli("cancel", "1")
    assert again.returncode == 2 and "already cancelled" in again.stderr


SCRIPT = [
    {"at": "2026-12-01T09:00:00Z"},
    {"from": "s1", "text": "hello", "language": "en"},
    {"from": "s1", "text": "1"},
    {"from": "s1", "text": "1"},
    {"from": "s2", "text": "hello", "language": "pl"},
    {"from": "s2", "text": "1"},
    {"from": "s2", "text": "1"},
    {"from": "advocate", "to": "s1", "appt": "2026-12-03 14:30 solicitor"},
    {"from": "advocate", "to": "s2", "appt": "2026-12-03 16:00 housing"},
    {"advance": "30h"},
    {"from": "s1", "text": "1"},
    {"advance": "1d"},
]


def test_done_when_script_through_harbour_simulate() -> None:
    harbour_bin = os.path.join(os.path.dirname(sys.executable), "harbour")
    stdin = "\n".join(json.dumps(line) for line in SCRIPT) + "\n"
    env = {k: v for k, v in os.environ.items() if not k.startswith("HARBOUR_")}
    done = subprocess.run(
        [harbour_bin, "simulate"], input=stdin, capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0 and not done.stderr, done.stderr
    events = [json.loads(line) for line in done.stdout.splitlines()]
    created = [e for e in events if e["text"].startswith("Appointment ")]
    assert len(created) == 2
    to_s1 = [e["text"] for e in events if e["to"] == "s1"]
    assert "Reminder: Solicitor, Thu 3 Dec at 14:30." in to_s1
    relayed = [
        e for e in events if e.get("survivor") == "s1" and "answered the reminder" in e["text"]
    ]
    assert len(relayed) == 1 and "they will be there" in relayed[0]["text"]
    assert relayed[0]["to"] == "advocate:demo"
    no_reply = [e for e in events if "has not replied" in e["text"]]
    assert len(no_reply) == 1 and no_reply[0]["survivor"] == "s2"
    assert no_reply[0]["to"] == "advocate:demo"
    assert "Przypomnienie: Mieszkanie, czw. 3 gru o 16:00." in [
        e["text"] for e in events if e["to"] == "s2"
    ]
