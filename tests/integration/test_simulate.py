"""The whole `harbour simulate` contract as the README documents it: every kind of input
line, every output kind, and malformed lines reported on stderr (exit 0 all the same)."""

from __future__ import annotations

import io
import json

from bot.cli.simulate import simulate


async def run(lines: list[object]) -> tuple[list[dict[str, object]], str]:
    text = "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines)
    out, err = io.StringIO(), io.StringIO()
    assert await simulate(io.StringIO(text + "\n"), out, err, None) == 0
    return [json.loads(row) for row in out.getvalue().splitlines()], err.getvalue()


async def test_every_line_and_output_kind() -> None:
    events, err = await run(
        [
            {"at": "2026-12-01T09:00:00Z"},
            {"from": "s1", "text": "hello", "language": "en"},
            {"from": "s1", "choice": "safe"},
            {"from": "s1", "text": "1"},
            {"from": "s1", "text": "Can we talk about the flat?"},
            {"from": "advocate", "to": "s1", "text": "Yes, tomorrow at 10"},
            {"from": "advocate", "text": "/cases"},
            {"from": "advocate", "to": "s1", "appt": "2026-12-03 14:30 solicitor"},
            {"from": "s1", "text": "help now"},
            {"advance": "54h"},  # past both reminders and the "no reply" alert
        ]
    )
    assert err == ""
    kinds = {(e["kind"], str(e["to"]).split(":")[0]) for e in events}
    assert ("message", "s1") in kinds and ("reply", "s1") in kinds
    assert {("relay", "advocate"), ("escalation", "advocate"), ("message", "advocate")} <= kinds
    assert ("alert", "advocate") in kinds
    relay = next(e for e in events if e["kind"] == "relay")
    assert relay["survivor"] == "s1" and relay["original"] == "Can we talk about the flat?"
    reply = next(e for e in events if e["kind"] == "reply")
    assert reply["text"] == "Demo: Yes, tomorrow at 10" and reply["choices"] == []
    escalation = next(e for e in events if e["kind"] == "escalation")
    alert_id = str(escalation["text"]).split("ACK ")[1].split()[0].strip(".:,")
    acked, err = await run(
        [
            {"from": "s1", "text": "hello", "language": "en"},
            {"from": "s1", "text": "help now"},
            {"from": "advocate", "ack": alert_id},
        ]
    )
    assert err == ""
    assert any(e["to"] == "advocate:demo" and e["kind"] == "message" for e in acked)
    reminders = [e for e in events if e["to"] == "s1" and "Reminder" in str(e["text"])]
    assert reminders, "the advance ran the reminder that fell due"


async def test_malformed_lines_are_reported_on_stderr_and_skipped() -> None:
    events, err = await run(
        [
            '{"from": "s1", "text": "unclosed',
            "[1, 2]",
            {"text": "no sender"},
            {"from": "s1", "txt": "a typo"},
            {"from": "s1", "text": "hi", "language": "xx"},
            {"from": "s1", "choice": 3},
            {"from": "advocate", "to": "nobody", "text": "hello"},
            {"advance": "soon"},
            {"at": "yesterday"},
            {"at": "2026-12-01T09:00:00Z", "from": "s1"},
            "plain words are a message from demo",
        ]
    )
    lines = err.splitlines()
    assert [line.split(":")[1].strip() for line in lines] == [
        "line 1", "line 3", "line 4", "line 5", "line 6", "line 7", "line 8", "line 9", "line 10",
    ]  # fmt: skip
    assert all(line.startswith("simulate: line ") and line.endswith("skipped") for line in lines)
    assert "not valid JSON" in lines[0] and "unknown key(s) txt" in lines[2]
    assert {e["to"] for e in events} == {"demo"}  # "[1, 2]" and the plain line are answered
