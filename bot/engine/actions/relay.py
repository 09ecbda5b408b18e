"""relay: pass what the survivor just wrote to their advocate, word for word."""

from __future__ import annotations

from bot.engine.actions import ActionType
from bot.engine.definitions import Action
from bot.engine.effects import Relay
from bot.engine.run import Run


def execute(action: Action, run: Run) -> None:
    if run.text:
        run.effects.append(Relay(run.text))


ACTION = ActionType("relay", execute)
