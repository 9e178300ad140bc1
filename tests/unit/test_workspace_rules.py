"""The workspace rules as pure functions (DOMAIN.md §14, R-WS-1/2): `plan_new_workspace`, `plan_workspace_update`
and the workspace status machine, over plain values: a provisioned US customer holding common_area_calling, its
headquarters and a German branch, and what its other records hold (`WorkspaceHoldings`). No database, nothing mocked.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import pytest

from domain.model.audit import EventAction
from domain.model.changes import DELETED, EntityType
from domain.model.entities import Address, Customer, Location
from domain.model.errors import DomainError, ErrorCode
from domain.model.status import WORKSPACE, WorkspaceStatus
from domain.model.workspaces import Workspace, name_key
from domain.rules.workspaces import (
    NewWorkspace,
    WorkspaceFacts,
    WorkspaceHoldings,
    WorkspacePlan,
    WorkspaceUpdate,
    changed,
    plan_new_workspace,
    plan_workspace_update,
)

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
OWNER = "ptn_demo"
US_ADDRESS = Address(address_line1="1 Main Street", city="Springfield", state_or_province="IL",
                     zip_or_postal_code="62701", country="US")
US_NUMBER = "+12015550123"
DE_NUMBER = "+493012345678"
HQ, BRANCH = "loc_hq", "loc_de"


def _customer(packages: Mapping[str, str | tuple[str, int]] | None = None, *, status: str = "provisioned"
              ) -> Customer:
    held = packages if packages is not None else {"webex_calling": "provisioned",
                                                  "common_area_calling": "provisioned"}
    docs = []
    for name, state in held.items():
        package_status, limit = state if isinstance(state, tuple) else (state, None)
        docs.append({"name": name, "status": package_status, "limit": limit})
    return Customer.model_validate({
        "_id": "cus_c1", "ownerOrgId": OWNER, "rootOrgId": OWNER, "templateId": "tpl_us", "externalId": "C1",
        "name": "Springfield Plumbing C1", "primaryEmail": "it@springfield.example", "language": "en_US",
        "address": US_ADDRESS, "packages": docs, "status": status,
        "version": 3, "createdAt": NOW, "updatedAt": NOW, "lastStatusChange": NOW})


def _location(id: str, country: str, *, headquarters: bool = False) -> dict[str, Any]:
    return Location(id=id, customer_id="cus_c1", owner_org_id=OWNER, root_org_id=OWNER, name=id,
                    address=US_ADDRESS.model_copy(update={"country": country}), timezone="America/Chicago",
                    language="en_US", is_headquarters=headquarters, created_at=NOW).to_doc()


LOCATIONS = (_location(HQ, "US", headquarters=True), _location(BRANCH, "DE"))


def _facts(customer: Customer | None = None, **holdings: Any) -> WorkspaceFacts:
    return WorkspaceFacts(customer if customer is not None else _customer(), LOCATIONS, WorkspaceHoldings(**holdings))


def _new(name: str = "Lobby phone", *, phone: str | None = None, extension: str | None = "3001",
         location_id: str | None = None) -> NewWorkspace:
    return NewWorkspace(customer_id="cus_c1", name=name, location_id=location_id, primary_phone_number=phone,
                        extension=extension)


def _codes(plan: WorkspacePlan) -> list[tuple[str, tuple[str, ...] | None]]:
    return sorted((p.code.value, p.field) for p in plan.problems.items)


def _workspace(status: WorkspaceStatus = WorkspaceStatus.PROVISIONED, **fields: Any) -> Workspace:
    data: dict[str, Any] = {
        "_id": "wsp_1", "customerId": "cus_c1", "ownerOrgId": OWNER, "rootOrgId": OWNER, "name": "Lobby phone",
        "nameKey": name_key("Lobby phone"), "primaryPhoneNumber": None, "extension": "3001", "locationId": HQ,
        "status": status.value, "version": 2, "createdAt": NOW, "lastStatusChange": NOW, **fields}
    return Workspace.model_validate(data)


# ---------------------------------------------------------------- R-WS-1: provisioning


def test_r_ws_1_a_valid_request_goes_to_the_headquarters_by_default() -> None:
    plan = plan_new_workspace(_new("  Lobby   phone "), _facts())
    assert _codes(plan) == []
    assert (plan.location_id, plan.name, plan.extension) == (HQ, "Lobby phone", "3001")


def test_r_ws_1_name_is_required_and_at_most_80_characters() -> None:
    assert _codes(plan_new_workspace(_new(" "), _facts())) == [("REQUIRED", ("input", "name"))]
    assert _codes(plan_new_workspace(_new("x" * 80), _facts())) == []
    assert _codes(plan_new_workspace(_new("x" * 81), _facts())) == [("TOO_LONG", ("input", "name"))]


def test_r_ws_1_a_name_used_by_another_workspace_of_the_customer_is_name_in_use() -> None:
    assert _codes(plan_new_workspace(_new(), _facts(name_taken=True))) == [("NAME_IN_USE", ("input", "name"))]
    # Case and spacing do not make a different name (decision).
    assert name_key(" LOBBY  Phone") == name_key("lobby phone")


def test_r_ws_1_the_customer_must_hold_common_area_calling() -> None:
    customer = _customer({"webex_calling": "provisioned"})
    assert _codes(plan_new_workspace(_new(), _facts(customer))) == [
        ("PACKAGE_NOT_ON_CUSTOMER", ("input", "customerId"))]
    being_removed = _customer({"webex_calling": "provisioned", "common_area_calling": "deleting"})
    assert _codes(plan_new_workspace(_new(), _facts(being_removed))) == [
        ("PACKAGE_NOT_ON_CUSTOMER", ("input", "customerId"))]


def test_r_ws_1_the_package_limit_counts_workspaces() -> None:
    customer = _customer({"common_area_calling": ("provisioned", 2)})
    assert _codes(plan_new_workspace(_new(), _facts(customer, held=1))) == []
    assert _codes(plan_new_workspace(_new(), _facts(customer, held=2))) == [
        ("PACKAGE_LIMIT_REACHED", ("input", "customerId"))]


def test_r_ws_1_a_number_or_an_extension_is_required() -> None:
    assert _codes(plan_new_workspace(_new(extension=None), _facts())) == [
        ("CALLING_NUMBER_REQUIRED", ("input", "primaryPhoneNumber"))]
    assert _codes(plan_new_workspace(_new(extension="  ", phone=""), _facts())) == [
        ("CALLING_NUMBER_REQUIRED", ("input", "primaryPhoneNumber"))]
    assert _codes(plan_new_workspace(_new(extension=None, phone=US_NUMBER), _facts())) == []
    assert _codes(plan_new_workspace(_new(phone=US_NUMBER), _facts())) == []


def test_r_ws_1_numbers_are_checked_like_a_subscribers() -> None:
    assert _codes(plan_new_workspace(_new(extension="1"), _facts())) == [
        ("INVALID_EXTENSION", ("input", "extension"))]
    assert _codes(plan_new_workspace(_new(phone="+999123"), _facts())) == [
        ("INVALID_PHONE_NUMBER", ("input", "primaryPhoneNumber"))]
    # R-SUB-1 (amended): the number belongs to the country of the workspace's location.
    assert _codes(plan_new_workspace(_new(phone=DE_NUMBER), _facts())) == [
        ("INVALID_PHONE_NUMBER", ("input", "primaryPhoneNumber"))]
    assert _codes(plan_new_workspace(_new(phone=DE_NUMBER, location_id=BRANCH), _facts())) == []


def test_r_ws_1_numbers_are_unique_in_the_customer_across_subscribers_and_workspaces() -> None:
    plan = plan_new_workspace(_new(phone=US_NUMBER), _facts(phone_taken=True, extension_taken=True))
    assert _codes(plan) == [("NUMBER_IN_USE", ("input", "extension")),
                            ("NUMBER_IN_USE", ("input", "primaryPhoneNumber"))]


def test_r_ws_1_the_location_must_be_one_of_the_customers() -> None:
    plan = plan_new_workspace(_new(location_id="loc_elsewhere"), _facts())
    assert _codes(plan) == [("NOT_FOUND", ("input", "locationId"))]


def test_r_ws_1_an_unknown_customer_or_one_being_deleted_takes_no_workspace() -> None:
    facts = WorkspaceFacts(None)
    assert _codes(plan_new_workspace(_new(), facts)) == [("NOT_FOUND", ("input", "customerId"))]
    assert _codes(plan_new_workspace(_new(), _facts(_customer(status="deleting")))) == [
        ("INVALID_STATE", ("input", "customerId"))]


# ---------------------------------------------------------------- R-WS-1: updates


def test_r_ws_1_an_update_keeps_what_it_does_not_name() -> None:
    current = _workspace()
    plan = plan_workspace_update(current, _customer(), WorkspaceUpdate(name="Front door"), _facts())
    assert _codes(plan) == []
    assert (plan.name, plan.location_id, plan.extension) == ("Front door", HQ, "3001")
    assert changed(current, plan)
    same = plan_workspace_update(current, _customer(), WorkspaceUpdate(), _facts())
    assert not changed(current, same)


def test_r_ws_1_an_update_may_not_leave_the_workspace_without_a_number() -> None:
    plan = plan_workspace_update(_workspace(), _customer(), WorkspaceUpdate(extension=""), _facts())
    assert _codes(plan) == [("CALLING_NUMBER_REQUIRED", ("input", "primaryPhoneNumber"))]
    renumbered = WorkspaceUpdate(extension="", primary_phone_number=US_NUMBER)
    plan = plan_workspace_update(_workspace(), _customer(), renumbered, _facts())
    assert _codes(plan) == [] and (plan.primary_phone_number, plan.extension) == (US_NUMBER, None)


def test_r_ws_1_an_update_conflicts_only_through_what_it_changes() -> None:
    taken = _facts(name_taken=True, phone_taken=True, extension_taken=True)
    # Its own name and extension, as stored, are no conflict (the facts would count the workspace itself).
    assert _codes(plan_workspace_update(_workspace(), _customer(), WorkspaceUpdate(name="LOBBY phone",
                                                                                  extension="3001"), taken)) == []
    assert _codes(plan_workspace_update(_workspace(), _customer(), WorkspaceUpdate(extension="3002"), taken)) == [
        ("NUMBER_IN_USE", ("input", "extension"))]
    # The limit is not counted again for a workspace that already holds the package.
    full = _customer({"common_area_calling": ("provisioned", 1)})
    assert _codes(plan_workspace_update(_workspace(), full, WorkspaceUpdate(name="Hall"), _facts(full, held=1))) == []


def test_r_locn_2_an_update_moves_a_workspace_to_another_location_whose_country_its_number_must_fit() -> None:
    current = _workspace(primaryPhoneNumber=US_NUMBER)
    plan = plan_workspace_update(current, _customer(), WorkspaceUpdate(location_id=BRANCH), _facts())
    assert _codes(plan) == [("INVALID_PHONE_NUMBER", ("input", "primaryPhoneNumber"))]
    plan = plan_workspace_update(current, _customer(), WorkspaceUpdate(location_id=BRANCH,
                                                                       primary_phone_number=DE_NUMBER), _facts())
    assert _codes(plan) == [] and plan.location_id == BRANCH


# ---------------------------------------------------------------- R-WS-2: the status machine and its events


def test_r_ws_2_the_workspace_status_machine() -> None:
    w = WorkspaceStatus
    assert WORKSPACE[w.PROVISIONING] == {w.PROVISIONED, w.ERROR, w.DELETING}
    assert WORKSPACE[w.PROVISIONED] == {w.UPDATING, w.DELETING}
    assert WORKSPACE[w.UPDATING] == {w.PROVISIONED, w.ERROR, w.DELETING}
    assert WORKSPACE[w.ERROR] == {w.DELETING}
    assert WORKSPACE[w.DELETING] == frozenset()
    with pytest.raises(DomainError) as refused:
        _workspace(w.ERROR).move(w.UPDATING, NOW)
    assert refused.value.errors[0].code is ErrorCode.INVALID_STATE


def test_r_ws_2_every_move_is_a_workspace_event_with_the_new_version() -> None:
    moved, change = _workspace().move(WorkspaceStatus.UPDATING, NOW, name="Hall")
    assert (moved.version, moved.status, moved.name) == (3, WorkspaceStatus.UPDATING, "Hall")
    assert (change.entity_type, change.from_status, change.to_status, change.version, change.customer_id) == (
        EntityType.WORKSPACE, "provisioned", "updating", 3, "cus_c1")
    gone = moved.removal()
    assert (gone.to_status, gone.version) == (DELETED, 4)


def test_r_ws_2_an_update_event_lists_the_fields_it_changed() -> None:
    before = _workspace()
    after, _ = before.move(WorkspaceStatus.UPDATING, NOW, name="Hall", extension="3002")
    event = after.update_event(before)
    assert event is not None and event.action is EventAction.UPDATE
    assert [(c.field, c.before, c.after) for c in event.changes] == [("name", "Lobby phone", "Hall"),
                                                                     ("extension", "3001", "3002")]
    assert after.update_event(after) is None
