"""Loading urgent catalogues from .po files."""

from pathlib import Path

import pytest

from bot.engine.urgent import detect
from bot.flows.phrasebank import load_phrase_bank, read_catalogue

CATALOGUE = """\
msgid ""
msgstr ""
"Language: pl\\n"
"Content-Type: text/plain; charset=UTF-8\\n"

#, fuzzy
msgctxt "violence"
msgid "He hits me"
msgstr "bij* mnie | pobił mnie"

msgctxt "danger"
msgid "Help!"
msgstr "=pomocy"

msgctxt "danger"
msgid "Not translated yet"
msgstr ""
"""


def test_variants_fuzzy_entries_and_untranslated_entries(tmp_path: Path) -> None:
    (tmp_path / "pl.po").write_text(CATALOGUE, encoding="utf-8")
    entries = read_catalogue(tmp_path / "pl.po")
    assert [(e.category, e.phrases, e.fuzzy) for e in entries] == [
        ("violence", ("bij* mnie", "pobił mnie"), True),
        ("danger", ("=pomocy",), False),
        ("danger", (), False),
    ]
    bank = load_phrase_bank(tmp_path)
    hit = detect(bank, "znowu mnie pobil", "pl")  # fuzzy (unreviewed) entries are used
    assert hit is not None and (hit.category, hit.language) == ("violence", "pl")
    assert len(bank.phrases) == 3


def test_unknown_category_fails_at_load(tmp_path: Path) -> None:
    bad = CATALOGUE.replace('msgctxt "danger"\nmsgid "Help!"', 'msgctxt "dangr"\nmsgid "Help!"')
    (tmp_path / "pl.po").write_text(bad, encoding="utf-8")
    with pytest.raises(ValueError, match="unknown category 'dangr'"):
        load_phrase_bank(tmp_path)


def test_empty_directory_gives_empty_bank(tmp_path: Path) -> None:
    bank = load_phrase_bank(tmp_path)
    assert bank.phrases == ()
    assert detect(bank, "pomocy", "pl") is None
