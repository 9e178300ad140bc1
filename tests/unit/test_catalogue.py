from __future__ import annotations

from domain.rules.catalogue import CATALOGUE, USER_PACKAGES, is_downgrade


def test_r_pkg_1_catalogue_holds_every_package() -> None:
    assert set(CATALOGUE) == {
        "common_area_calling", "webex_calling", "webex_calling_standard", "webex_voice", "webex_meetings",
        "webex_suite", "cx_essentials", "attendant_console", "cisco_calling_plan",
    }


def test_r_pkg_3_user_packages() -> None:
    assert set(USER_PACKAGES) == {
        "webex_calling", "webex_calling_standard", "webex_voice", "webex_meetings", "webex_suite", "cx_essentials"}


def test_r_pkg_4_calling_packages_are_user_packages_but_meetings() -> None:
    assert {n for n, s in CATALOGUE.items() if s.calling} == set(USER_PACKAGES) - {"webex_meetings"}


def test_r_pkg_5_downgrade_is_losing_a_capability() -> None:
    assert is_downgrade("webex_calling", "webex_calling_standard")
    assert is_downgrade("webex_suite", "webex_calling")
    assert is_downgrade("cx_essentials", "webex_calling")
    assert not is_downgrade("webex_calling", "webex_suite")
    assert not is_downgrade("webex_calling_standard", "webex_voice")
    assert is_downgrade("webex_meetings", "webex_calling")  # loses meet_full
