from __future__ import annotations

import pytest

from domain.rules.countries import COUNTRIES, REGION_OF
from domain.rules.dialin import default_call_in_number


@pytest.mark.parametrize(
    ("country", "region", "code", "name"),
    [
        ("US", "AMER", "+1", "United States"),
        ("MX", "AMER", "+1", "United States"),  # no own number: the region's default
        ("CA", "AMER", "+1", "Canada"),  # its own number in the telephony table
        ("KR", "APAC", "+65", "Singapore"),
        ("JP", "APAC", "+81", "Japan"),
        ("NZ", "ANZ", "+61", "Australia"),
        ("PL", "EMEA", "+44", "United Kingdom"),  # non-euro Europe
        ("AE", "EMEA", "+44", "United Kingdom"),  # Middle East
        ("ZA", "EMEA", "+44", "United Kingdom"),  # Africa
        ("IT", "EURO", "+49", "Germany"),  # euro area without its own number
        ("FR", "EURO", "+33", "France"),
    ],
)
def test_r_dial_default_call_in_number(country: str, region: str, code: str, name: str) -> None:
    number = default_call_in_number(country)
    assert (number.region, number.country_code, number.country) == (region, code, name)


def test_r_dial_every_country_belongs_to_exactly_one_region() -> None:
    assert len(COUNTRIES) >= 240
    assert set(REGION_OF.values()) == {"AMER", "APAC", "ANZ", "EMEA", "EURO"}
