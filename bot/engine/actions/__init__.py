"""Action types, one per module, each named after its type (the goflow habit).

An action turns flow data into effects on the Run; it never performs anything itself.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.engine.definitions import Action
    from bot.engine.run import Run


ParamType = type | tuple[type, ...]  # what isinstance() accepts for a parameter


@dataclass(frozen=True)
class ActionType:
    name: str
    execute: Callable[[Action, Run], None]
    required: Mapping[str, ParamType] = field(default_factory=dict)
    optional: Mapping[str, ParamType] = field(default_factory=dict)
