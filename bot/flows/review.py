"""Native-speaker review of the catalogues: who checked which string, and when.

A catalogue entry is *drafted* while it carries gettext's "#, fuzzy" flag and *reviewed* once a
native speaker has approved or corrected it. A review is recorded in the catalogue itself, as a
translator comment on the entry: ``# reviewed: NAME YYYY-MM-DD``.

Rows are identified by (msgctxt, msgid): in the conversation catalogues (locales/<lang>.po) the
msgctxt alone is the key; in the urgent phrase banks (locales/urgent/<lang>.po) several entries
share a category, so the English meaning (msgid) tells them apart.

Safety-critical strings (emergency information, STOP/HELP words, the duress reply, the safety
question, deleting data) and every phrase-bank entry are listed first and counted on their own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import escape, read_po

REVIEW_MARK = "reviewed:"
COMMENT_MARK = "review-comment:"
# Keys (msgctxt prefixes) whose text a survivor in danger relies on.
SAFETY_CRITICAL_PREFIXES = (
    "help.",
    "duress.",
    "global.",
    "match.help",
    "match.stop",
    "match.start",
    "match.person",
    "match.pause",
    "info.helpline",
    "onboarding.safety",
    "onboarding.not_safe",
    "settings.stop",
    "settings.delete",
    "emergency",
)
PLACEHOLDER = re.compile(r"\{[a-z_]+\}")


@dataclass(frozen=True)
class ReviewRow:
    """One string to review. `key` is the msgctxt; `english` the msgid."""

    key: str
    english: str
    translation: str
    reviewed: bool
    safety_critical: bool
    reviewer: str = ""
    reviewed_on: str = ""


@dataclass(frozen=True)
class Coverage:
    language: str
    total: int
    reviewed: int
    safety_total: int
    safety_reviewed: int

    @property
    def safety_unreviewed(self) -> int:
        return self.safety_total - self.safety_reviewed


def is_safety_critical(key: str, phrase_bank: bool) -> bool:
    return phrase_bank or key.startswith(SAFETY_CRITICAL_PREFIXES)


def read_catalog(path: Path) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, ignore_obsolete=True)


def entries(catalog: Catalog) -> list[Message]:
    return [m for m in catalog if m.id and isinstance(m.id, str)]


def review_rows(path: Path, phrase_bank: bool = False) -> list[ReviewRow]:
    """Every entry of one catalogue, safety-critical first (then in file order)."""
    rows = []
    for message in entries(read_catalog(path)):
        key = message.context or ""
        reviewer, reviewed_on = _review_note(message)
        text = message.string if isinstance(message.string, str) else ""
        text = text or (str(message.id) if path.stem == "en" else "")  # English: msgid is it
        rows.append(
            ReviewRow(
                key=key,
                english=str(message.id),
                translation=text,
                reviewed=not message.fuzzy,
                safety_critical=is_safety_critical(key, phrase_bank),
                reviewer=reviewer,
                reviewed_on=reviewed_on,
            )
        )
    return sorted(rows, key=lambda row: not row.safety_critical)


def coverage(path: Path, phrase_bank: bool = False) -> Coverage:
    rows = review_rows(path, phrase_bank)
    safety = [r for r in rows if r.safety_critical]
    return Coverage(
        language=path.stem,
        total=len(rows),
        reviewed=sum(r.reviewed for r in rows),
        safety_total=len(safety),
        safety_reviewed=sum(r.reviewed for r in safety),
    )


@dataclass(frozen=True)
class Decision:
    """A reviewer's verdict on one entry: approved as it is (`text` None) or corrected."""

    key: str
    english: str
    text: str | None
    comment: str = ""


def apply_reviews(path: Path, decisions: list[Decision], reviewer: str, when: date) -> int:
    """Mark the decided entries reviewed in the .po file, editing only their own lines so the
    rest of the file (its comments and layout) is untouched. Returns how many were applied."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    by_id = {(m.context or "", str(m.id)): m for m in entries(read_catalog(path))}
    # Bottom-up, so an edit never moves the lines of an entry still to come.
    found = [(by_id[(d.key, d.english)], d) for d in decisions if (d.key, d.english) in by_id]
    for message, decision in sorted(found, key=lambda pair: -(pair[0].lineno or 0)):
        _rewrite_entry(lines, (message.lineno or 1) - 1, decision, reviewer, when)
    path.write_text("".join(lines), encoding="utf-8")
    return len(found)


def _rewrite_entry(
    lines: list[str], first: int, decision: Decision, reviewer: str, when: date
) -> None:
    """`first` is the index of the entry's msgid line (Babel's lineno, less one)."""
    while first > 0 and lines[first - 1].startswith(("msgctxt", '"')):
        first -= 1  # the msgctxt belongs to the entry too
    top = first
    while top > 0 and lines[top - 1].startswith("#"):
        top -= 1
    comments = [
        line
        for line in lines[top:first]
        if not line.startswith(("# " + REVIEW_MARK, "# " + COMMENT_MARK, "#,"))
    ]
    flags = [
        f.strip()
        for line in lines[top:first]
        if line.startswith("#,")
        for f in line[2:].split(",")
        if f.strip() and f.strip() != "fuzzy"
    ]
    notes = [f"# {REVIEW_MARK} {reviewer} {when.isoformat()}\n"]
    if decision.comment:
        notes.append(f"# {COMMENT_MARK} {' '.join(decision.comment.split())}\n")
    header = comments + notes + ([f"#, {', '.join(flags)}\n"] if flags else [])
    end = first
    while not lines[end].startswith("msgstr"):
        end += 1
    stop = end + 1
    while stop < len(lines) and lines[stop].startswith('"'):
        stop += 1
    body = lines[first:end]
    msgstr = lines[end:stop] if decision.text is None else [f"msgstr {escape(decision.text)}\n"]
    lines[top:stop] = header + body + msgstr


def placeholders_differ(english: str, translation: str) -> bool:
    """True when a translation drops or invents a {placeholder} of the English."""
    return sorted(PLACEHOLDER.findall(english)) != sorted(PLACEHOLDER.findall(translation))


def _review_note(message: Message) -> tuple[str, str]:
    for comment in message.user_comments:
        if comment.startswith(REVIEW_MARK):
            parts = comment[len(REVIEW_MARK) :].split()
            if len(parts) >= 2:
                return " ".join(parts[:-1]), parts[-1]
    return "", ""
