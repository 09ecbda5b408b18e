"""Flow definitions: pure, immutable data built by bot.flows.files from flows/*.yaml.

The goflow model: a flow is a set of nodes. A node runs its actions in order, then either
follows its single `exit` or hands over to its router. A router picks a category from
its cases (waiting for the survivor first when `wait` is set); each category names the
destination to go to next. Every type name is registered in bot.engine.registry.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

OTHER = "other"  # the category taken when no case matches


@dataclass(frozen=True)
class ChoiceDef:
    """A choice offered by a `say` action: value, label key and optional match-words key."""

    value: str
    label: str
    words: str | None = None


@dataclass(frozen=True)
class Action:
    type: str
    params: Mapping[str, Any]
    line: int = 0


@dataclass(frozen=True)
class Case:
    type: str
    arguments: tuple[str, ...]
    category: str
    line: int = 0


@dataclass(frozen=True)
class Router:
    type: str  # "switch" or "menu" (cases made from the node's choices)
    wait: bool
    cases: tuple[Case, ...]
    categories: Mapping[str, str]  # category -> destination
    line: int = 0
    category_lines: Mapping[str, int] = field(default_factory=dict)  # for error messages


@dataclass(frozen=True)
class Node:
    id: str
    actions: tuple[Action, ...] = ()
    router: Router | None = None
    exit: str | None = None
    back: str | None = None  # where "back" goes from here; None means the main menu
    listen_all: bool = False  # match words of every language (the language choice)
    private_input: bool = False  # the survivor is typing a new safe word: no duress check
    line: int = 0
    exit_line: int = 0

    @property
    def choices(self) -> tuple[ChoiceDef, ...]:
        """The choices of the last `say` that offers any: what numbers refer to."""
        for action in reversed(self.actions):
            found = action.params.get("choices")
            if action.type == "say" and found:
                return tuple(found)
        return ()

    @property
    def waits(self) -> bool:
        return self.router is not None and self.router.wait


@dataclass(frozen=True)
class Flow:
    name: str
    entry: str
    nodes: Mapping[str, Node]
    file: str = ""
    line: int = 0
    back: str | None = None  # default "back" destination for the flow's nodes


@dataclass(frozen=True)
class Destination:
    """Parsed exit text: "node", "flow.node", "return", with an optional "wait:" or "call:"
    prefix. "wait:" resumes waiting at a node without running its actions again (no
    repeated prompt); "call:" remembers where we are so a later "return" comes back."""

    flow: str | None
    node: str | None  # None for "return"
    mode: str = "enter"  # "enter" | "wait" | "call"

    @classmethod
    def parse(cls, text: str, flow: str) -> Destination:
        mode = "enter"
        for prefix in ("wait", "call"):
            if text.startswith(prefix + ":"):
                mode, text = prefix, text[len(prefix) + 1 :]
        if text == "return":
            return cls(None, None, mode)
        target_flow, _, node = text.rpartition(".")
        return cls(target_flow or flow, node, mode)
