"""The review round trip: export a sheet, a reviewer corrects and approves rows, import it back.

Every key survives, only the rows the reviewer touched become reviewed, and the reviewer's name
and the date are written into the catalogue. Runs on a copy of locales/.
"""

from __future__ import annotations

import difflib
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.cli.main import main
from bot.flows.review import review_rows

LOCALES = Path(__file__).resolve().parents[2] / "locales"
TODAY = datetime.now(UTC).date().isoformat()


@pytest.fixture
def locales(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    copy = tmp_path / "locales"
    shutil.copytree(LOCALES, copy)
    monkeypatch.setattr("bot.bootstrap.LOCALES_DIR", copy)
    return copy


def edit(sheet_path: Path, changes: dict[str, tuple[int, str]]) -> None:
    """Set column (D=4 translation, F=6 approve, G=7 comment) of the row with each key."""
    book = load_workbook(sheet_path)
    sheet = book["Review"]
    for row in sheet.iter_rows(min_row=2):
        key = row[0].value
        if key in changes:
            column, value = changes[key]
            row[column - 1].value = value
    book.save(sheet_path)


def test_round_trip_marks_only_reviewed_rows(locales: Path, tmp_path: Path) -> None:
    before = {(r.key, r.english): r for r in review_rows(locales / "pl.po")}
    sheet = tmp_path / "pl.xlsx"
    assert main(["translations", "export", "pl", "--out", str(sheet)]) == 0
    rows = list(load_workbook(sheet)["Review"].iter_rows(min_row=2, values_only=True))
    assert len(rows) == len(before)
    first_normal = next(i for i, r in enumerate(rows) if r[1] != "SAFETY")
    assert all(r[1] == "SAFETY" for r in rows[:first_normal])  # safety-critical first
    assert not any(r[1] == "SAFETY" for r in rows[first_normal:])
    edit(sheet, {"help.now": (6, "yes"), "menu.info": (4, "Informacje i porady")})
    edit(sheet, {"menu.info": (7, "shorter  is better")})

    assert main(["translations", "import", str(sheet), "--reviewer", "Anna K"]) == 0

    after = {(r.key, r.english): r for r in review_rows(locales / "pl.po")}
    assert after.keys() == before.keys()
    reviewed = {key for key, row in after.items() if row.reviewed}
    assert {key[0] for key in reviewed} == {"help.now", "menu.info"}
    info = next(row for key, row in after.items() if key[0] == "menu.info")
    assert info.translation == "Informacje i porady"
    assert (info.reviewer, info.reviewed_on) == ("Anna K", TODAY)
    text = (locales / "pl.po").read_text(encoding="utf-8")
    assert "# review-comment: shorter is better" in text
    untouched = [k for k in before if k[0] not in ("help.now", "menu.info")]
    assert all(after[k].translation == before[k].translation for k in untouched)


def test_only_the_touched_entries_change_in_the_file(locales: Path, tmp_path: Path) -> None:
    original = (locales / "ro.po").read_text(encoding="utf-8").splitlines()
    sheet = tmp_path / "ro.xlsx"
    main(["translations", "export", "ro", "--out", str(sheet)])
    edit(sheet, {"menu.main": (6, "yes")})
    main(["translations", "import", str(sheet), "--reviewer", "Ion"])
    changed = (locales / "ro.po").read_text(encoding="utf-8").splitlines()
    diff = [d for d in difflib.ndiff(original, changed) if d[0] in "+-"]
    assert diff == ["- #, fuzzy", f"+ # reviewed: Ion {TODAY}"]


def test_phrase_bank_round_trip(locales: Path, tmp_path: Path) -> None:
    sheet = tmp_path / "bank.xlsx"
    assert main(["translations", "export", "ar", "--urgent", "--out", str(sheet)]) == 0
    book = load_workbook(sheet)
    first = next(book["Review"].iter_rows(min_row=2, max_row=2))
    assert first[1].value == "SAFETY"  # every phrase-bank entry is safety-critical
    first[5].value = "yes"
    book.save(sheet)
    assert main(["translations", "import", str(sheet), "--reviewer", "Layla"]) == 0
    rows = review_rows(locales / "urgent" / "ar.po", phrase_bank=True)
    assert sum(r.reviewed for r in rows) == 1


def test_bad_rows_are_named_and_the_rest_taken(
    locales: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sheet = tmp_path / "uk.xlsx"
    main(["translations", "export", "uk", "--out", str(sheet)])
    edit(sheet, {"handover.intro": (4, "Привіт"), "menu.main": (6, "yes")})  # {name} dropped
    assert main(["translations", "import", str(sheet), "--reviewer", "Olena"]) == 1
    err = capsys.readouterr().err
    assert "handover.intro" in err and "placeholders" in err
    rows = {r.key: r for r in review_rows(locales / "uk.po")}
    assert rows["menu.main"].reviewed and not rows["handover.intro"].reviewed


def test_stale_sheet_rows_are_refused(locales: Path, tmp_path: Path) -> None:
    sheet = tmp_path / "sq.xlsx"
    main(["translations", "export", "sq", "--out", str(sheet)])
    po = locales / "sq.po"
    text = po.read_text(encoding="utf-8")
    marker = 'msgctxt "menu.main"\n'
    start = text.index(marker)
    msgstr = text.index("msgstr ", start)
    po.write_text(
        text[:msgstr] + 'msgstr "changed by a developer"\n' + text[text.index("\n", msgstr) + 1 :],
        encoding="utf-8",
    )
    edit(sheet, {"menu.main": (6, "yes")})
    assert main(["translations", "import", str(sheet), "--reviewer", "Arta"]) == 1
    assert not {r.key: r for r in review_rows(po)}["menu.main"].reviewed


@pytest.mark.parametrize(
    "argv",
    [
        ["translations", "export", "xx"],
        ["translations", "import", "/nonexistent.xlsx", "--reviewer", "A"],
        ["translations", "import", __file__, "--reviewer", "A"],
    ],
)
def test_usage_errors_are_one_line(
    argv: list[str], locales: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_export_never_overwrites(locales: Path, tmp_path: Path) -> None:
    existing = tmp_path / "x.xlsx"
    existing.write_text("keep me")
    assert main(["translations", "export", "pl", "--out", str(existing)]) == 2
    assert existing.read_text() == "keep me"


def test_refuse_setting_names_unreviewed_languages(locales: Path) -> None:
    from bot.cli.translations import check_review_policy
    from bot.settings import ConfigError

    check_review_policy("warn", locales)  # the default only warns
    with pytest.raises(ConfigError, match=r"pl \(\d+\)"):
        check_review_policy("refuse", locales)
