"""Read a dialogue (YAML) and turn its steps into events and expected effect strings.

Inputs may refer to the catalogue so one dialogue runs in every language:
  "@choice.safe"      the text of that key in the dialogue's language (a "match." key gives
                      its first word, "@match.numbers#4" its fourth; "@match.join K7QX2"
                      adds the rest after a space),
                      i.e. what a survivor would type;
  "#lang"             the number of the dialogue's language on the language menu;
  as: plain | upper   type it without diacritics, or in capitals.
Expected effects, in order:
  say:KEY  say!:KEY (urgent)  escalate:REASON  escalate~:REASON (silent)  relay:TEXT
  set:NAME=VALUE  enrol:CODE  channel:STATUS  record:KIND=VALUE
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.engine import Bundle
from bot.engine.effects import (
    ChannelState,
    Effect,
    Enrol,
    Escalate,
    Record,
    Relay,
    Say,
    SetProfile,
)
from bot.engine.events import Event, SystemEvent, UserInput
from bot.engine.languages import SUPPORTED_LANGUAGES

HERE = Path(__file__).parent


@dataclass(frozen=True)
class Dialogue:
    name: str
    context: dict[str, Any]
    steps: list[dict[str, Any]]


def load_dialogues() -> list[Dialogue]:
    found = []
    for path in sorted(HERE.glob("*.yaml")):
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        found.append(Dialogue(path.stem, raw.get("context", {}), raw["steps"]))
    return found


def describe(effect: Effect) -> str:
    match effect:
        case Say():
            return f"say{'!' if effect.urgent else ''}:{effect.key}"
        case Escalate():
            return f"escalate{'~' if effect.silent else ''}:{effect.reason}"
        case Relay():
            return f"relay:{effect.text}"
        case SetProfile():
            return f"set:{effect.name}={effect.value}"
        case Enrol():
            return f"enrol:{effect.code}"
        case ChannelState():
            return f"channel:{effect.status}"
        case Record():
            return f"record:{effect.kind}={effect.value}"
    raise AssertionError(f"unknown effect {effect!r}")


def typed(bundle: Bundle, text: str, language: str, style: str | None) -> str:
    if text == "#lang":
        text = str(SUPPORTED_LANGUAGES.index(language) + 1)
    elif text.startswith("@"):
        key, _, rest = text[1:].partition(" ")
        key, _, nth = key.partition("#")
        assert bundle.catalogue.has(language, key), f"{key} missing in {language}"
        text = bundle.catalogue.text(language, key)
        if key.startswith("match."):
            text = text.split("|")[int(nth or 1) - 1].split("/")[0]
        text = f"{text} {rest}" if rest else text
    if style == "upper":
        text = text.upper()
    elif style == "plain":
        decomposed = unicodedata.normalize("NFKD", text)
        text = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return text


def event_for(bundle: Bundle, step: dict[str, Any], language: str) -> Event:
    if "event" in step:
        return SystemEvent(step["event"])
    if "press" in step:
        return UserInput(text="", choice=step["press"])
    return UserInput(typed(bundle, str(step["send"]), language, step.get("as")))


def expected(step: dict[str, Any], language: str) -> list[str]:
    return [item.replace("{lang}", language) for item in step.get("expect", [])]
