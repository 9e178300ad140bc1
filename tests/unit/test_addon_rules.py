"""User add-ons as pure rules (DOMAIN.md §3 R-PKG-3 amended 2026-12, §3.1 R-ADD-1): `add_on_problems` and
`base_change_problems` over a customer as stored and the counts the service would have loaded."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from domain.model.entities import Address, Customer
from domain.model.errors import FieldError
from domain.rules.addons import add_on_problems, base_change_problems, with_add_ons
from domain.rules.catalogue import USER_ADD_ONS

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
ADD_ONS = ("input", "addOns")
PACKAGE = ("input", "package")


def _customer(packages: Mapping[str, int | None], deleting: tuple[str, ...] = ()) -> Customer:
    docs = [{"name": n, "status": "deleting" if n in deleting else "provisioned", "limit": limit}
            for n, limit in packages.items()]
    return Customer.model_validate({
        "_id": "cus_c1", "ownerOrgId": "ptn_demo", "rootOrgId": "ptn_demo", "templateId": "tpl_us",
        "externalId": "C1", "name": "Springfield Plumbing C1", "primaryEmail": "it@springfield.example",
        "language": "en_US", "address": Address(address_line1="1 Main Street", city="Springfield", country="US"),
        "packages": docs, "status": "provisioned", "version": 3, "createdAt": NOW, "updatedAt": NOW,
        "lastStatusChange": NOW})


CALLING = _customer({"webex_calling": None, "webex_meetings": None, "attendant_console": None,
                     "cisco_calling_plan": None, "common_area_calling": None})


def _codes(problems: list[FieldError]) -> list[tuple[str, tuple[str, ...] | None]]:
    return [(p.code.value, p.field) for p in problems]


def test_r_pkg_3_attendant_console_is_the_only_user_add_on() -> None:
    assert USER_ADD_ONS == ("attendant_console",)


def test_r_add_1_attendant_console_on_a_calling_base_is_accepted() -> None:
    assert add_on_problems(["attendant_console"], "webex_calling", CALLING, {}, (), "input") == []
    assert add_on_problems([], "webex_meetings", CALLING, {}, (), "input") == []


def test_r_pkg_3_customer_level_and_workspace_packages_are_not_assignable_to_a_user() -> None:
    """R-PKG-3: cisco_calling_plan (customer-level) and common_area_calling (workspaces), and a base package given
    as an add-on, are PACKAGE_NOT_ASSIGNABLE."""
    for package in ("cisco_calling_plan", "common_area_calling", "webex_meetings"):
        assert _codes(add_on_problems([package], "webex_calling", CALLING, {}, (), "input")) == [
            ("PACKAGE_NOT_ASSIGNABLE", ADD_ONS)], package


def test_r_add_1_the_customer_must_hold_the_add_on() -> None:
    customer = _customer({"webex_calling": None})
    assert _codes(add_on_problems(["attendant_console"], "webex_calling", customer, {}, (), "input")) == [
        ("PACKAGE_NOT_ON_CUSTOMER", ADD_ONS)]
    leaving = _customer({"webex_calling": None, "attendant_console": None}, deleting=("attendant_console",))
    assert _codes(add_on_problems(["attendant_console"], "webex_calling", leaving, {}, (), "input")) == [
        ("PACKAGE_NOT_ON_CUSTOMER", ADD_ONS)]


def test_r_add_1_attendant_console_needs_a_calling_suite_or_cx_base() -> None:
    customer = _customer({p: None for p in ("webex_calling", "webex_suite", "cx_essentials", "webex_voice",
                                            "webex_calling_standard", "webex_meetings", "attendant_console")})
    for base in ("webex_calling", "webex_suite", "cx_essentials"):
        assert add_on_problems(["attendant_console"], base, customer, {}, (), "input") == [], base
    for base in ("webex_voice", "webex_calling_standard", "webex_meetings"):
        assert _codes(add_on_problems(["attendant_console"], base, customer, {}, (), "input")) == [
            ("PACKAGE_DEPENDENCY", ADD_ONS)], base


def test_r_add_1_limit_counts_the_subscribers_holding_the_add_on() -> None:
    customer = _customer({"webex_calling": None, "attendant_console": 2})
    assert add_on_problems(["attendant_console"], "webex_calling", customer, {"attendant_console": 1}, (),
                           "input") == []
    assert _codes(add_on_problems(["attendant_console"], "webex_calling", customer, {"attendant_console": 2}, (),
                                  "input")) == [("PACKAGE_LIMIT_REACHED", ADD_ONS)]
    # Keeping an add-on it already holds is not a new one: the limit does not count it again.
    assert add_on_problems(["attendant_console"], "webex_calling", customer, {"attendant_console": 2},
                           ("attendant_console",), "input") == []


def test_r_add_1_an_add_on_listed_twice_is_refused_once() -> None:
    assert _codes(add_on_problems(["attendant_console", "attendant_console"], "webex_calling", CALLING, {}, (),
                                  "input")) == [("VALIDATION_FAILED", ADD_ONS)]


def test_r_add_1_a_base_change_that_breaks_a_held_add_on_must_drop_it() -> None:
    assert _codes(base_change_problems(["attendant_console"], "webex_meetings", "input")) == [
        ("PACKAGE_DEPENDENCY", PACKAGE)]
    assert base_change_problems(["attendant_console"], "webex_suite", "input") == []
    assert base_change_problems([], "webex_meetings", "input") == []


def test_r_add_1_packages_list_the_base_first_then_the_add_ons() -> None:
    assert with_add_ons("webex_calling", ["attendant_console"]) == ["webex_calling", "attendant_console"]
