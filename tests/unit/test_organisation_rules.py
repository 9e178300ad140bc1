"""The rules of new partners and sub-partners as pure functions (DOMAIN.md §2, R-ORG-1): `partner_problems` and
`sub_partner_problems`.

Each test restates a refusal of tests/api/test_organisation_mutations.py; the parent is the partner the service would
have loaded for `parentId` (None: no partner has that id). No database, no HTTP, no event loop, nothing mocked.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import pytest

from domain.model.entities import Partner
from domain.model.errors import ErrorCode
from domain.rules.organisations import NewPartner, NewSubPartner, partner_problems, sub_partner_problems
from domain.rules.validation import Problems

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
Path = tuple[str, ...]

PARENT = Partner.model_validate({
    "_id": "ptn_demo", "kind": "PARTNER", "name": "Demo Telecom", "subscriptionId": "Sub-DEMO-0001",
    "delayedBillingEnabled": True, "createdAt": NOW})
SUB_PARTNER = Partner.model_validate({
    "_id": "ptn_sub_a", "kind": "SUB_PARTNER", "name": "Northwind Resellers", "subscriptionId": "Sub-DEMO-0001",
    "parentId": PARENT.id, "provisioningState": "active", "delayedBillingEnabled": True,
    "adminEmail": "admin@northwind.example", "createdAt": NOW})


def _sub_partner_input(**changes: Any) -> NewSubPartner:
    values: dict[str, Any] = {"name": "Fabrikam Partners", "admin_email": "admin@fabrikam.example", **changes}
    return NewSubPartner(**values)


def _problems(problems: Problems) -> list[tuple[str, Path | None]]:
    """(code, field) of every problem in the order found; every problem says something."""
    assert all(p.message for p in problems.items), problems.items
    return [(p.code.value, p.field) for p in problems.items]


def _sorted(pairs: Iterable[tuple[ErrorCode, Path | None]]) -> list[tuple[str, Path | None]]:
    return sorted(((ErrorCode(code).value, field) for code, field in pairs), key=repr)


# ---------------------------------------------------------------- createPartner


def test_create_partner_valid_input_has_no_problems() -> None:
    assert partner_problems(NewPartner("  Fabrikam Telecom ", "Sub-FAB-0001", True)).items == []


@pytest.mark.parametrize(("data", "problem"), [
    pytest.param(NewPartner("   ", "Sub-X"), (ErrorCode.REQUIRED, ("input", "name")), id="blank_name"),
    pytest.param(NewPartner("Fabrikam", ""), (ErrorCode.REQUIRED, ("input", "subscriptionId")),
                 id="blank_subscription_id"),
    pytest.param(NewPartner("F" * 201, "Sub-X"), (ErrorCode.TOO_LONG, ("input", "name")), id="overlong_name"),
])
def test_create_partner_input_problem_is_refused(data: NewPartner, problem: tuple[ErrorCode, Path]) -> None:
    assert _problems(partner_problems(data)) == _sorted([problem])


def test_create_partner_name_of_200_characters_is_accepted() -> None:
    assert partner_problems(NewPartner("F" * 200, "Sub-X")).items == []


def test_create_partner_reports_every_problem_at_once() -> None:
    assert sorted(_problems(partner_problems(NewPartner("", " ")))) == _sorted([
        (ErrorCode.REQUIRED, ("input", "name")), (ErrorCode.REQUIRED, ("input", "subscriptionId"))])


# ---------------------------------------------------------------- createSubPartner


def test_create_sub_partner_valid_input_under_a_partner_has_no_problems() -> None:
    data = _sub_partner_input(admin_email=" Admin@Fabrikam.EXAMPLE ")
    assert sub_partner_problems(PARENT, data).items == []


def test_r_org_1_sub_partner_cannot_have_sub_partners() -> None:
    assert _problems(sub_partner_problems(SUB_PARTNER, _sub_partner_input())) == _sorted([
        (ErrorCode.VALIDATION_FAILED, ("parentId",))])


@pytest.mark.parametrize(("parent", "changes", "problem"), [
    pytest.param(None, {}, (ErrorCode.NOT_FOUND, ("parentId",)), id="unknown_parent_is_not_found"),
    pytest.param(PARENT, {"admin_email": "not-an-email"}, (ErrorCode.INVALID_EMAIL, ("input", "adminEmail")),
                 id="bad_admin_email"),
    pytest.param(PARENT, {"name": "  "}, (ErrorCode.REQUIRED, ("input", "name")), id="blank_name"),
    pytest.param(PARENT, {"admin_email": ""}, (ErrorCode.REQUIRED, ("input", "adminEmail")), id="blank_admin_email"),
])
def test_create_sub_partner_input_problem_is_refused(parent: Partner | None, changes: dict[str, Any],
                                                     problem: tuple[ErrorCode, Path]) -> None:
    assert _problems(sub_partner_problems(parent, _sub_partner_input(**changes))) == _sorted([problem])


def test_create_sub_partner_reports_every_problem_at_once() -> None:
    """R-ORG-1 together with the input's own problems."""
    problems = sub_partner_problems(SUB_PARTNER, _sub_partner_input(name="", admin_email="a@@b"))
    assert sorted(_problems(problems)) == _sorted([
        (ErrorCode.INVALID_EMAIL, ("input", "adminEmail")), (ErrorCode.REQUIRED, ("input", "name")),
        (ErrorCode.VALIDATION_FAILED, ("parentId",)),
    ])
