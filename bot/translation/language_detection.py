"""Which language a survivor wrote in, offline, with lingua.

The survivor's own language wins. Detection may only replace it with a confident reading of a
long-enough sample (MIN_WORDS words, MIN_LETTERS letters, the other language CLEAR_MARGIN
times likelier and at least MIN_CONFIDENCE sure). Text in Latin letters from someone whose
language is written in another script (Ukrainian, Arabic, Farsi) keeps their language: that
is how people type on a borrowed or Latin-only phone ("vin mene bje", "ana khayef"), and
lingua would call it Albanian or Polish. Codes and commands ("JOIN 62ZBW7", "/start") are
never tagged: they are left out of the sample. Lingua's high-accuracy mode is used because
its low-accuracy mode misplaces short messages; its models (about 200 MB resident) load on
the first detection, not at start-up.
"""

from __future__ import annotations

import re
from functools import cached_property
from typing import Any

# Harbour's languages by ISO 639-1 code, as lingua names them.
LINGUA_NAMES = {
    "en": "ENGLISH", "pl": "POLISH", "ro": "ROMANIAN", "sq": "ALBANIAN",
    "vi": "VIETNAMESE", "uk": "UKRAINIAN", "ar": "ARABIC", "fa": "PERSIAN",
}  # fmt: skip
CLEAR_MARGIN = 2.0  # another language must be this many times likelier than the prior
MIN_CONFIDENCE = 0.8  # and this sure, on lingua's relative scale
MIN_WORDS, MIN_LETTERS = 4, 20  # shorter samples are not enough to overrule the survivor
NON_LATIN_LANGUAGES = frozenset({"uk", "ar", "fa"})
# A command ("/start", "/clear") or a code: a word of capitals and digits with a digit in it.
_COMMAND_OR_CODE = re.compile(r"^/\S*|\b(?=[A-Z0-9-]*\d)[A-Z0-9-]{4,}\b")
# A join word before a code ("JOIN 62ZBW7", "start AB12CD").
_JOIN_WORD = re.compile(r"(?i)\b(join|start|code|kod|cod|kodi|mã|код|رمز|کد)\s*$")


def _sample(text: str) -> str:
    """The text without commands, codes and the join words in front of codes."""
    kept: list[str] = []
    last = 0
    for found in _COMMAND_OR_CODE.finditer(text):
        kept.append(_JOIN_WORD.sub("", text[last : found.start()]))
        last = found.end()
    kept.append(text[last:])
    return " ".join(" ".join(kept).split())


def _is_latin_only(text: str) -> bool:
    letters = [ch for ch in text if ch.isalpha()]
    return bool(letters) and all(ch.isascii() or "\u00c0" <= ch <= "\u024f" for ch in letters)


class LanguageDetector:
    def __init__(self, languages: tuple[str, ...] = tuple(LINGUA_NAMES)) -> None:
        self.languages = languages

    @cached_property
    def _detector(self) -> Any:  # built on first use: start-up stays fast
        from lingua import Language, LanguageDetectorBuilder

        chosen = [getattr(Language, LINGUA_NAMES[code]) for code in self.languages]
        return LanguageDetectorBuilder.from_languages(*chosen).build()

    def detect(self, text: str, prior: str | None = None) -> str | None:
        """The ISO code of the language of `text`: `prior` (the survivor's own language)
        unless another is confidently and clearly likelier on a long-enough sample."""
        sample = _sample(text)
        letters = sum(ch.isalpha() for ch in sample)
        if letters < 3:
            return prior
        if prior is not None:
            if prior in NON_LATIN_LANGUAGES and _is_latin_only(sample):
                return prior  # transliterated: their language, typed in Latin letters
            if len(sample.split()) < MIN_WORDS or letters < MIN_LETTERS:
                return prior
        values = self._detector.compute_language_confidence_values(sample)
        scores = {v.language.iso_code_639_1.name.lower(): v.value for v in values}
        if not scores:
            return prior
        best: str = max(scores, key=lambda code: scores[code])
        if prior is None or best == prior:
            return best
        if scores[best] < MIN_CONFIDENCE or scores[best] < CLEAR_MARGIN * scores.get(prior, 0.0):
            return prior
        return best
