"""Urgent-message detection: recall, false-alarm rate and time per message, per language.

Run: .venv/bin/python bench/urgent_eval.py [--show-errors]
Reads the phrase banks from locales/urgent/ and the labelled sets from tests/data/urgent/.
--show-errors prints which labelled lines were missed or raised a false alarm; it is meant
for developers working on the synthetic evaluation sets, never for real messages.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.engine.urgent import PhraseBank, detect  # noqa: E402
from bot.flows.phrasebank import load_phrase_bank  # noqa: E402

EVAL_DIR = ROOT / "tests" / "data" / "urgent"
BANK_DIR = ROOT / "locales" / "urgent"


@dataclass
class Scores:
    urgent: int = 0
    caught: int = 0
    everyday: int = 0
    false_alarms: int = 0

    @property
    def recall(self) -> float:
        return self.caught / self.urgent if self.urgent else 0.0

    @property
    def false_alarm_rate(self) -> float:
        return self.false_alarms / self.everyday if self.everyday else 0.0


def read_eval_set(path: Path) -> list[tuple[bool, str]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        label, text = line.split("\t", 1)
        rows.append((label == "urgent", text))
    return rows


def evaluate(bank: PhraseBank, show_errors: bool = False) -> tuple[dict[str, Scores], list[float]]:
    scores: dict[str, Scores] = {}
    timings: list[float] = []
    for path in sorted(EVAL_DIR.glob("*.tsv")):
        language = path.stem
        score = scores.setdefault(language, Scores())
        for is_urgent, text in read_eval_set(path):
            started = time.perf_counter()
            hit = detect(bank, text, language)
            timings.append((time.perf_counter() - started) * 1e6)
            if is_urgent:
                score.urgent += 1
                score.caught += hit is not None
                if show_errors and hit is None:
                    print(f"  MISS  {language}: {text}")
            else:
                score.everyday += 1
                score.false_alarms += hit is not None
                if show_errors and hit is not None:
                    print(f"  FALSE {language}: {text}  <- {hit.language}/{hit.phrase}")
    return scores, timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--show-errors", action="store_true")
    args = parser.parse_args()
    started = time.perf_counter()
    bank = load_phrase_bank(BANK_DIR)
    load_ms = (time.perf_counter() - started) * 1e3
    scores, timings = evaluate(bank, args.show_errors)
    # Time again on a warm process, several rounds, for stable percentiles.
    for _ in range(4):
        timings += evaluate(bank)[1]
    total = Scores()
    print(f"{'lang':<6}{'urgent':>7}{'recall':>8}{'everyday':>10}{'false alarms':>14}")
    for language, s in scores.items():
        print(
            f"{language:<6}{s.urgent:>7}{s.recall:>8.1%}{s.everyday:>10}{s.false_alarm_rate:>14.1%}"
        )
        total.urgent += s.urgent
        total.caught += s.caught
        total.everyday += s.everyday
        total.false_alarms += s.false_alarms
    print(
        f"{'all':<6}{total.urgent:>7}{total.recall:>8.1%}{total.everyday:>10}"
        f"{total.false_alarm_rate:>14.1%}"
    )
    quantiles = statistics.quantiles(timings, n=100)
    print(f"phrases loaded: {len(bank.phrases)} in {load_ms:.0f} ms")
    print(
        f"detect() per message: p50 {quantiles[49]:.0f} us, p99 {quantiles[98]:.0f} us, "
        f"max {max(timings):.0f} us over {len(timings)} calls"
    )


if __name__ == "__main__":
    main()
