"""set_flag: remember a fact about this conversation, e.g. "onboarded" (the main menu
and "menu"/"back" are only offered once onboarding is complete)."""

from __future__ import annotations

from bot.engine.actions import ActionType
from bot.engine.definitions import Action
from bot.engine.run import Run


def execute(action: Action, run: Run) -> None:
    run.flags.add(str(action.params["flag"]))


ACTION = ActionType("set_flag", execute, required={"flag": str})
