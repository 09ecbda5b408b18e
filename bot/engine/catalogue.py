"""The text of every message and the words the bot listens for, per language.

Built by bot.flows.files from the .po catalogues; the engine only reads it. Keys are
gettext message contexts such as "menu.main". Keys under "match." hold words separated
by "|", compared after normalize().
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.engine.languages import SOURCE_LANGUAGE
from bot.engine.normalize import normalize

MATCH_PREFIX = "match."


@dataclass(frozen=True)
class Entry:
    text: str
    reviewed: bool  # False while a native speaker has not checked it ("#, fuzzy")
    line: int = 0  # where it sits in its .po file, for error messages


@dataclass(frozen=True)
class Catalogue:
    entries: Mapping[str, Mapping[str, Entry]]  # language -> key -> entry
    files: Mapping[str, str] = field(default_factory=dict)  # language -> file name
    _words: dict[tuple[str, str], tuple[str, ...]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def languages(self) -> tuple[str, ...]:
        return tuple(self.entries)

    def has(self, language: str, key: str) -> bool:
        return key in self.entries.get(language, {})

    def text(self, language: str | None, key: str) -> str:
        """The message in `language`, else English, else the key itself (never empty)."""
        for lang in (language, SOURCE_LANGUAGE):
            if lang is not None:
                entry = self.entries.get(lang, {}).get(key)
                if entry is not None and entry.text:
                    return entry.text
        return key

    def words(self, language: str, key: str) -> tuple[str, ...]:
        """The normalised alternatives of a "match." key in one language (cached)."""
        cached = self._words.get((language, key))
        if cached is None:
            entry = self.entries.get(language, {}).get(key)
            raw = entry.text.split("|") if entry is not None else []
            cached = tuple(dict.fromkeys(w for w in (normalize(r) for r in raw) if w))
            self._words[(language, key)] = cached
        return cached
