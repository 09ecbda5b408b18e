"""The urgent-phrase matcher on a small hand-made bank (the real banks: test_urgent_eval)."""

import pytest

from bot.engine.urgent import PhraseBank, UrgentHit, compile_phrase, detect, within_one_edit

BANK = PhraseBank.from_entries(
    [
        ("en", "exploiter_present", "he is here"),
        ("en", "danger", "=help me"),
        ("en", "documents", "took my passport"),
        ("pl", "violence", "bij* mnie"),
        ("pl", "danger", "=pomocy"),
        ("uk", "exploiter_present", "він тут"),
        ("uk", "danger", "допоможіть"),
        ("sq", "exploiter_present", "ai është këtu"),
        ("fa", "danger", "در خطر"),
        ("ar", "danger", "=النجدة"),
    ]
)


def test_hit_names_category_language_and_bank_phrase_only() -> None:
    assert detect(BANK, "omg HE IS HERE!!", "en") == UrgentHit(
        "exploiter_present", "en", "he is here"
    )


def test_phrase_words_may_be_separated_by_a_few_words() -> None:
    assert detect(BANK, "he took my old passport", "en") is not None
    assert detect(BANK, "took my bag and my bike and my hat and passport", "en") is None


def test_english_word_order_matters() -> None:
    assert detect(BANK, "is he here yet?", "en") is None


def test_stems_match_inflections_in_any_order() -> None:
    for text in ("on mnie bije", "Bije mnie codziennie", "mnie bijesz", "bijecie mnie"):
        assert detect(BANK, text, "pl") is not None, text


def test_whole_message_phrases_only_match_short_messages() -> None:
    assert detect(BANK, "Pomocy!!!", "pl") is not None
    assert detect(BANK, "pomocy prosze", "pl") is not None
    assert detect(BANK, "potrzebuję pomocy z formularzem", "pl") is None
    assert detect(BANK, "help me!", "en") is not None
    assert detect(BANK, "can you help me fill in the housing form?", "en") is None


def test_diacritics_may_be_missing() -> None:
    assert detect(BANK, "ai eshte ketu", "sq") is not None
    assert detect(BANK, "AI ËSHTË KËTU", "sq") is not None


def test_one_typo_in_longer_words() -> None:
    assert detect(BANK, "he tokk my pasport", "en") is None  # "took" is too short for typos
    assert detect(BANK, "he took my pasport", "en") is not None
    assert detect(BANK, "he took my psasport", "en") is not None
    assert detect(BANK, "he took my passprt", "en") is not None


def test_ukrainian_in_cyrillic_or_latin_letters() -> None:
    for text in ("Він тут", "vin tut", "VIN TUT!", "dopomozhit", "допоможіть будь ласка"):
        hit = detect(BANK, text, "uk")
        assert hit is not None and hit.language == "uk", text


def test_persian_with_arabic_letter_forms_and_harakat() -> None:
    assert detect(BANK, "من در خطر هستم", "fa") is not None
    assert detect(BANK, "النَّجْدَة", "ar") is not None


def test_other_languages_are_checked_too_and_own_language_wins() -> None:
    hit = detect(BANK, "vin tut", None)
    assert hit is not None and hit.language == "uk"
    hit = detect(BANK, "he is here, vin tut", "uk")
    assert hit is not None and hit.language == "uk"


def test_everyday_and_empty_messages_do_not_match() -> None:
    for text in ("", "   ", "🙂", "is he coming to the appointment?", "dziękuję za pomoc"):
        assert detect(BANK, text, "en") is None, text
    assert detect(PhraseBank.empty(), "he is here", "en") is None


def test_a_word_in_the_message_is_used_once() -> None:
    bank = PhraseBank.from_entries([("pl", "violence", "bij* bij*")])
    assert detect(bank, "bije", "pl") is None
    assert detect(bank, "bije bije", "pl") is not None


def test_unknown_category_is_refused_when_loading() -> None:
    with pytest.raises(ValueError, match="unknown urgent category"):
        compile_phrase("en", "weather", "it is raining")


@pytest.mark.parametrize(
    ("a", "b", "close"),
    [
        ("passport", "pasport", True),
        ("passport", "passpotr", True),
        ("passport", "passpory", True),
        ("passport", "passsport", True),
        ("passport", "pasprt", False),
        ("police", "polite", True),
        ("abc", "cab", False),
    ],
)
def test_within_one_edit(a: str, b: str, close: bool) -> None:
    assert within_one_edit(a, b) is close
    assert within_one_edit(b, a) is close
