"""What the engine asks the outside world to do. Effects are values; services carry them out.

This module is the contract between the pure engine and the conversation service.
Add new effect types here (and handle them in bot/messaging/conversation.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Choice:
    """One button (Telegram) or numbered line (SMS). `label_key` is a catalogue key."""

    value: str
    label_key: str


@dataclass(frozen=True)
class Say:
    """Send the catalogue message `key` to the survivor, rendered in their language."""

    key: str
    params: Mapping[str, str] = field(default_factory=dict)
    choices: tuple[Choice, ...] = ()
    sensitive: bool = False  # Telegram protect_content; never shown in previews
    urgent: bool = False  # goes ahead of everything else in the outbox


@dataclass(frozen=True)
class Escalate:
    """Raise an alarm to staff. `silent` (duress word): nothing visible to the survivor."""

    reason: str  # e.g. "help_now", "phrase:danger", "duress", "talk_to_person"
    silent: bool = False


@dataclass(frozen=True)
class Relay:
    """Free text for the survivor's advocate."""

    text: str


@dataclass(frozen=True)
class SetProfile:
    """Change a survivor setting: language, quiet_hours, timezone, discreet, duress_word."""

    name: str
    value: str | None


@dataclass(frozen=True)
class Enrol:
    """Check an enrolment code; the service answers with a SystemEvent enrol_ok/enrol_failed."""

    code: str


@dataclass(frozen=True)
class ChannelState:
    """STOP / START / pause on the current channel: "stopped", "active" or "paused"."""

    status: str


@dataclass(frozen=True)
class Record:
    """Record a request or a consent answer, e.g. ("erasure_requested", "yes")."""

    kind: str
    value: str = ""


Effect = Say | Escalate | Relay | SetProfile | Enrol | ChannelState | Record
