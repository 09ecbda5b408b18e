"""Split, never cut: a long text becomes marked parts that each fit the channel, and nothing
but the line break or space a part ends on is lost."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from bot.store.parts import TEXT_LIMITS, split_payload, split_text, units

MARKED = re.compile(r"^\((\d+)/(\d+)\) ")


def unmarked(parts: list[str]) -> list[str]:
    return [MARKED.sub("", part, count=1) for part in parts]


def test_a_short_text_is_one_unmarked_part() -> None:
    assert split_text("hello", 4096) == ["hello"]
    assert split_text("x" * 4096, 4096) == ["x" * 4096]


def test_parts_are_marked_and_cut_on_a_line_break() -> None:
    text = "\n".join(f"line {n} " + "w" * 60 for n in range(200))  # ~13,500 characters
    parts = split_text(text, 4096)
    assert len(parts) == 4
    assert [MARKED.match(p).groups() for p in parts] == [  # type: ignore[union-attr]
        (str(n), "4") for n in range(1, 5)
    ]
    assert all(units(p) <= 4096 for p in parts)
    bodies = unmarked(parts)
    assert all(b.startswith("line ") and b.endswith("w") for b in bodies)  # whole lines
    assert "\n".join(bodies) == text


def test_without_line_breaks_words_are_kept_whole() -> None:
    words = [f"word{n}" for n in range(1000)]
    parts = split_text(" ".join(words), 1600)
    assert all(units(p) <= 1600 for p in parts)
    assert " ".join(unmarked(parts)).split() == words


def test_a_word_longer_than_a_part_is_cut_only_then() -> None:
    link = "https://example.org/" + "a" * 5000
    parts = split_text(f"see {link} please", 1600)
    assert all(units(p) <= 1600 for p in parts)
    assert "".join(unmarked(parts)).replace(" ", "") == f"see{link}please"


def test_emoji_count_twice_and_are_never_halved() -> None:
    text = "😀" * 3000  # 6,000 UTF-16 units
    parts = split_text(text, 1600)
    assert all(units(p) <= 1600 for p in parts)
    assert "".join(unmarked(parts)) == text


def test_many_parts_get_a_wider_mark_that_still_fits() -> None:
    parts = split_text("y " * 20_000, 160)
    assert len(parts) >= 100
    assert parts[-1].startswith(f"({len(parts)}/{len(parts)}) ")
    assert all(units(p) <= 160 for p in parts)


def test_only_the_last_part_carries_the_choices() -> None:
    payload = {"text": "z " * 3000, "choices": [["ack", "Ack"]], "case": "K7QX2"}
    rows = split_payload("telegram", "escalation", payload)
    assert len(rows) == 2
    assert "choices" not in rows[0] and rows[1]["choices"] == [["ack", "Ack"]]
    assert all(row["case"] == "K7QX2" for row in rows)
    assert [row["part"] for row in rows] == [[1, 2], [2, 2]]


def test_media_copies_clears_and_unlimited_channels_are_left_alone() -> None:
    long = {"text": "x" * 9000}
    assert split_payload("telegram", "copy", long) == [long]
    assert split_payload("telegram", "clear", long) == [long]
    assert split_payload("local", "message", long) == [long]
    assert len(split_payload("sms", "relay", long)) == 6


@given(st.text(min_size=1, max_size=12_000), st.sampled_from(sorted(TEXT_LIMITS.values())))
def test_every_part_fits_and_the_words_survive(text: str, limit: int) -> None:
    parts = split_text(text, limit)
    assert all(units(p) <= limit for p in parts)
    if len(parts) == 1:
        assert parts == [text]
    else:
        assert "".join("".join(unmarked(parts)).split()) == "".join(text.split())
