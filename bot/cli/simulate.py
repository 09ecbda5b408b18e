"""`harbour simulate`: a scriptable conversation driver (JSON lines in, JSON lines out).

Input, one per line on stdin:
    {"from": "s1", "text": "hello"}              a message from survivor s1 (new id: new survivor,
                                                 enrolled with the demo advocate)
    {"from": "s1", "text": "...", "language": "pl"}   sets the language on a first line
    {"from": "s1", "choice": "menu.help"}        presses a button by its value
    {"from": "advocate", "to": "s1", "text": "..."}   the demo advocate answers survivor s1
    {"from": "advocate", "text": "/cases"}       the demo advocate sends a command
    {"from": "advocate", "ack": "E4K7Q"}         the demo advocate acknowledges an urgent alert
    {"advance": "25h"}                           moves the virtual clock (s, m, h, d) and runs
                                                 every job that falls due on the way
    {"at": "2026-12-01T09:00:00Z"}               sets the virtual clock (first line: any time;
                                                 later: forward only, running what falls due)
    {"from": "advocate", "to": "s1", "appt": "2026-12-03 14:30 solicitor"}
                                                 the demo advocate makes an appointment for s1
    {"from": "advocate", "to": "s1", "text": "/checkin daily 18:00"}
                                                 a command about s1: the case code goes after it
    hello                                        a plain line: {"from": "demo", "text": "hello"}
Output, one per outbound event, in order:
    {"to": "s1", "kind": "message", "text": "...", "choices": ["...", ...]}
    {"kind": "escalation", "survivor": "s1", "to": "advocate:demo", "text": "..."}
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
        else:
            event = {
                "to": message.address,
                "kind": "message",
                "text": message.text,
                "choices": [label for _value, label in message.choices],
            }
        self.out.write(json.dumps(event, ensure_ascii=False) + "\n")
        self.out.flush()


def parse_line(line: str) -> dict[str, Any] | str:
    """A JSON object, or a plain line from survivor "demo". Returns an error text if unusable."""
    stripped = line.strip()
    if not stripped.startswith("{"):
        return {"from": "demo", "text": line.rstrip("\r\n")}
    try:
        data = json.loads(stripped)
    except json.JSONDecodeError:
        return {"from": "demo", "text": line.rstrip("\r\n")}
    except (ValueError, RecursionError):  # an integer too long to convert, deep nesting
        return "not a usable JSON object"
    if not isinstance(data, dict):
        return "each line must be a JSON object"
    if "advance" in data or "at" in data:
        return data
    sender = data.get("from")
    if not isinstance(sender, str) or not sender.strip():
        return 'a line needs "from"'
    if not isinstance(data.get("text", ""), str):
        return '"text" must be a string'
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
                        stderr.write(" zone, not in the past after the first line)\n")
                    elif number == 1:
                        clock.set(moment)
                    else:
                        await advance(harbour, clock, moment - clock.now())
                    continue
                if "advance" in parsed:
                    step = parse_duration(str(parsed["advance"]))
                    if step is None:
                        stderr.write(f"simulate: line {number}: bad advance (e.g. 30m, 25h, 2d)\n")
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
