"""channel_state: STOP ("stopped"), START ("active") or pause ("paused") this channel.
The Run remembers it: stopped means silence until START, paused until any message."""

from __future__ import annotations

from bot.engine.actions import ActionType
from bot.engine.definitions import Action
from bot.engine.effects import ChannelState
from bot.engine.run import Run

STATUSES = ("stopped", "active", "paused")


def execute(action: Action, run: Run) -> None:
    status = str(action.params["status"])
    run.stopped = status == "stopped"
    run.paused = status == "paused"
    run.effects.append(ChannelState(status))


ACTION = ActionType("channel_state", execute, required={"status": str})
