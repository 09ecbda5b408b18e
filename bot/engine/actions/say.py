"""say: send a catalogue message, optionally with choices (buttons / numbered lines)."""

from __future__ import annotations

from bot.engine.actions import ActionType
from bot.engine.definitions import Action, ChoiceDef
from bot.engine.effects import Choice, Say
from bot.engine.run import Run


def say_effect(action: Action, urgent: bool = False) -> Say:
    choices: tuple[ChoiceDef, ...] = tuple(action.params.get("choices", ()))
    return Say(
        key=str(action.params["key"]),
        params=dict(action.params.get("params", {})),
        choices=tuple(Choice(c.value, c.label) for c in choices),
        sensitive=bool(action.params.get("sensitive", False)),
        urgent=urgent or bool(action.params.get("urgent", False)),
    )


def execute(action: Action, run: Run) -> None:
    run.effects.append(say_effect(action))


ACTION = ActionType(
    "say",
    execute,
    required={"key": str},
    optional={"choices": list, "params": dict, "sensitive": bool, "urgent": bool},
)
