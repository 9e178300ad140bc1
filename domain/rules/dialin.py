"""Default meetings call-in number from the billing country (R-DIAL)."""

from __future__ import annotations

from dataclasses import dataclass

from domain.rules.countries import REGION_OF


@dataclass(frozen=True)
class CallInNumber:
    region: str
    country_code: str
    country: str


# The region defaults of the partner guide (003, table "default call-in country code per location").
REGION_DEFAULTS: dict[str, tuple[str, str]] = {
    "AMER": ("+1", "United States"),
    "APAC": ("+65", "Singapore"),
    "ANZ": ("+61", "Australia"),
    "EMEA": ("+44", "United Kingdom"),
    "EURO": ("+49", "Germany"),
}

# Countries whose telephony domain defines a dial-in number of their own.
OWN_NUMBERS: dict[str, tuple[str, str]] = {
    "US": ("+1", "United States"),
    "CA": ("+1", "Canada"),
    "BR": ("+55", "Brazil"),
    "SG": ("+65", "Singapore"),
    "JP": ("+81", "Japan"),
    "IN": ("+91", "India"),
    "AU": ("+61", "Australia"),
    "GB": ("+44", "United Kingdom"),
    "DE": ("+49", "Germany"),
    "FR": ("+33", "France"),
}


def default_call_in_number(country: str) -> CallInNumber:
    region = REGION_OF.get(country, "EMEA")
    code, name = OWN_NUMBERS.get(country) or REGION_DEFAULTS[region]
    return CallInNumber(region=region, country_code=code, country=name)
