"""The survivor's language wins over detection: only a confident, long-enough sample
overrules it; Latin-typed Ukrainian, Arabic and Farsi keep their language; codes and
commands are never tagged."""

from __future__ import annotations

import pytest

from bot.engine import SUPPORTED_LANGUAGES
from bot.translation.language_detection import LanguageDetector


@pytest.fixture(scope="module")
def detector() -> LanguageDetector:
    return LanguageDetector()


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("vin mene bje", "uk"),
        ("ya ne rozumiyu lyst", "uk"),
        ("mene pobyly i zabraly pasport", "uk"),
        ("ana khayef min el rajul", "ar"),
        ("man mitarsam, komak lazem daram", "fa"),
    ],
)
def test_latin_typed_ukrainian_arabic_farsi_keep_their_language(
    detector: LanguageDetector, text: str, language: str
) -> None:
    assert detector.detect(text, language) == language


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
@pytest.mark.parametrize("text", ["JOIN 62ZBW7", "/start AB12CD", "/clear", "start K7QX2"])
def test_codes_and_commands_are_never_tagged(
    detector: LanguageDetector, text: str, language: str
) -> None:
    assert detector.detect(text, language) == language
    assert detector.detect(text, None) is None


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_a_short_sample_never_overrules_the_survivor(
    detector: LanguageDetector, language: str
) -> None:
    for text in ("OK thanks", "Dziękuję bardzo", "Mulțumesc mult", "Cảm ơn"):
        assert detector.detect(text, language) == language


def test_a_confident_long_sample_may_overrule(detector: LanguageDetector) -> None:
    english = "I have a question about the letter from the council office today"
    assert detector.detect(english, "pl") == "en"
    ukrainian = "Мені потрібна допомога з листом від ради"
    assert detector.detect(ukrainian, "ar") == "uk"
    assert detector.detect("Mam pytanie o list z urzędu", None) == "pl"
