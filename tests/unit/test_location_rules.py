"""The location rules as pure functions (DOMAIN.md §6, R-LOCN-1/2): `plan_new_location`, `plan_location_update` and
`deletion_problems` over plain values — a customer as stored, its locations, what still belongs to one.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import pytest

from domain.model.entities import Address, Customer, Location
from domain.model.errors import ErrorCode
from domain.rules.customers import CallingLocation
from domain.rules.locations import (
    LocationUpdate,
    LocationUse,
    deletion_problems,
    holds_calling,
    plan_location_update,
    plan_new_location,
)

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
US = Address(address_line1="1 Main Street", city="Springfield", country="US")
DE = Address(address_line1="Hauptstrasse 1", city="Berlin", country="DE")


def _customer(packages: Mapping[str, str] | None = None, *, status: str = "provisioned") -> Customer:
    held = packages if packages is not None else {"webex_calling": "provisioned"}
    return Customer.model_validate({
        "_id": "cus_c1", "ownerOrgId": "ptn_a", "rootOrgId": "ptn_a", "templateId": "tpl_us", "externalId": "C1",
        "name": "Springfield Plumbing", "primaryEmail": "it@springfield.example", "language": "en_US",
        "address": US, "packages": [{"name": n, "status": s} for n, s in held.items()], "status": status,
        "version": 3, "createdAt": NOW, "updatedAt": NOW, "lastStatusChange": NOW})


def _location(id: str = "loc_hq", name: str = "HQ", *, hq: bool = True, address: Address = US) -> Location:
    return Location(id=id, customer_id="cus_c1", owner_org_id="ptn_a", root_org_id="ptn_a", name=name,
                    address=address, timezone="America/Chicago", language="en_US", is_headquarters=hq,
                    created_at=NOW)


EXISTING: list[dict[str, Any]] = [_location().to_doc(), _location("loc_b", "Branch North", hq=False).to_doc()]


def _new(**overrides: Any) -> CallingLocation:
    fields: dict[str, Any] = {"name": "Branch South", "address": US, "timezone": "America/Chicago",
                              "language": "en_US", **overrides}
    return CallingLocation(**fields)


def _problems(plan_problems: Any) -> list[tuple[ErrorCode, tuple[str, ...] | None]]:
    return [(p.code, p.field) for p in plan_problems.items]


def test_r_locn_1_a_valid_branch_is_stored_with_its_cleaned_fields() -> None:
    plan = plan_new_location(_customer(), _new(name="  Branch South ", language="en-us",
                                               emergency_location_identifier=" E911-7 "), EXISTING)
    assert plan.problems.items == []
    assert plan.fields["name"] == "Branch South"
    assert plan.fields["language"] == "en_US"  # R-LOC-3 normalised
    assert plan.fields["emergency_location_identifier"] == "E911-7"


def test_r_locn_1_names_are_unique_per_customer_without_regard_to_case_or_spacing() -> None:
    plan = plan_new_location(_customer(), _new(name="branch   NORTH"), EXISTING)
    assert _problems(plan.problems) == [(ErrorCode.NAME_IN_USE, ("input", "name"))]


def test_r_locn_1_every_field_problem_at_once() -> None:
    plan = plan_new_location(_customer(), _new(
        name="x" * 81, address=US.model_copy(update={"address_line1": "y" * 51}), timezone="Mars/Olympus",
        language="xx", emergency_location_identifier="e" * 101), EXISTING)
    assert _problems(plan.problems) == [
        (ErrorCode.TOO_LONG, ("input", "name")),
        (ErrorCode.TOO_LONG, ("input", "address", "addressLine1")),
        (ErrorCode.INVALID_TIMEZONE, ("input", "timezone")),
        (ErrorCode.INVALID_LOCALE, ("input", "language")),
        (ErrorCode.TOO_LONG, ("input", "emergencyLocationIdentifier")),
    ]


@pytest.mark.parametrize("packages", [{"webex_meetings": "provisioned"}, {"webex_calling": "deleting"}, {}])
def test_r_locn_1_a_customer_without_calling_may_not_have_branches(packages: dict[str, str]) -> None:
    plan = plan_new_location(_customer(packages), _new(), EXISTING)
    assert _problems(plan.problems) == [(ErrorCode.LOCATION_NOT_ALLOWED, ("customerId",))]


def test_r_locn_1_common_area_calling_alone_allows_branches() -> None:
    assert holds_calling(_customer({"common_area_calling": "provisioned"}))


@pytest.mark.parametrize("status", ["provisioning", "pending_rpl_review", "error", "deleting"])
def test_r_locn_1_locations_change_only_once_the_customer_is_provisioned(status: str) -> None:
    plan = plan_new_location(_customer(status=status), _new(), EXISTING)
    assert _problems(plan.problems) == [(ErrorCode.INVALID_STATE, ("customerId",))]


@pytest.mark.parametrize("status", ["provisioned", "provisioned_with_errors", "updating"])
def test_r_locn_1_provisioned_or_updating_customers_may_change_locations(status: str) -> None:
    assert plan_new_location(_customer(status=status), _new(), EXISTING).problems.items == []


def test_r_locn_1_an_update_reports_only_what_changes() -> None:
    current = _location("loc_b", "Branch North", hq=False)
    plan = plan_location_update(_customer(), current, LocationUpdate(name="Branch North", timezone="Europe/Berlin",
                                                                     emergency_location_identifier="E-1"), EXISTING)
    assert plan.problems.items == []
    assert plan.fields == {"timezone": "Europe/Berlin", "emergency_location_identifier": "E-1"}


def test_r_locn_1_an_update_keeps_its_own_name_but_not_anothers() -> None:
    current = _location("loc_b", "Branch North", hq=False)
    assert plan_location_update(_customer(), current, LocationUpdate(name="BRANCH NORTH"), EXISTING).problems.items \
        == []
    plan = plan_location_update(_customer(), current, LocationUpdate(name="hq"), EXISTING)
    assert _problems(plan.problems) == [(ErrorCode.NAME_IN_USE, ("input", "name"))]


def test_r_locn_1_an_update_judges_the_language_in_the_new_country() -> None:
    current = _location("loc_b", "Branch North", hq=False)
    plan = plan_location_update(_customer(), current, LocationUpdate(address=DE, language="de"), EXISTING)
    assert plan.fields["language"] == "de_DE" and plan.fields["address"] == DE


def test_r_locn_2_the_headquarters_cannot_be_deleted() -> None:
    problems = deletion_problems(_customer(), _location(), LocationUse(0, 0))
    assert _problems(problems) == [(ErrorCode.LOCATION_IN_USE, ("id",))]


@pytest.mark.parametrize("use", [LocationUse(1, 0), LocationUse(0, 2), LocationUse(0, 0, open_setup_assist=True)])
def test_r_locn_2_a_location_in_use_cannot_be_deleted_no_cascade(use: LocationUse) -> None:
    problems = deletion_problems(_customer(), _location("loc_b", "Branch North", hq=False), use)
    assert _problems(problems) == [(ErrorCode.LOCATION_IN_USE, ("id",))]


def test_r_locn_2_an_empty_branch_can_be_deleted() -> None:
    assert deletion_problems(_customer(), _location("loc_b", "Branch North", hq=False), LocationUse(0, 0)).items == []
