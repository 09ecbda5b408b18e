"""One turn of a conversation: the stored state, the event being handled, and the effects
produced so far. Created for each Engine.handle call and turned back into a plain dict.

The stored state never holds what the survivor wrote: only where they are in the flows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.engine.bundle import Bundle
from bot.engine.effects import Effect
from bot.engine.events import Context
from bot.engine.languages import SUPPORTED_LANGUAGES
from bot.engine.normalize import normalize

STATE_VERSION = 1
MAX_STACK = 4  # nested "call:" levels kept; older ones are dropped
MAX_INPUT_CHARS = 4096  # a message longer than any channel delivers is cut for matching


@dataclass
class Run:
    bundle: Bundle
    ctx: Context
    position: tuple[str, str] | None = None  # (flow, node) waiting for input
    stack: list[tuple[str, str]] = field(default_factory=list)
    lang: str | None = None  # chosen in this conversation; wins over ctx.language
    misses: int = 0
    offer: bool = False  # "talk to a person?" was just offered
    stopped: bool = False
    paused: bool = False
    enrolled: bool = False
    pending_code: str | None = None  # from "/start CODE" before onboarding reached the code
    flags: set[str] = field(default_factory=set)
    effects: list[Effect] = field(default_factory=list)
    # The event being handled (never stored).
    text: str = ""
    normalized: str = ""
    choice: str | None = None
    event_name: str | None = None
    chosen: str | None = None  # the choice value the router matched, for "@choice"

    @property
    def language(self) -> str | None:
        return self.lang or self.ctx.language

    @property
    def onboarded(self) -> bool:
        return "onboarded" in self.flags

    def listening_languages(self, everywhere: bool = False) -> tuple[str, ...]:
        """Words are heard in the survivor's language and English, or in every language
        while no language is known (and on the language choice itself)."""
        current = self.language
        if everywhere or current is None:
            return tuple(self.bundle.catalogue.languages())
        return tuple(dict.fromkeys((current, "en")))

    def set_input(self, text: str, choice: str | None) -> None:
        self.text = text.strip()
        self.normalized = normalize(self.text[:MAX_INPUT_CHARS])
        self.choice = choice

    def push(self, position: tuple[str, str]) -> None:
        self.stack.append(position)
        del self.stack[:-MAX_STACK]

    @classmethod
    def load(cls, bundle: Bundle, state: dict[str, Any] | None, ctx: Context) -> Run:
        """Rebuild from a stored dict, dropping anything malformed or no longer defined
        (flows change between releases; a stale position restarts from a safe place)."""
        run = cls(bundle, ctx)
        if not isinstance(state, dict) or state.get("v") != STATE_VERSION:
            return run
        run.position = _position(bundle, state.get("at"))
        raw_stack = state.get("stack")
        for item in raw_stack if isinstance(raw_stack, list) else []:
            pos = _position(bundle, item)
            if pos is not None:
                run.push(pos)
        lang = state.get("lang")
        run.lang = lang if lang in SUPPORTED_LANGUAGES else None
        misses = state.get("misses")
        run.misses = misses if isinstance(misses, int) and 0 <= misses < 10 else 0
        run.offer = state.get("offer") is True
        run.stopped = state.get("stopped") is True
        run.paused = state.get("paused") is True
        run.enrolled = state.get("enrolled") is True
        code = state.get("pending_code")
        run.pending_code = code if isinstance(code, str) and code.isalnum() else None
        flags = state.get("flags")
        run.flags = {f for f in flags if isinstance(f, str)} if isinstance(flags, list) else set()
        return run

    def dump(self) -> dict[str, Any]:
        return {
            "v": STATE_VERSION,
            "at": list(self.position) if self.position else None,
            "stack": [list(p) for p in self.stack],
            "lang": self.lang,
            "misses": self.misses,
            "offer": self.offer,
            "stopped": self.stopped,
            "paused": self.paused,
            "enrolled": self.enrolled,
            "pending_code": self.pending_code,
            "flags": sorted(self.flags),
        }


def _position(bundle: Bundle, raw: object) -> tuple[str, str] | None:
    if not isinstance(raw, list) or len(raw) != 2:
        return None
    flow, node = raw
    if not isinstance(flow, str) or not isinstance(node, str):
        return None
    found = bundle.node(flow, node)
    return (flow, node) if found is not None and found.waits else None
