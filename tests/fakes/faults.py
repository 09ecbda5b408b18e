"""Scripted failures shared by the fake servers.

A test says "the next 2 calls to sendMessage for chat 42 answer 502" and the fake consumes
those faults in order as matching calls arrive. A fault with no method or target matches
every call.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

FaultKind = Literal["status", "hang"]


@dataclass
class Fault:
    kind: FaultKind
    remaining: int
    status: int = 500
    seconds: float = 0.0
    method: str | None = None  # compared case-insensitively
    target: str | None = None  # a chat id or a phone number, compared as text
    processed: bool = False  # for "hang": carry the call out before hanging

    def matches(self, method: str, target: str | None) -> bool:
        if self.remaining <= 0:
            return False
        if self.method is not None and self.method.lower() != method.lower():
            return False
        return self.target is None or self.target == target


class FaultScript:
    """An ordered list of faults; each matching call uses up one occurrence."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        if fault.remaining < 1:
            raise ValueError("a fault must apply to at least one call")
        self._faults.append(fault)

    def take(self, method: str, target: str | None) -> Fault | None:
        for fault in self._faults:
            if fault.matches(method, target):
                fault.remaining -= 1
                return fault
        return None

    @property
    def pending(self) -> int:
        """How many scripted failures have not been used yet."""
        return sum(fault.remaining for fault in self._faults)

    def clear(self) -> None:
        self._faults.clear()
