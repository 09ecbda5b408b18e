"""Phone numbers: what staff type is normalised to E.164 or refused with a clear reason;
what a carrier sends must already be E.164. (No database: plain functions.)"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.phones import PhoneNumberError, inbound_e164, is_e164, parse_phone


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("07911 123456", "+447911123456"),
        ("+44 7911 123456", "+447911123456"),
        ("0044 (0)7911-123456", "+447911123456"),
        ("+48 512 345 678", "+48512345678"),
        ("+1 (415) 555-2671", "+14155552671"),
    ],
)
def test_staff_numbers_are_normalised(typed: str, expected: str) -> None:
    assert parse_phone(typed) == expected


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("", "empty"),
        ("call me", "not a phone number"),
        ("123", "too short"),
        ("+44 7911 123456 789", "too long"),
        ("+999 123 456", "country code"),
        ("+44 7700 900123", "no such number"),  # Ofcom's range for drama: never a real phone
        ("1" * 60, "too long"),
    ],
)
def test_bad_numbers_are_refused_with_the_reason(typed: str, reason: str) -> None:
    with pytest.raises(PhoneNumberError) as refused:
        parse_phone(typed)
    message = str(refused.value)
    assert reason in message
    assert typed.strip() == "" or typed.strip() not in message  # never echoed back


def test_inbound_senders_must_already_be_e164() -> None:
    assert inbound_e164("+447700900123") == "+447700900123"
    assert is_e164("+14155552671")
    for sender in ("07700900123", "447700900123", "+44 7700 900123", "+4407700900123", "Bank"):
        assert inbound_e164(sender) is None, sender


@given(st.text(max_size=50))
def test_parsing_never_fails_other_than_with_a_clear_error(text: str) -> None:
    result = inbound_e164(text)
    assert result is None or result == text
    try:
        normalised = parse_phone(text)
    except PhoneNumberError as exc:
        assert str(exc).startswith("not a usable phone number")
    else:
        assert inbound_e164(normalised) == normalised
