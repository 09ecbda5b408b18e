"""What happens to a conversation: something the survivor sent, or something the system says."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class UserInput:
    """Text typed by the survivor, or a button press (`choice` holds the button's value)."""

    text: str
    choice: str | None = None


@dataclass(frozen=True)
class SystemEvent:
    """A non-user event: "enrol_ok", "enrol_failed", "reminder", "timeout", ..."""

    name: str
    data: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Context:
    """Facts about the survivor the engine may read but does not own."""

    channel: str  # "telegram" | "sms" | "local"
    language: str | None = None  # None until chosen
    enrolled: bool = False
    duress_word: str | None = None


Event = UserInput | SystemEvent
