"""R-SUB-1 (amended 2026-12): phone numbers of a real numbering plan, in the country of their location."""

from __future__ import annotations

import pytest

from domain.rules.phones import example_numbers, is_number_of, is_valid_number


@pytest.mark.parametrize("number", ["+13125550101", "+14155550123", "+4930901820", "+442071838750", "+33142685300",
                                    "+81312345678"])
def test_r_sub_1_valid_e164_numbers_of_real_plans(number: str) -> None:
    assert is_valid_number(number)


@pytest.mark.parametrize("number", [
    "+999123456789",  # no such country code
    "+15550001234",  # no such North American area code
    "+0123456789",
    "13125550101",  # no plus
    "+1 312 555 0101",  # not E.164: spaces
    "+1-312-555-0101",
    "+1312555010",  # a digit short
    "+493090182000000000",  # too long
    "+4903090182",  # a national trunk prefix after the country code
    "+\uff11\uff13\uff11\uff12\uff15\uff15\uff15\uff10\uff11\uff10\uff11",  # fullwidth digits
    "",
])
def test_r_sub_1_numbers_that_do_not_exist_are_invalid(number: str) -> None:
    assert not is_valid_number(number)


@pytest.mark.parametrize(("number", "country", "belongs"), [
    ("+13125550101", "US", True),
    ("+13125550101", "us", True),
    ("+4930901820", "US", False),  # a German number on a US location
    ("+4930901820", "DE", True),
    ("+14165550123", "US", False),  # +1, but Toronto: Canada
    ("+14165550123", "CA", True),
    ("+442071838750", "GB", True),
    ("+999123456789", "US", False),
])
def test_r_sub_1_a_number_belongs_to_its_locations_country(number: str, country: str, belongs: bool) -> None:
    assert is_number_of(number, country) is belongs


@pytest.mark.parametrize("country", ["US", "DE", "GB", "FR", "JP", "CA", "IT", "PL", "AU"])
def test_demo_numbers_are_distinct_valid_numbers_of_their_country(country: str) -> None:
    numbers = example_numbers(country, 6)
    assert len(numbers) == len(set(numbers)) == 6
    assert all(is_number_of(n, country) for n in numbers)
