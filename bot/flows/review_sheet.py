"""Review sheets: a catalogue as a spreadsheet a native speaker can work in, and back.

Columns of the "Review" sheet (row 1 is the header; one row per string):

    A key | B safety | C English | D translation | E status | F approve | G comment |
    H last review | I as exported (hidden)

The reviewer corrects column D, or types "yes" in column F to approve it as it stands, and may
leave a note in G. Only those rows become reviewed on import. Column I keeps the text as it
was exported, so a sheet that went stale while the catalogue changed is caught, row by row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils.exceptions import InvalidFileException

from bot.flows.review import Decision, ReviewRow, placeholders_differ

HEADER = (
    "key", "safety", "English", "translation", "status", "approve", "comment",
    "last review", "as exported",
)  # fmt: skip
SUBJECT_PREFIX = "harbour-review"
HOW_TO = (
    "How to review",
    "",
    "1. Read the English (column C) and the translation (column D).",
    "2. If the translation is right, type yes in column F (approve).",
    "3. If it is wrong, correct it in column D. Keep every {placeholder} exactly as it is.",
    "4. Words the bot listens for (keys starting match.) are separated by |.",
    "5. Rows marked SAFETY are read by people in danger: check them first and most carefully.",
    "6. Leave a note for the team in column G if anything is unclear.",
    "Rows you neither correct nor approve stay as drafts.",
)
SAFETY_FILL = PatternFill("solid", fgColor="FDE2E1")


class SheetError(Exception):
    """The file is not a review sheet Harbour wrote (one line, for the command line)."""


@dataclass
class SheetReading:
    language: str
    catalogue: str  # "conversation" or "urgent"
    decisions: list[Decision] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # one line each, naming the row
    untouched: int = 0


def write_sheet(rows: list[ReviewRow], language: str, catalogue: str, out: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Review"
    sheet.append(HEADER)
    for row in rows:
        review = f"{row.reviewer} {row.reviewed_on}".strip()
        sheet.append([
            row.key, "SAFETY" if row.safety_critical else "", row.english, row.translation,
            "reviewed" if row.reviewed else "drafted", "", "", review, row.translation,
        ])  # fmt: skip
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"  # text such as "=pomocy" is never a formula
        if row.safety_critical:
            for cell in sheet[sheet.max_row][:2]:
                cell.fill = SAFETY_FILL
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for column, width in zip("ABCDEFGHI", (28, 9, 50, 50, 10, 9, 30, 24, 10), strict=True):
        sheet.column_dimensions[column].width = width
    for row_cells in sheet.iter_rows(min_row=2, min_col=3, max_col=4):
        for cell in row_cells:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.column_dimensions["I"].hidden = True
    sheet.freeze_panes = "C2"
    guide = book.create_sheet("How to review")
    for line in HOW_TO:
        guide.append([line])
    book.properties.subject = f"{SUBJECT_PREFIX}:{language}:{catalogue}"
    book.save(out)


def read_sheet(path: Path, english_of: dict[tuple[str, str], str]) -> SheetReading:
    """The reviewer's decisions. `english_of` maps (key, English) to the catalogue's current
    text, to catch rows the catalogue no longer has or that changed since the export."""
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, OSError, KeyError, ValueError) as exc:
        raise SheetError(
            f"{path.name} is not a readable .xlsx file ({type(exc).__name__})"
        ) from None
    subject = (book.properties.subject or "").split(":")
    if len(subject) != 3 or subject[0] != SUBJECT_PREFIX or "Review" not in book.sheetnames:
        raise SheetError(f"{path.name} is not a review sheet made by 'harbour translations export'")
    reading = SheetReading(language=subject[1], catalogue=subject[2])
    rows = book["Review"].iter_rows(values_only=True)
    if tuple(next(rows, ()))[: len(HEADER)] != HEADER:
        raise SheetError(f"{path.name}: the header row was changed; export a fresh sheet")
    for number, values in enumerate(rows, start=2):
        cells = [("" if v is None else str(v)) for v in (*values, *[None] * len(HEADER))]
        _read_row(reading, number, cells, english_of)
    book.close()
    return reading


def _read_row(
    reading: SheetReading, number: int, cells: list[str], english_of: dict[tuple[str, str], str]
) -> None:
    key, english, text, approve, comment, exported = (cells[i] for i in (0, 2, 3, 5, 6, 8))
    if not key and not english:
        return
    current = english_of.get((key, english))
    changed = text.strip() != exported.strip()
    if current is None:
        reading.problems.append(f"row {number} ({key}): no such string in the catalogue")
    elif not (changed or approve.strip()):
        reading.untouched += 1
    elif current != exported:
        reading.problems.append(f"row {number} ({key}): changed in the catalogue since export")
    elif changed and not text.strip():
        reading.problems.append(f"row {number} ({key}): the translation is empty")
    elif changed and reading.catalogue == "conversation" and placeholders_differ(english, text):
        reading.problems.append(f"row {number} ({key}): keep the {{placeholders}} of the English")
    else:
        reading.decisions.append(
            Decision(key, english, text.strip() if changed else None, comment.strip())
        )
