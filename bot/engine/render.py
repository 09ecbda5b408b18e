"""Turn a Say effect into text for one channel and language.

Telegram: the text, with choices returned separately to become buttons.
SMS and the local console: the text followed by short numbered lines ("1 Housing"), which
the engine accepts back as the number or the word. The choices list is filled either way.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.engine.bundle import Bundle
from bot.engine.effects import Say

NUMBERED_CHANNELS = frozenset({"sms", "local"})
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True)
class Rendered:
    text: str
    choices: list[tuple[str, str]] = field(default_factory=list)  # (value, label)


def fill(template: str, params: Mapping[str, str]) -> str:
    """Replace {name} placeholders; an unknown name is left visible rather than crashing."""
    return _PLACEHOLDER.sub(lambda m: str(params.get(m.group(1), m.group(0))), template)


def placeholders(template: str) -> frozenset[str]:
    return frozenset(_PLACEHOLDER.findall(template))


def render(bundle: Bundle, say: Say, language: str, channel: str) -> Rendered:
    catalogue = bundle.catalogue
    text = fill(catalogue.text(language, say.key), say.params)
    choices = [(c.value, catalogue.text(language, c.label_key)) for c in say.choices]
    if channel in NUMBERED_CHANNELS and choices:
        lines = [f"{number} {label}" for number, (_, label) in enumerate(choices, 1)]
        text = "\n".join([text, *lines])
    return Rendered(text, choices)
