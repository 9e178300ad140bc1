from __future__ import annotations

import pytest

from domain.model.errors import ErrorCode, FieldError
from domain.rules.packages import (
    admin_change_problems,
    assignment_problems,
    calling_problems,
    customer_package_problems,
    limit_problems,
)


def _codes(problems: list[FieldError]) -> list[ErrorCode]:
    return [p.code for p in problems]


@pytest.mark.parametrize(
    ("packages", "codes"),
    [
        (["webex_calling", "cisco_calling_plan"], []),
        (["common_area_calling", "cisco_calling_plan"], []),
        (["webex_meetings", "cisco_calling_plan"], [ErrorCode.PACKAGE_DEPENDENCY]),
        (["webex_calling_standard", "attendant_console"], [ErrorCode.PACKAGE_DEPENDENCY]),
        (["webex_calling", "attendant_console"], []),
        (["cx_essentials", "attendant_console"], []),
        # R-PKG-2 (amended 2026-12): webex_voice was a base of the attendant console; it is not any more.
        (["webex_voice", "attendant_console"], [ErrorCode.PACKAGE_DEPENDENCY]),
        (["attendant_console", "cisco_calling_plan"], [ErrorCode.PACKAGE_DEPENDENCY, ErrorCode.PACKAGE_DEPENDENCY]),
        (["webex_fax"], [ErrorCode.UNKNOWN_PACKAGE]),
        ([], [ErrorCode.REQUIRED]),
        (["webex_suite", "webex_suite"], [ErrorCode.VALIDATION_FAILED]),
    ],
)
def test_r_pkg_2_add_ons_need_their_base_packages(packages: list[str], codes: list[ErrorCode]) -> None:
    assert sorted(_codes(customer_package_problems(packages, "input", "packages"))) == sorted(codes)


def test_r_pkg_6_limits_name_customer_packages() -> None:
    assert _codes(limit_problems({"webex_suite": 5}, ["webex_suite"])) == []
    assert _codes(limit_problems({"webex_voice": 5}, ["webex_suite"])) == [ErrorCode.PACKAGE_NOT_ON_CUSTOMER]
    assert _codes(limit_problems({"webex_suite": -1}, ["webex_suite"])) == [ErrorCode.VALIDATION_FAILED]


@pytest.mark.parametrize(
    ("package", "limit", "assigned", "codes"),
    [
        ("webex_calling", None, 1000, []),
        ("webex_calling", 3, 2, []),
        ("webex_calling", 3, 3, [ErrorCode.PACKAGE_LIMIT_REACHED]),  # R-PKG-6
        ("webex_meetings", None, 0, [ErrorCode.PACKAGE_NOT_ON_CUSTOMER]),  # R-PKG-7
        ("common_area_calling", None, 0, [ErrorCode.PACKAGE_NOT_ASSIGNABLE]),  # R-PKG-3
        ("cisco_calling_plan", None, 0, [ErrorCode.PACKAGE_NOT_ASSIGNABLE]),
    ],
)
def test_r_pkg_3_6_7_subscriber_package(package: str, limit: int | None, assigned: int,
                                        codes: list[ErrorCode]) -> None:
    customer = ["webex_calling", "common_area_calling", "cisco_calling_plan"]
    assert _codes(assignment_problems(package, customer, limit, assigned)) == codes


@pytest.mark.parametrize(
    ("package", "phone", "extension", "location", "codes"),
    [
        ("webex_calling", "+14155550100", None, None, []),
        ("webex_calling", None, "1234", "loc_x", []),
        ("webex_calling", None, None, None, [ErrorCode.CALLING_NUMBER_REQUIRED]),
        ("webex_meetings", None, None, None, []),
        ("webex_meetings", None, None, "loc_x", [ErrorCode.LOCATION_NOT_ALLOWED]),
        ("webex_voice", "0415550100", None, None, [ErrorCode.INVALID_PHONE_NUMBER]),
        ("webex_voice", None, "1", None, [ErrorCode.INVALID_EXTENSION]),
        ("webex_voice", None, "12345678901", None, [ErrorCode.INVALID_EXTENSION]),
    ],
)
def test_r_sub_1_calling_packages_need_a_number(package: str, phone: str | None, extension: str | None,
                                                location: str | None, codes: list[ErrorCode]) -> None:
    assert _codes(calling_problems(package, phone, extension, location, "input")) == codes


def test_r_sub_2_admin_package_may_not_be_downgraded() -> None:
    assert _codes(admin_change_problems(True, "webex_suite", "webex_calling")) == [ErrorCode.ADMIN_PACKAGE_DOWNGRADE]
    assert _codes(admin_change_problems(True, "webex_calling", "webex_suite")) == []
    assert _codes(admin_change_problems(False, "webex_suite", "webex_calling")) == []
