"""`harbour translations export|import|status`: native-speaker review of the catalogues.

    harbour translations export LANG [--urgent] [--out FILE]   a review sheet (.xlsx)
    harbour translations import FILE --reviewer NAME           reviewed rows back into the .po
    harbour translations status                                review coverage per language

Exit codes: 0 done; 1 some rows were not taken (each named on stderr; the others were);
2 usage (an unknown language, a file that exists already or is not a review sheet).
"""

from __future__ import annotations

import argparse
import logging
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.cli.common import EXIT_USAGE, OneLineParser
from bot.engine.languages import SUPPORTED_LANGUAGES
from bot.flows.review import apply_reviews, coverage, review_rows
from bot.flows.review_sheet import SheetError, read_sheet, write_sheet
from bot.settings import ConfigError

log = logging.getLogger(__name__)

NAMES = ("translations",)
CATALOGUES = {"conversation": "", "urgent": "urgent"}  # catalogue -> folder under locales/


def add_parsers(commands: Any) -> None:
    group = commands.add_parser("translations", help="native-speaker review of the texts")
    sub = group.add_subparsers(
        dest="translations_command", required=True, parser_class=OneLineParser
    )
    export = sub.add_parser("export", help="write a review sheet (.xlsx) for one language")
    export.add_argument("language", help=" ".join(SUPPORTED_LANGUAGES))
    export.add_argument("--urgent", action="store_true", help="the urgent phrase bank instead")
    export.add_argument("--out", metavar="FILE", help="default: harbour-review-LANG.xlsx")
    imported = sub.add_parser("import", help="take reviewed rows back into the catalogue")
    imported.add_argument("file")
    imported.add_argument("--reviewer", required=True, metavar="NAME", help="who reviewed it")
    sub.add_parser("status", help="review coverage per language")


def catalogue_path(locales: Path, language: str, catalogue: str) -> Path:
    return locales / CATALOGUES[catalogue] / f"{language}.po"


def run_translations(args: argparse.Namespace, locales: Path) -> int:
    if args.translations_command == "status":
        print_coverage(locales, sys.stdout)
        return 0
    if args.translations_command == "export":
        return _export(args, locales)
    return _import(args, locales)


def _fail(message: str) -> int:
    print(f"harbour: {message}", file=sys.stderr)
    return EXIT_USAGE


def _export(args: argparse.Namespace, locales: Path) -> int:
    language = args.language
    if language not in SUPPORTED_LANGUAGES:
        return _fail(f"unknown language {language!r}; one of: {' '.join(SUPPORTED_LANGUAGES)}")
    catalogue = "urgent" if args.urgent else "conversation"
    suffix = "-urgent" if args.urgent else ""
    out = Path(args.out or f"harbour-review-{language}{suffix}.xlsx")
    if out.exists():
        return _fail(f"{out} exists already; choose another --out")
    path = catalogue_path(locales, language, catalogue)
    rows = review_rows(path, phrase_bank=args.urgent)
    write_sheet(rows, language, catalogue, out)
    safety = sum(r.safety_critical for r in rows)
    print(f"wrote {out}: {len(rows)} strings, {safety} safety-critical listed first")
    return 0


def _import(args: argparse.Namespace, locales: Path) -> int:
    reviewer = " ".join(args.reviewer.split())
    if not reviewer:
        return _fail("--reviewer needs a name")
    source = Path(args.file)
    if not source.is_file():
        return _fail(f"no such file: {source}")
    try:
        reading = read_sheet(source, {})
        if reading.language not in SUPPORTED_LANGUAGES or reading.catalogue not in CATALOGUES:
            raise SheetError(f"{source.name} names an unknown catalogue")
        path = catalogue_path(locales, reading.language, reading.catalogue)
        current = {
            (r.key, r.english): r.translation
            for r in review_rows(path, phrase_bank=reading.catalogue == "urgent")
        }
        reading = read_sheet(source, current)
    except SheetError as exc:
        return _fail(str(exc))
    applied = apply_reviews(path, reading.decisions, reviewer, datetime.now(UTC).date())
    corrected = sum(d.text is not None for d in reading.decisions)
    for problem in reading.problems:
        print(f"harbour: {source.name}: {problem}", file=sys.stderr)
    print(
        f"{path.relative_to(locales.parent)}: {applied} reviewed by {reviewer} "
        f"({corrected} corrected, {applied - corrected} approved), "
        f"{reading.untouched} left as they were, {len(reading.problems)} not taken"
    )
    return 1 if reading.problems else 0


def unreviewed_safety(locales: Path) -> dict[str, int]:
    """Languages with safety-critical strings still unreviewed, and how many (both catalogues)."""
    missing: dict[str, int] = {}
    for catalogue in CATALOGUES:
        for language in SUPPORTED_LANGUAGES:
            path = catalogue_path(locales, language, catalogue)
            if path.exists():
                count = coverage(path, phrase_bank=catalogue == "urgent").safety_unreviewed
                if count:
                    missing[language] = missing.get(language, 0) + count
    return missing


def check_review_policy(setting: str, locales: Path) -> None:
    """Warn, or refuse to start (ConfigError), while safety-critical text is unreviewed."""
    missing = unreviewed_safety(locales)
    if not missing:
        return
    listed = ", ".join(f"{language} ({count})" for language, count in sorted(missing.items()))
    if setting == "refuse":
        raise ConfigError(
            f"unreviewed_safety_text=refuse and safety-critical strings are not reviewed in: "
            f"{listed}; see 'harbour translations status'"
        )
    log.warning("safety-critical strings not yet reviewed by a native speaker: %s", listed)


def print_coverage(locales: Path, out: Any) -> None:
    """Review coverage per language: all strings, then safety-critical ones on their own."""
    out.write(f"{'review':<14}{'reviewed':>10}{'safety-critical reviewed':>27}\n")
    for catalogue in CATALOGUES:
        for language in SUPPORTED_LANGUAGES:
            path = catalogue_path(locales, language, catalogue)
            if not path.exists():
                continue
            c = coverage(path, phrase_bank=catalogue == "urgent")
            name = f"{language}{' urgent' if catalogue == 'urgent' else ''}"
            out.write(
                f"{name:<14}{c.reviewed:>5}/{c.total:<4}{c.safety_reviewed:>18}/{c.safety_total}\n"
            )
