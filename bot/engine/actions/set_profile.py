"""set_profile: change a survivor setting. `value` is literal, "@choice" (the value of the
choice just matched), "@text" (what was typed, normalised) or null (clear the setting)."""

from __future__ import annotations

from bot.engine.actions import ActionType
from bot.engine.definitions import Action
from bot.engine.effects import SetProfile
from bot.engine.languages import SUPPORTED_LANGUAGES
from bot.engine.run import Run

PROFILE_FIELDS = ("language", "quiet_hours", "timezone", "discreet", "duress_word")


def execute(action: Action, run: Run) -> None:
    name = str(action.params["name"])
    raw = action.params.get("value")
    value: str | None
    if raw == "@choice":
        value = run.chosen
    elif raw == "@text":
        value = run.normalized or None
    else:
        value = None if raw is None else str(raw)
    if name == "language":
        if value not in SUPPORTED_LANGUAGES:
            return
        run.lang = value
    run.effects.append(SetProfile(name, value))


ACTION = ActionType(
    "set_profile", execute, required={"name": str}, optional={"value": (str, type(None))}
)
