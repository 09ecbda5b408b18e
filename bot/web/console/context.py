"""What the console's pages share: the store, the staff commands, templates and case panels."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from bot.engine import Bundle
from bot.ports import Clock
from bot.safety.escalation import Escalations
from bot.settings import Settings
from bot.staff.commands import StaffCommands
from bot.store.crypto import Cipher
from bot.store.database import Database
from bot.store.uow import UnitOfWork

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"


@dataclass(frozen=True)
class CasePanel:
    """A box on the case page. `load` returns the template's variables (or None to hide the
    panel); it runs in the page's unit of work after the read was allowed and audited, and
    the template sees them as `data` (with `survivor` and `csrf`). Another capability adds
    one with `console.panels.append(CasePanel(...))` before the app is built; its routes, if
    it takes forms, are its own."""

    name: str
    template: str  # under templates/, e.g. "panels/appointments.html"
    load: Callable[[Any], Awaitable[dict[str, Any] | None]]  # (CaseView) -> variables


@dataclass
class Console:
    settings: Settings
    db: Database
    cipher: Cipher
    clock: Clock
    commands: StaffCommands
    escalations: Escalations
    bundle: Bundle
    wake: Callable[[], None] = lambda: None  # the relay and outbox workers look at once
    panels: list[CasePanel] = field(default_factory=list)
    env: Environment = field(init=False)

    def __post_init__(self) -> None:
        self.env = Environment(
            loader=FileSystemLoader(TEMPLATES),
            autoescape=select_autoescape(default=True, default_for_string=True),
            trim_blocks=True,
            lstrip_blocks=True,
        )

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.db, self.cipher)
