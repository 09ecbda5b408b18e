"""detect() never raises, whatever a survivor (or a broken phone) sends."""

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.engine.urgent import PhraseBank, detect
from bot.flows.phrasebank import load_phrase_bank

BANK = load_phrase_bank(Path(__file__).resolve().parents[2] / "locales" / "urgent")
LANGUAGE = st.sampled_from([None, "en", "pl", "ro", "sq", "vi", "uk", "ar", "fa", "xx"])
# Bank words mixed with arbitrary text make partial and overlapping matches likely.
BANK_WORDS = sorted({w.rstrip("*") for p in BANK.phrases for w in p.words})
MIXED = st.lists(st.one_of(st.sampled_from(BANK_WORDS), st.text(max_size=12)), max_size=40)


@given(text=st.text(max_size=2000), language=LANGUAGE)
@settings(max_examples=300, deadline=None)
def test_arbitrary_text_never_raises(text: str, language: str | None) -> None:
    hit = detect(BANK, text, language)
    assert hit is None or hit.language in BANK.languages


@given(words=MIXED, language=LANGUAGE)
@settings(max_examples=300, deadline=None)
def test_bank_words_in_any_order_never_raise(words: list[str], language: str | None) -> None:
    hit = detect(BANK, " ".join(words), language)
    assert hit is None or hit.phrase in {p.text for p in BANK.phrases}


def test_long_and_control_character_messages() -> None:
    for text in ("a" * 10_000, "\x00\x01\x1b[31m" * 500, "🆘" * 3000, "he is here " * 1000):
        detect(BANK, text, "en")
    assert detect(BANK, "x " * 50_000 + "he is here", "en") is not None
    assert detect(PhraseBank.empty(), "\u202e\u200d" * 100, None) is None
