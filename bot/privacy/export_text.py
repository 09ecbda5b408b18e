"""The subject access export as plain text, for the survivor: in their language and in
English, with values a person reads (yes/no, dates, "not set"), never Python's.

Labels come from the survivor catalogues (`export.*` keys in locales/<lang>.po); the values
themselves (messages, codes, addresses) are shown as stored.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from bot.privacy.export import SurvivorExport

Words = Callable[[str], str]  # a catalogue key -> the text in one language


def readable(value: object, words: Words) -> str:
    if value is None or value == "" or value == []:
        return words("export.none")
    if isinstance(value, bool):
        return words("export.yes" if value else "export.no")
    if isinstance(value, list | tuple):
        return ", ".join(readable(v, words) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k.replace('_', ' ')}: {readable(v, words)}" for k, v in value.items())
    if isinstance(value, str):
        try:
            when = datetime.fromisoformat(value)
        except ValueError:
            return value
        if when.tzinfo is None:
            return value  # a date, or not a time at all
        return f"{when.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
    return str(value)


def _label(key: str, words: Words) -> str:
    text = words(f"export.field.{key}")
    return key.replace("_", " ") if text.startswith("export.") else text


def to_text(export: SurvivorExport, words: Words) -> str:
    def say(key: str, **params: str) -> str:
        return words(key).format(**params)

    def show(value: Any) -> str:
        return readable(value, words)

    lines = [
        say("export.title", case=export.case_code),
        say("export.exported", when=show(export.exported_at)),
        "",
        say("export.settings"),
    ]
    lines += [f"  {_label(key, words)}: {show(value)}" for key, value in export.profile.items()]
    lines += ["", say("export.contacts")]
    lines += [
        f"  {c['channel']}: {c['address']} ({c['status']}, {show(c['since'])})"
        for c in export.contacts
    ]
    lines += ["", say("export.permissions")]
    for row in export.consent:
        lines.append(
            f"  {show(row['at'])}  {row['purpose'].replace('_', ' ')}: {show(row['granted'])} "
            f"({say('export.by', who=row['given_by'])})"
        )
    lines += ["", say("export.messages")]
    for message in export.messages:
        text = message["text"] if message["text"] is not None else say("export.deleted")
        direction = say(
            "export.from_you" if message["direction"] == "from you" else "export.to_you"
        )
        lines.append(f"  {show(message['at'])}  {direction} ({message['channel']}): {text}")
    lines += ["", say("export.events")]
    for event in export.events:
        lines.append(
            f"  {show(event['at'])}  {event['what']} ({say('export.by', who=event['by'])})"
        )
    if export.other:
        lines += ["", say("export.other")]
    for table, rows in export.other.items():
        lines.append(f"  {table.replace('_', ' ')}")
        for row in rows:
            shown = {k: v for k, v in row.items() if k not in ("id", "survivor_id")}
            lines.append(f"    {show(shown)}")
    return "\n".join(lines) + "\n"
