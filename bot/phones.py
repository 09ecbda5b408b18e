"""Phone numbers: parse what people type and normalise it to E.164 ("+447911123456").

Two strictness levels, both built on `phonenumbers`:
- `parse_phone` is for numbers an administrator types. It accepts national forms for a
  default region ("07911 123456") and refuses anything that is not a valid, assigned number
  pattern, with a message that says why (never echoing the number, which may be logged).
- `inbound_e164` is for the From of a message that already reached us. The carrier put it
  there, so it only has to be a well-formed E.164 number: new ranges must not lock a
  survivor out just because the metadata has not caught up yet.
"""

from __future__ import annotations

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, ValidationResult

DEFAULT_REGION = "GB"
MAX_INPUT = 40  # longer than any formatted number; refuses pasted junk early


class PhoneNumberError(ValueError):
    """A number that cannot be used. The message is safe to show and to log."""


_PARSE_ERRORS = {
    NumberParseException.INVALID_COUNTRY_CODE: "the country code is missing or unknown "
    "(start with + and the country code, e.g. +44)",
    NumberParseException.NOT_A_NUMBER: "it is not a phone number",
    NumberParseException.TOO_SHORT_AFTER_IDD: "it is too short",
    NumberParseException.TOO_SHORT_NSN: "it is too short",
    NumberParseException.TOO_LONG: "it is too long",
}

_POSSIBILITY_ERRORS = {
    ValidationResult.INVALID_COUNTRY_CODE: "the country code is unknown",
    ValidationResult.TOO_SHORT: "it is too short",
    ValidationResult.TOO_LONG: "it is too long",
    ValidationResult.INVALID_LENGTH: "it has the wrong number of digits",
}


def _parse(text: str, region: str | None) -> phonenumbers.PhoneNumber:
    cleaned = text.strip()
    if not cleaned:
        raise PhoneNumberError("not a usable phone number: it is empty")
    if len(cleaned) > MAX_INPUT:
        raise PhoneNumberError("not a usable phone number: it is too long")
    try:
        return phonenumbers.parse(cleaned, region)
    except NumberParseException as exc:
        why = _PARSE_ERRORS.get(exc.error_type, "it could not be read")
        raise PhoneNumberError(f"not a usable phone number: {why}") from None


def _e164(number: phonenumbers.PhoneNumber) -> str:
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def parse_phone(text: str, default_region: str = DEFAULT_REGION) -> str:
    """The E.164 form of a number typed by staff; raises PhoneNumberError with the reason."""
    number = _parse(text, default_region)
    possible = phonenumbers.is_possible_number_with_reason(number)
    if possible not in (ValidationResult.IS_POSSIBLE, ValidationResult.IS_POSSIBLE_LOCAL_ONLY):
        why = _POSSIBILITY_ERRORS.get(possible, "it is not a possible number")
        raise PhoneNumberError(f"not a usable phone number: {why}")
    if not phonenumbers.is_valid_number(number):
        raise PhoneNumberError(
            "not a usable phone number: no such number exists in that country "
            "(check the digits, and add the country code for a number from abroad)"
        )
    return _e164(number)


def inbound_e164(text: str) -> str | None:
    """The sender of an inbound SMS in E.164, or None if it is not a well-formed E.164
    number (a short code, an alphanumeric sender, a national form, junk)."""
    if not text.startswith("+") or not text[1:].isdigit() or not 8 <= len(text) <= 16:
        return None
    try:
        number = phonenumbers.parse(text, None)
    except NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    normalised = _e164(number)
    return normalised if normalised == text else None


def is_e164(text: str) -> bool:
    return inbound_e164(text) is not None
