"""Which language a survivor wrote in, offline, with lingua.

Short messages are hard to place, so the survivor's own language is the prior: it is kept
unless another language is clearly more likely. Lingua's high-accuracy mode is used because
its low-accuracy mode misplaces short messages ("i am scared" as Romanian); its models
(about 200 MB resident) load on the first detection, not at start-up.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

# Harbour's languages by ISO 639-1 code, as lingua names them.
LINGUA_NAMES = {
    "en": "ENGLISH", "pl": "POLISH", "ro": "ROMANIAN", "sq": "ALBANIAN",
    "vi": "VIETNAMESE", "uk": "UKRAINIAN", "ar": "ARABIC", "fa": "PERSIAN",
}  # fmt: skip
CLEAR_MARGIN = 2.0  # another language must be this many times likelier than the prior


class LanguageDetector:
    def __init__(self, languages: tuple[str, ...] = tuple(LINGUA_NAMES)) -> None:
        self.languages = languages

    @cached_property
    def _detector(self) -> Any:  # built on first use: start-up stays fast
        from lingua import Language, LanguageDetectorBuilder

        chosen = [getattr(Language, LINGUA_NAMES[code]) for code in self.languages]
        return LanguageDetectorBuilder.from_languages(*chosen).build()

    def detect(self, text: str, prior: str | None = None) -> str | None:
        """The ISO code of the likeliest language, or `prior` when nothing is clearly likelier."""
        if sum(ch.isalpha() for ch in text) < 3:
            return prior
        values = self._detector.compute_language_confidence_values(text)
        scores = {v.language.iso_code_639_1.name.lower(): v.value for v in values}
        if not scores:
            return prior
        best: str = max(scores, key=lambda code: scores[code])
        if prior in scores and scores[best] < CLEAR_MARGIN * scores[prior]:
            return prior
        return best
