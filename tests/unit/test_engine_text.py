"""Forgiving matching, SMS segment counting and channel rendering."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.engine import Bundle, render
from bot.engine.effects import Choice, Say
from bot.engine.matching import matches_any, same_word, within_edits
from bot.engine.normalize import normalize
from bot.engine.render import fill
from bot.engine.sms import is_gsm7, segments
from bot.flows.files import load_bundle

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def bundle() -> Bundle:
    return load_bundle(ROOT / "flows", ROOT / "locales")


@pytest.mark.parametrize(
    ("typed", "wanted"),
    [
        ("settings", "settings"),
        ("setings", "settings"),  # one letter missing
        ("stpo", "stop"),  # two neighbours swapped in a short word
        ("informaton", "information"),
        ("ustawienia", "ustawienia"),
        ("tak", "так"),  # Ukrainian typed in Latin letters
        ("menu", "меню"),
    ],
)
def test_forgiving_matches(typed: str, wanted: str) -> None:
    assert same_word(normalize(typed), normalize(wanted))


@pytest.mark.parametrize(
    ("typed", "wanted"),
    [("so", "no"), ("shop", "stop"), ("yet", "yes"), ("", "yes"), ("ab " * 40, "ab " * 40)],
)
def test_short_words_and_long_messages_are_not_guessed(typed: str, wanted: str) -> None:
    assert not same_word(normalize(typed), normalize(wanted))


def test_normalize_folds_case_diacritics_and_digits() -> None:
    assert normalize("  ŚWIĘTO  Łódź ") == "swieto lodz"
    assert normalize("٣") == "3"
    assert within_edits("kitten", "sitting", 3) and not within_edits("kitten", "sitting", 2)


def test_gsm7_segments() -> None:
    assert segments("a" * 160) == 1
    assert segments("a" * 161) == 2
    assert segments("a" * 306) == 2
    assert segments("a" * 307) == 3
    assert segments("€" * 80) == 1  # extension characters count twice: 160 units
    assert segments("€" * 81) == 2
    # An escape pair is never split across parts: 152 + "€" needs a second part.
    assert segments("a" * 152 + "€" + "a" * 10) == 2
    assert is_gsm7("Hello, it's safe? 1 Yes") and not is_gsm7("Tak, jest bezpiecznie ż")


def test_ucs2_segments() -> None:
    assert segments("ż" * 70) == 1
    assert segments("ż" * 71) == 2
    assert segments("ż" * 134) == 2
    assert segments("ż" * 135) == 3
    assert segments("😀" * 35) == 1  # an emoji is two UTF-16 units
    assert segments("😀" * 36) == 2
    assert segments("a" * 66 + "😀") == 1  # 68 units, still fits one part of 70


def test_sms_rendering_numbers_the_choices(bundle: Bundle) -> None:
    say = Say(
        "onboarding.consent", choices=(Choice("agree", "choice.yes"), Choice("no", "choice.no"))
    )
    sms = render(bundle, say, "pl", "sms")
    assert sms.text == "Czy zgadzasz się na to?\n1 Tak\n2 Nie"
    assert sms.choices == [("agree", "Tak"), ("no", "Nie")]
    telegram = render(bundle, say, "pl", "telegram")
    assert telegram.text == "Czy zgadzasz się na to?"
    assert telegram.choices == sms.choices


def test_rendering_right_to_left_languages(bundle: Bundle) -> None:
    rendered = render(bundle, Say("menu.main"), "ar", "telegram")
    assert rendered.text.startswith("كيف")
    assert render(bundle, Say("menu.main"), "fa", "telegram").text.startswith("چطور")


def test_unknown_language_falls_back_to_english(bundle: Bundle) -> None:
    assert render(bundle, Say("advocate.sent"), "xx", "sms").text == "Passed on to your advocate."


def test_placeholders_are_filled_and_unknown_ones_left_visible() -> None:
    assert fill("Hi {name}, see {when}", {"name": "A"}) == "Hi A, see {when}"


# -- the word index gives the same answers as comparing word by word ---------------------------


def _catalogue_word_sets(bundle: Bundle) -> list[tuple[str, ...]]:
    catalogue = bundle.catalogue
    sets = {
        catalogue.words(language, key)
        for language, entries in catalogue.entries.items()
        for key in entries
        if key.startswith(("match.", "choice."))
    }
    return sorted(s for s in sets if s)


def _typed_near(word: str, data: st.DataObject) -> str:
    """The word, or the word with one to three random slips (drop, double, swap, replace)."""
    letters = list(word)
    for _ in range(data.draw(st.integers(0, 3))):
        if not letters:
            break
        at = data.draw(st.integers(0, len(letters) - 1))
        slip = data.draw(st.sampled_from(["drop", "double", "swap", "replace"]))
        if slip == "drop":
            del letters[at]
        elif slip == "double":
            letters.insert(at, letters[at])
        elif slip == "swap" and at + 1 < len(letters):
            letters[at], letters[at + 1] = letters[at + 1], letters[at]
        else:
            letters[at] = data.draw(st.sampled_from("aeiostkнетак"))
    return "".join(letters)


@settings(max_examples=400, deadline=None)
@given(data=st.data())
def test_word_index_agrees_with_comparing_word_by_word(bundle: Bundle, data: st.DataObject) -> None:
    words = data.draw(st.sampled_from(_catalogue_word_sets(bundle)))
    source = data.draw(st.sampled_from(words))
    typed = data.draw(
        st.one_of(
            st.just(source), st.builds(lambda: _typed_near(source, data)), st.text(max_size=12)
        )
    )
    typed = normalize(typed)
    for fuzzy in (True, False):
        expected = bool(typed) and any(same_word(typed, word, fuzzy) for word in words)
        assert matches_any(typed, words, fuzzy) == expected, (typed, words, fuzzy)
