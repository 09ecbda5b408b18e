"""record: note a request or a consent answer, e.g. ("erasure_requested", "") or
("consent", "yes"). `value` may be "@choice" for the choice just matched."""

from __future__ import annotations

from bot.engine.actions import ActionType
from bot.engine.definitions import Action
from bot.engine.effects import Record
from bot.engine.run import Run


def execute(action: Action, run: Run) -> None:
    raw = str(action.params.get("value", ""))
    value = (run.chosen or "") if raw == "@choice" else raw
    run.effects.append(Record(str(action.params["kind"]), value))


ACTION = ActionType("record", execute, required={"kind": str}, optional={"value": str})
