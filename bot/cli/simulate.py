"""`harbour simulate`: a scriptable conversation driver (JSON lines in, JSON lines out).

The whole contract (every input line, every output kind, the errors) is in the README,
"Scripted conversations: `harbour simulate`"; tests/integration/test_simulate.py keeps it.
It runs on a fresh temporary database unless --database is given, and uses no network.
"""

from __future__ import annotations

import json
import secrets
import sys
import tempfile
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from pydantic import SecretStr

from bot.bootstrap import Harbour, build
from bot.channels.local import LocalChannel
from bot.engine import SUPPORTED_LANGUAGES
from bot.ports import ManualClock, OutboundMessage
from bot.settings import Settings, load_settings
from bot.store.uow import UnitOfWork

DEMO_ADVOCATE = "demo"
DEMO_TEAM = (("duty", "duty"), ("manager", "admin"))


class Transcript:
    """Turns outbound messages into the JSON events of the simulate contract."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.survivor_of_case: dict[str, str] = {}

    def deliver(self, message: OutboundMessage) -> None:
        event: dict[str, Any]
        survivor = self.survivor_of_case.get(str(message.meta.get("case", "")), "")
        if message.kind == "escalation":
            event = {
                "kind": "escalation",
                "survivor": survivor,
                "to": message.address,
                "text": message.text,
            }
        elif message.kind == "relay":
            event = {
                "to": message.address,
                "kind": "relay",
                "survivor": survivor,
                "text": message.text,
                "original": message.meta.get("original", ""),
                "language": message.meta.get("language", ""),
            }
        elif message.address.startswith(("advocate:", "staff:")):
            event = {
                "to": message.address,
                "kind": message.kind,
                "survivor": survivor,
                "text": message.text,
            }
        else:  # to a survivor: the bot's own words, or a staff member's reply
            event = {
                "to": message.address,
                "kind": "reply" if message.kind == "reply" else "message",
                "text": message.text,
                "choices": [label for _value, label in message.choices],
            }
        self.out.write(json.dumps(event, ensure_ascii=False) + "\n")
        self.out.flush()


SURVIVOR_KEYS = frozenset({"from", "text", "choice", "language"})
ADVOCATE_KEYS = frozenset({"from", "to", "text", "appt", "ack"})
CLOCK_KEYS = (frozenset({"at"}), frozenset({"advance"}))


def parse_line(line: str) -> dict[str, Any] | str:
    """A JSON object, or a plain line from survivor "demo". Returns the reason a line is
    malformed (reported on stderr, the line skipped): broken JSON, a JSON value that is not
    an object, a missing "from", a key this kind of line does not take, or a value of the
    wrong type."""
    stripped = line.strip()
    if not stripped.startswith("{"):
        return {"from": "demo", "text": line.rstrip("\r\n")}
    try:
        data = json.loads(stripped)
    except json.JSONDecodeError as exc:
        return f"not valid JSON ({exc.msg} at column {exc.colno})"
    except (ValueError, RecursionError):  # an integer too long to convert, deep nesting
        return "not a usable JSON object"
    if not isinstance(data, dict):
        return "each line must be a JSON object"
    keys = frozenset(data)
    if "advance" in data or "at" in data:
        if keys not in CLOCK_KEYS:
            return 'a clock line is {"at": ...} or {"advance": ...} alone'
        return data if all(isinstance(v, str) for v in data.values()) else "a string is needed"
    sender = data.get("from")
    if not isinstance(sender, str) or not sender.strip():
        return 'a line needs "from"'
    allowed = ADVOCATE_KEYS if sender == "advocate" else SURVIVOR_KEYS
    unknown = sorted(keys - allowed)
    if unknown:
        return f"unknown key(s) {', '.join(unknown)} for a line from {sender!r}"
    for key in keys - {"from"}:
        if not isinstance(data[key], str):
            return f'"{key}" must be a string'
    if "language" in data and data["language"] not in SUPPORTED_LANGUAGES:
        return f'"language" must be one of {", ".join(SUPPORTED_LANGUAGES)}'
    return data


async def ensure_demo_advocate(harbour: Harbour) -> int:
    """The demo team: advocate "demo", duty worker "duty" (on call) and manager "manager"."""
    async with UnitOfWork(harbour.db, harbour.cipher) as uow:
        now = harbour.clock.now()
        advocate = await uow.people.staff_by_handle(DEMO_ADVOCATE)
        if advocate is None:
            advocate = await uow.people.add_staff(DEMO_ADVOCATE, "advocate", "en", now)
            await uow.people.add_identity("local", f"advocate:{DEMO_ADVOCATE}", now, staff=advocate)
            for handle, role in DEMO_TEAM:
                staff = await uow.people.add_staff(handle, role, "en", now)
                await uow.people.add_identity("local", f"staff:{handle}", now, staff=staff)
        return advocate.id


def advocate_line(transcript: Transcript, line: dict[str, Any]) -> dict[str, Any] | str:
    """An advocate line as the demo advocate's own message: "#CASE text" naming a survivor."""
    if "ack" in line:
        return {"from": f"advocate:{DEMO_ADVOCATE}", "text": f"ACK {line['ack']}"}
    text = str(line.get("text", ""))
    if "appt" in line:
        text = f"/appt {line['appt']}"
    target = line.get("to")
    if target is None:
        return {"from": f"advocate:{DEMO_ADVOCATE}", "text": text}
    case = next((c for c, s in transcript.survivor_of_case.items() if s == target), None)
    if case is None:
        return f"no survivor {target!r} has written yet"
    if text.startswith("/"):  # a command about this survivor: "/appt CASE ..."
        command, _, rest = text.partition(" ")
        return {"from": f"advocate:{DEMO_ADVOCATE}", "text": f"{command} {case} {rest}".strip()}
    return {"from": f"advocate:{DEMO_ADVOCATE}", "text": f"#{case} {text}"}


async def ensure_survivor(
    harbour: Harbour, transcript: Transcript, sender: str, language: str | None
) -> None:
    """A new id is a new survivor, already enrolled with the demo advocate."""
    if sender in transcript.survivor_of_case.values():
        return
    advocate_id = await ensure_demo_advocate(harbour)
    async with UnitOfWork(harbour.db, harbour.cipher) as uow:
        now = harbour.clock.now()
        identity = await uow.people.identity("local", sender)
        if identity is not None and identity.survivor_id is not None:
            survivor = await uow.people.survivor(identity.survivor_id)
            if survivor is not None:
                transcript.survivor_of_case[survivor.case_code] = sender
                return
        survivor = await uow.people.new_survivor(
            now, status="active", language=language, advocate_id=advocate_id
        )
        survivor.allowed_channels = ["local"]
        await uow.people.add_identity("local", sender, now, survivor=survivor)
        uow.audit.record("simulate", "survivor.enrolled", now, survivor_id=survivor.id)
        transcript.survivor_of_case[survivor.case_code] = sender


def parse_duration(text: str) -> timedelta | None:
    units = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
    number, unit = text[:-1], text[-1:]
    if unit not in units or not number.isdigit():
        return None
    return timedelta(**{units[unit]: int(number)})


def parse_moment(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment.astimezone(UTC) if moment.tzinfo is not None else None


async def advance(harbour: Harbour, clock: ManualClock, step: timedelta) -> None:
    """Move time forward, stopping at every moment a job falls due, and run what is due."""
    target = clock.now() + step
    while True:
        due = await harbour.run_due()
        if clock.now() >= target:
            return
        if due is None or due > target:
            due = target
        clock.set(max(due, clock.now() + timedelta(seconds=1)))


async def simulate(stdin: TextIO, stdout: TextIO, stderr: TextIO, database: str | None) -> int:
    with tempfile.TemporaryDirectory(prefix="harbour-sim-") as tmp:
        # A given database keeps the configured data dir, where its local key lives.
        overrides: dict[str, Any] = (
            {"database_url": database} if database else {"data_dir": Path(tmp)}
        )
        settings: Settings = load_settings(**overrides)
        if settings.secret_key is None and settings.secret_key_file is None and not database:
            # A throwaway database gets a throwaway key, never written anywhere.
            settings = settings.model_copy(
                update={"secret_key": SecretStr(secrets.token_urlsafe(48))}
            )
        transcript = Transcript(stdout)
        channel = LocalChannel(transcript.deliver, render_as="telegram")
        clock = ManualClock(datetime.now(UTC).replace(second=0, microsecond=0))
        harbour = await build(settings, {"local": channel}, pacers={}, clock=clock)
        try:
            for number, line in enumerate(stdin, start=1):
                parsed = parse_line(line)
                if isinstance(parsed, str):
                    stderr.write(f"simulate: line {number}: {parsed}; skipped\n")
                    continue
                if "at" in parsed:
                    moment = parse_moment(str(parsed["at"]))
                    if moment is None or (number > 1 and moment < clock.now()):
                        stderr.write(f'simulate: line {number}: bad "at" (an ISO time with a')
                        stderr.write(" zone, not in the past after the first line); skipped\n")
                    elif number == 1:
                        clock.set(moment)
                    else:
                        await advance(harbour, clock, moment - clock.now())
                    continue
                if "advance" in parsed:
                    step = parse_duration(str(parsed["advance"]))
                    if step is None:
                        msg = "bad advance (e.g. 30m, 25h, 2d); skipped"
                        stderr.write(f"simulate: line {number}: {msg}\n")
                    else:
                        await advance(harbour, clock, step)
                    continue
                if parsed["from"] == "advocate":
                    await ensure_demo_advocate(harbour)
                    parsed = advocate_line(transcript, parsed)
                    if isinstance(parsed, str):
                        stderr.write(f"simulate: line {number}: {parsed}; skipped\n")
                        continue
                else:
                    await ensure_survivor(
                        harbour, transcript, parsed["from"], parsed.get("language")
                    )
                await harbour.inbound.accept("local", uuid.uuid4().hex, parsed)
                await harbour.drain()
        finally:
            await harbour.close()
    return 0


def main_simulate(database: str | None) -> int:
    import asyncio

    # Invalid UTF-8 on stdin becomes U+FFFD instead of an exception.
    stdin = open(sys.stdin.fileno(), encoding="utf-8", errors="replace", closefd=False)
    return asyncio.run(simulate(stdin, sys.stdout, sys.stderr, database))
