"""Load the reviewed urgent-phrase catalogues (locales/urgent/<lang>.po) into a PhraseBank.

Each entry's msgctxt is the category, its msgid the English meaning (for reviewers), and its
msgstr one or more phrases in the file's language separated by "|". Entries still marked
fuzzy (drafted, not yet reviewed by a native speaker) are used as well: missing a real alarm
costs more than the occasional false one, and the mark stays visible in Poedit/Weblate.
A catalogue with an unknown category fails here, at start-up, not in front of a survivor.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from babel.messages.pofile import read_po

from bot.engine.urgent import CATEGORIES, PhraseBank

VARIANT_SEPARATOR = "|"


@dataclass(frozen=True)
class CatalogueEntry:
    language: str
    category: str
    meaning: str
    phrases: tuple[str, ...]
    fuzzy: bool


def read_catalogue(path: Path) -> list[CatalogueEntry]:
    """Entries of one urgent catalogue; the language is the file name (``pl.po`` -> ``pl``)."""
    language = path.stem
    with path.open("rb") as handle:
        catalog = read_po(handle, ignore_obsolete=True)
    entries: list[CatalogueEntry] = []
    for message in catalog:
        if not message.id:
            continue  # the header
        if message.context not in CATEGORIES:
            raise ValueError(f"{path.name}: unknown category {message.context!r}")
        text = message.string if isinstance(message.string, str) else ""
        phrases = tuple(p.strip() for p in text.split(VARIANT_SEPARATOR) if p.strip())
        entries.append(
            CatalogueEntry(language, message.context, str(message.id), phrases, message.fuzzy)
        )
    return entries


def load_phrase_bank(directory: Path) -> PhraseBank:
    """Every ``*.po`` catalogue under `directory` (normally ``locales/urgent``)."""
    triples = [
        (entry.language, entry.category, phrase)
        for path in sorted(directory.glob("*.po"))
        for entry in read_catalogue(path)
        for phrase in entry.phrases
    ]
    return PhraseBank.from_entries(triples)
