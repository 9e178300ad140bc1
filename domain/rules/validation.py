"""Collecting every problem of a request before refusing it (so callers fix them all at once)."""

from __future__ import annotations

import re
import unicodedata
import zoneinfo
from functools import cache

from domain.model.entities import Address
from domain.model.errors import DomainError, ErrorCode, FieldError
from domain.rules.countries import is_country

# The longest customer name accepted; a name filter longer than this cannot match anything.
CUSTOMER_NAME_MAX_LENGTH = 255

_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")


def is_blank(value: str) -> bool:
    """Nothing visible: whitespace, or invisible format characters (zero-width spaces, direction marks)."""
    return all(c.isspace() or unicodedata.category(c) == "Cf" for c in value)


def has_control_characters(value: str, *, multiline: bool = False) -> bool:
    """NUL, escapes, bells…: never part of a name or an address, and poison for logs and CSV exports."""
    allowed = "\t\n\r" if multiline else ""
    return any(unicodedata.category(c) == "Cc" and c not in allowed for c in value)


class Problems:
    def __init__(self) -> None:
        self.items: list[FieldError] = []

    def add(self, code: ErrorCode, message: str, *field: str) -> None:
        self.items.append(FieldError(code, message, tuple(field) or None))

    def text(self, value: str | None, max_length: int, *field: str, required: bool = True,
             multiline: bool = False) -> None:
        """A required (non-blank) or optional string of bounded length, without control characters."""
        name = field[-1]
        if value is None or is_blank(value):
            if required:
                self.add(ErrorCode.REQUIRED, f"`{name}` is required", *field)
        elif len(value) > max_length:
            self.add(ErrorCode.TOO_LONG, f"`{name}` is longer than {max_length} characters", *field)
        elif has_control_characters(value, multiline=multiline):
            self.add(ErrorCode.VALIDATION_FAILED, f"`{name}` contains control characters", *field)

    def email(self, value: str, *field: str) -> None:
        if not value.strip():
            self.add(ErrorCode.REQUIRED, f"`{field[-1]}` is required", *field)
        elif len(value) > 254 or not _EMAIL.match(value.strip()):
            self.add(ErrorCode.INVALID_EMAIL, f"`{field[-1]}` is not a valid email address", *field)

    def country(self, value: str, *field: str) -> None:
        if not is_country(value):
            self.add(ErrorCode.INVALID_COUNTRY, f"`{field[-1]}` must be an ISO-3166 alpha-2 code", *field)

    def address(self, address: Address, *prefix: str) -> None:
        """A postal address: line 1 and 2 at most 50 characters (Webex's limit), a city, an ISO country."""
        self.text(address.address_line1, 50, *prefix, "addressLine1")
        self.text(address.address_line2, 50, *prefix, "addressLine2", required=False)
        self.text(address.city, 100, *prefix, "city")
        self.text(address.state_or_province, 100, *prefix, "stateOrProvince", required=False)
        self.text(address.zip_or_postal_code, 20, *prefix, "zipOrPostalCode", required=False)
        self.country(address.country.strip().upper(), *prefix, "country")

    def timezone(self, value: str | None, *field: str) -> None:
        if value is None or not value.strip():
            self.add(ErrorCode.REQUIRED, f"`{field[-1]}` is required", *field)
        elif value.strip() not in iana_timezones():
            self.add(ErrorCode.INVALID_TIMEZONE, f"`{field[-1]}` must be an IANA time zone such as Europe/Berlin",
                     *field)

    def extend(self, problems: list[FieldError]) -> None:
        self.items.extend(problems)

    def raise_if_any(self) -> None:
        if self.items:
            raise DomainError(list(self.items))


@cache
def iana_timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())
