"""`harbour flows check`: report every problem in flows/ and locales/ with its file and line,
then a summary table per language. Exit code 0 when clean, 1 otherwise."""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

from bot.cli.translations import print_coverage
from bot.engine.validation import summarise
from bot.flows.files import problems_in


def run_check(flows_dir: Path, locales_dir: Path, out: TextIO) -> int:
    bundle, problems = problems_in(flows_dir, locales_dir)
    for problem in problems:
        out.write(f"{problem}\n")
    nodes = sum(len(f.nodes) for f in bundle.flows.values())
    out.write(f"\n{len(bundle.flows)} flows, {nodes} nodes\n")
    out.write(f"{'language':<9}{'keys':>6}{'reviewed':>10}{'drafted':>9}  longest SMS menu\n")
    for row in summarise(bundle):
        longest = f"{row.longest_sms} segments ({row.longest_key})" if row.longest_key else "-"
        out.write(f"{row.language:<9}{row.keys:>6}{row.reviewed:>10}{row.drafted:>9}  {longest}\n")
    out.write("\n")
    print_coverage(locales_dir, out)
    if problems:
        out.write(f"\nflows check: {len(problems)} problem(s)\n")
        return 1
    out.write("\nflows check: ok\n")
    return 0
