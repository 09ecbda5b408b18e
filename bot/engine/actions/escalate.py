"""escalate: raise an alarm to staff (the escalation service finds a person)."""

from __future__ import annotations

from bot.engine.actions import ActionType
from bot.engine.definitions import Action
from bot.engine.effects import Escalate
from bot.engine.run import Run


def execute(action: Action, run: Run) -> None:
    reason = str(action.params["reason"])
    run.effects.append(Escalate(reason, silent=bool(action.params.get("silent", False))))


ACTION = ActionType("escalate", execute, required={"reason": str}, optional={"silent": bool})
