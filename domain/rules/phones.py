"""Phone numbers that exist (R-SUB-1, amended 2026-12), checked with libphonenumber's numbering-plan data.

A subscriber's (or workspace's) `primaryPhoneNumber` must be written in E.164 (`+` and digits, nothing else),
be a valid number of a real numbering plan (`+999…` has no country code; `+1 555 0001234` no such area code),
and belong to the country of its location (a +49 number on a US location is refused; +1 numbers are told
apart by area code, so a Toronto number is not a US number).
"""

from __future__ import annotations

import re

import phonenumbers

_E164_SHAPE = re.compile(r"^\+[1-9]\d{6,14}$", re.ASCII)


def _parsed(number: str) -> phonenumbers.PhoneNumber | None:
    if not _E164_SHAPE.match(number):
        return None
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    # The digits as written must be the number's E.164 form (no national prefix kept after the country code).
    if phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164) != number:
        return None
    return parsed


def is_valid_number(number: str) -> bool:
    """E.164, and a number some country's numbering plan has."""
    return _parsed(number) is not None


def is_number_of(number: str, country: str) -> bool:
    """A valid E.164 number of `country` (ISO 3166 alpha-2)."""
    parsed = _parsed(number)
    return parsed is not None and phonenumbers.is_valid_number_for_region(parsed, country.strip().upper())


def example_numbers(country: str, count: int) -> list[str]:
    """Up to `count` distinct valid numbers of `country` (for demo data): its example number, last digits varied."""
    example = phonenumbers.example_number_for_type(country, phonenumbers.PhoneNumberType.FIXED_LINE)
    if example is None:
        return []
    base = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
    found: list[str] = []
    for n in range(10 * count + 10):
        candidate = f"{base[:-3]}{n:03d}"
        if candidate not in found and is_number_of(candidate, country):
            found.append(candidate)
            if len(found) == count:
                break
    return found
