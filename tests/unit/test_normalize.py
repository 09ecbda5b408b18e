"""normalize() makes the spellings people really type agree with the catalogue forms."""

import pytest

from bot.engine.normalize import cyrillic_key, normalize


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("POMOCY!!!", "pomocy"),  # case and punctuation
        ("Pomóż mi, proszę", "pomoz mi prosze"),  # Polish diacritics
        ("Złamał mi rękę", "zlamal mi reke"),  # ł has no Unicode decomposition
        ("Ajutor, m-a bătut", "ajutor m a batut"),  # Romanian ă
        ("Ajutor, m-a bãtut ş ș ţ ț", "ajutor m a batut s s t t"),  # cedilla and comma forms
        ("Më ndihmoni, ai është këtu", "me ndihmoni ai eshte ketu"),  # Albanian ë
        ("Cứu tôi với, đau quá", "cuu toi voi dau qua"),  # Vietnamese tones and đ
        ("Він ТУТ", "він тут"),  # Cyrillic case
        ("don't  can’t", "dont cant"),  # in-word apostrophes
        ("heeeelp meee", "help me"),  # stretched letters
        ("need   help", "need help"),  # doubled letters are kept
    ],
)
def test_latin_and_cyrillic_forms(typed: str, expected: str) -> None:
    assert normalize(typed) == expected


def test_arabic_letter_variants_and_harakat() -> None:
    # Hamza-alef forms, alef maksura, teh marbuta and harakat fold to one spelling.
    assert normalize("أَنَا فِي خَطَرٍ") == normalize("انا في خطر")
    assert normalize("مستشفى") == normalize("مستشفي")
    assert normalize("الشرطة") == normalize("الشرطه")


def test_persian_letter_variants_and_half_space() -> None:
    # Persian yeh/keheh versus Arabic yeh/kaf, and the zero-width non-joiner.
    assert normalize("کمک") == normalize("كمك")
    assert normalize("یک") == normalize("يک")
    assert normalize("می\u200cخواهم") == normalize("میخواهم")


def test_arabic_indic_and_persian_digits() -> None:
    assert normalize("٩٩٩") == "999"
    assert normalize("۱۲۳") == "123"


def test_zero_width_and_bidi_marks_are_dropped() -> None:
    assert normalize("he\u200blp\u200e") == "help"


def test_ukrainian_cyrillic_and_latin_typing_share_a_key() -> None:
    for typed in ("допоможіть", "dopomozhit", "dopomozhyt", "Dopomozhit'"):
        assert cyrillic_key(normalize(typed)) == cyrillic_key(normalize("допоможіть"))
    assert cyrillic_key(normalize("він тут")) == cyrillic_key(normalize("vin tut"))
    assert cyrillic_key(normalize("Щось")) == cyrillic_key(normalize("shchos"))


def test_normalize_never_raises_on_odd_input() -> None:
    assert normalize("") == ""
    assert normalize("\x00\x07🆘🙏") == ""
