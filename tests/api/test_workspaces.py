"""Workspaces through the API (DOMAIN.md §14: R-WS-1, R-WS-2; with R-ORG-4…6, R-PKG removal in use, R-AUD-1).

Each test provisions its own customer holding `common_area_calling` for a partner of its own with two sub-partners
(tests/api/billing.py `tenancy`). Refusals are checked with `refused`, which also proves that nothing was written.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.api.billing import Tenancy, tenancy
from tests.api.provisioning import (
    DELETE,
    PROVISION_SUBSCRIBER,
    UPDATE,
    current,
    customer_input,
    provision,
    provisioning_id,
    refused,
    subscriber_input,
)
from tests.conftest import Gateway


@pytest.fixture
async def t(gateway: Gateway) -> Tenancy:
    return await tenancy(gateway)


FIELDS = """
  id name package primaryPhoneNumber extension status version errors { code message }
  location { id isHeadquarters } customer { id } backgroundWork { kind waitingFor }
"""
PROVISION_WS = f"""
mutation($input: ProvisionWorkspaceInput!, $for: ID) {{
  provisionWorkspace(input: $input, onBehalfOfSubPartnerOrgId: $for) {{
    workspace {{ {FIELDS} }} errors {{ code message field }}
  }}
}}"""
UPDATE_WS = f"""
mutation($id: ID!, $input: UpdateWorkspaceInput!, $for: ID) {{
  updateWorkspace(id: $id, input: $input, onBehalfOfSubPartnerOrgId: $for) {{
    workspace {{ {FIELDS} }} errors {{ code message field }}
  }}
}}"""
DELETE_WS = """
mutation($id: ID!, $for: ID) {
  deleteWorkspace(id: $id, onBehalfOfSubPartnerOrgId: $for) { deletedId errors { code message field } }
}"""
WORKSPACE = f"query($id: ID!) {{ workspace(id: $id) {{ {FIELDS} }} }}"
NODE = "query($id: ID!) { node(id: $id) { __typename ... on Workspace { id name } } }"
CUSTOMER_WORKSPACES = """
query($id: ID!, $after: String) { customer(id: $id) {
  workspaces(first: 1, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { id name } } }
  packages { name assigned }
} }"""
SET_STATE = """mutation($id: ID!, $state: SubPartnerState!) {
  setSubPartnerState(id: $id, state: $state) { partner { id } errors { code } }
}"""
EVENTS = """query($filter: EventFilter) { provisioningEvents(filter: $filter, first: 50) { edges { node {
  entityType entityId fromStatus toStatus version action changes { field from to } workspace { id name }
} } } }"""
US_NUMBER = "+12175550123"


async def _customer(gateway: Gateway, token: str, owner: str, external_id: str = "WS-1", *, settle: bool = True,
                    on_behalf: str | None = None, limit: int | None = None) -> dict[str, Any]:
    data = customer_input(await provisioning_id(gateway, owner), external_id,
                          packages=["webex_calling", "common_area_calling"])
    if limit is not None:
        data["provisioningParameters"] = {**data["provisioningParameters"],
                                          "limits": [{"package": "common_area_calling", "limit": limit}]}
    customer = await provision(gateway, token, data, on_behalf)
    if settle:
        await gateway.settle()
        customer = await current(gateway, token, customer["id"])
    return customer


def _input(customer_id: str, name: str = "Lobby phone", **overrides: Any) -> dict[str, Any]:
    return {"customerId": customer_id, "name": name, "extension": "3001", **overrides}


async def _provision(gateway: Gateway, token: str, data: dict[str, Any], on_behalf: str | None = None
                     ) -> dict[str, Any]:
    result = (await gateway.execute(token, PROVISION_WS, {"input": data, "for": on_behalf}))["provisionWorkspace"]
    assert result["errors"] == [], result
    workspace: dict[str, Any] = result["workspace"]
    return workspace


async def _workspace(gateway: Gateway, token: str, workspace_id: str) -> dict[str, Any] | None:
    found: dict[str, Any] | None = (await gateway.execute(token, WORKSPACE, {"id": workspace_id}))["workspace"]
    return found


async def _events(gateway: Gateway, token: str, entity_id: str, actions: list[str] | None = None
                  ) -> list[dict[str, Any]]:
    filter: dict[str, Any] = {"entityTypes": ["WORKSPACE"]}
    if actions is not None:
        filter["actions"] = actions
    edges = (await gateway.execute(token, EVENTS, {"filter": filter}))["provisioningEvents"]["edges"]
    return [e["node"] for e in edges if e["node"]["entityId"] == entity_id]


def _problems(errors: list[dict[str, Any]]) -> list[tuple[str, list[str] | None]]:
    return sorted(((e["code"], e["field"]) for e in errors), key=repr)


# ---------------------------------------------------------------- R-WS-2: life cycle


async def test_r_ws_2_a_workspace_is_provisioned_in_the_background_and_each_move_is_an_event(
        gateway: Gateway, t: Tenancy) -> None:
    token = gateway.token(t.partner, "full_admin")
    customer = await _customer(gateway, token, t.partner)
    workspace = await _provision(gateway, token, _input(customer["id"], primaryPhoneNumber=US_NUMBER))
    assert (workspace["status"], workspace["version"], workspace["package"]) == ("provisioning", 1,
                                                                               "common_area_calling")
    assert workspace["location"]["isHeadquarters"] is True  # R-WS-1: the headquarters by default
    assert workspace["backgroundWork"]["kind"] == "workspace.settle"
    await gateway.settle()
    settled = await _workspace(gateway, token, workspace["id"])
    assert settled is not None and (settled["status"], settled["version"]) == ("provisioned", 2)
    assert settled["backgroundWork"] is None
    assert [(e["fromStatus"], e["toStatus"], e["version"]) for e in await _events(gateway, token, workspace["id"])
            ] == [(None, "provisioning", 1), ("provisioning", "provisioned", 2)]
    node = (await gateway.execute(token, NODE, {"id": workspace["id"]}))["node"]
    assert node == {"__typename": "Workspace", "id": workspace["id"], "name": "Lobby phone"}


async def test_r_ws_2_a_workspace_waits_for_its_customer_to_be_provisioned(gateway: Gateway, t: Tenancy) -> None:
    token = gateway.token(t.partner, "full_admin")
    customer = await _customer(gateway, token, t.partner, settle=False)
    workspace = await _provision(gateway, token, _input(customer["id"]))
    assert workspace["backgroundWork"]["waitingFor"] == "customer"
    await gateway.settle()
    assert (await current(gateway, token, customer["id"]))["status"] == "provisioned"
    settled = await _workspace(gateway, token, workspace["id"])
    assert settled is not None and settled["status"] == "provisioned"


async def test_r_ws_2_an_update_goes_through_updating_and_records_what_it_changed(gateway: Gateway,
                                                                                  t: Tenancy) -> None:
    token = gateway.token(t.partner, "full_admin")
    customer = await _customer(gateway, token, t.partner)
    workspace = await _provision(gateway, token, _input(customer["id"]))
    await gateway.settle()
    result = (await gateway.execute(token, UPDATE_WS, {"id": workspace["id"], "input": {
        "name": "Front door", "primaryPhoneNumber": US_NUMBER}}))["updateWorkspace"]
    assert result["errors"] == []
    updated = result["workspace"]
    # Fields left out keep their values (the extension).
    assert (updated["status"], updated["version"], updated["name"], updated["extension"]) == (
        "updating", 3, "Front door", "3001")
    await gateway.settle()
    settled = await _workspace(gateway, token, workspace["id"])
    assert settled is not None and (settled["status"], settled["version"]) == ("provisioned", 4)
    [update] = await _events(gateway, token, workspace["id"], ["UPDATE"])
    assert update["action"] == "UPDATE"
    assert {c["field"]: (c["from"], c["to"]) for c in update["changes"]} == {
        "name": ('"Lobby phone"', '"Front door"'), "primaryPhoneNumber": (None, f'"{US_NUMBER}"')}
    # Without `actions`, status changes only (R-AUD-2).
    assert [e["toStatus"] for e in await _events(gateway, token, workspace["id"])] == [
        "provisioning", "provisioned", "updating", "provisioned"]
    # Only a provisioned workspace can be updated.
    await gateway.execute(token, UPDATE_WS, {"id": workspace["id"], "input": {"name": "Hall"}})
    errors = await refused(gateway, token, UPDATE_WS, {"id": workspace["id"], "input": {"name": "Back door"}})
    assert _problems(errors) == [("INVALID_STATE", None)]


async def test_r_ws_2_a_deleted_workspace_is_removed_and_its_last_event_says_so(gateway: Gateway, t: Tenancy) -> None:
    token = gateway.token(t.partner, "full_admin")
    customer = await _customer(gateway, token, t.partner)
    workspace = await _provision(gateway, token, _input(customer["id"]))
    await gateway.settle()
    deleted = (await gateway.execute(token, DELETE_WS, {"id": workspace["id"]}))["deleteWorkspace"]
    assert deleted == {"deletedId": workspace["id"], "errors": []}
    deleting = await _workspace(gateway, token, workspace["id"])
    assert deleting is not None and deleting["status"] == "deleting"
    await gateway.settle()
    assert await _workspace(gateway, token, workspace["id"]) is None
    assert [e["toStatus"] for e in await _events(gateway, token, workspace["id"])][-2:] == ["deleting", "deleted"]
    # Its name and extension are free again.
    await _provision(gateway, token, _input(customer["id"]))


async def test_r_ws_2_workspaces_are_removed_with_their_customer(gateway: Gateway, t: Tenancy) -> None:
    token = gateway.token(t.partner, "full_admin")
    customer = await _customer(gateway, token, t.partner)
    workspace = await _provision(gateway, token, _input(customer["id"]))
    await gateway.settle()
    result = (await gateway.execute(token, DELETE, {"id": customer["id"]}))["deleteCustomer"]
    assert result["errors"] == []
    deleting = await _workspace(gateway, token, workspace["id"])
    assert deleting is not None and deleting["status"] == "deleting"
    await gateway.settle()
    assert await _workspace(gateway, token, workspace["id"]) is None
    assert [e["toStatus"] for e in await _events(gateway, token, workspace["id"])][-1] == "deleted"


async def test_r_ws_1_a_customer_lists_its_workspaces_and_the_package_counts_them(gateway: Gateway,
                                                                                  t: Tenancy) -> None:
    token = gateway.token(t.partner, "full_admin")
    customer = await _customer(gateway, token, t.partner)
    first = await _provision(gateway, token, _input(customer["id"], "Lobby"))
    gateway.clock.advance(timedelta(minutes=1))  # oldest first
    second = await _provision(gateway, token, _input(customer["id"], "Door", extension="3002"))
    page = (await gateway.execute(token, CUSTOMER_WORKSPACES, {"id": customer["id"]}))["customer"]
    connection = page["workspaces"]
    assert connection["totalCount"] == 2 and connection["pageInfo"]["hasNextPage"] is True
    assert [e["node"]["id"] for e in connection["edges"]] == [first["id"]]
    assert {p["name"]: p["assigned"] for p in page["packages"]}["common_area_calling"] == 2
    after = connection["pageInfo"]["endCursor"]
    rest = (await gateway.execute(token, CUSTOMER_WORKSPACES, {"id": customer["id"], "after": after}))["customer"]
    assert [e["node"]["id"] for e in rest["workspaces"]["edges"]] == [second["id"]]


# ---------------------------------------------------------------- R-WS-1: refusals


async def test_r_ws_1_bad_requests_are_refused_with_every_problem_and_write_nothing(gateway: Gateway,
                                                                                   t: Tenancy) -> None:
    token = gateway.token(t.partner, "full_admin")
    customer = await _customer(gateway, token, t.partner)
    errors = await refused(gateway, token, PROVISION_WS, {"input": {
        "customerId": customer["id"], "name": "x" * 81, "extension": "1"}})
    assert _problems(errors) == [("INVALID_EXTENSION", ["input", "extension"]), ("TOO_LONG", ["input", "name"])]
    errors = await refused(gateway, token, PROVISION_WS, {"input": {"customerId": customer["id"], "name": " "}})
    assert _problems(errors) == [("CALLING_NUMBER_REQUIRED", ["input", "primaryPhoneNumber"]),
                                 ("REQUIRED", ["input", "name"])]
    # R-SUB-1 (amended): a German number on a US location.
    errors = await refused(gateway, token, PROVISION_WS, {"input": _input(
        customer["id"], primaryPhoneNumber="+493012345678")})
    assert _problems(errors) == [("INVALID_PHONE_NUMBER", ["input", "primaryPhoneNumber"])]
    errors = await refused(gateway, token, PROVISION_WS, {"input": _input(
        customer["id"], locationId="loc_" + "0" * 24)})
    assert _problems(errors) == [("NOT_FOUND", ["input", "locationId"])]


async def test_r_ws_1_the_customer_must_hold_common_area_calling(gateway: Gateway, t: Tenancy) -> None:
    token = gateway.token(t.partner, "full_admin")
    data = customer_input(await provisioning_id(gateway, t.partner), "NO-CA")
    plain = await provision(gateway, token, data)
    await gateway.settle()
    errors = await refused(gateway, token, PROVISION_WS, {"input": _input(plain["id"])})
    assert _problems(errors) == [("PACKAGE_NOT_ON_CUSTOMER", ["input", "customerId"])]


async def test_r_ws_1_names_are_unique_per_customer_and_the_limit_counts_workspaces(gateway: Gateway,
                                                                                    t: Tenancy) -> None:
    token = gateway.token(t.partner, "full_admin")
    customer = await _customer(gateway, token, t.partner, limit=1)
    await _provision(gateway, token, _input(customer["id"], "Lobby"))
    errors = await refused(gateway, token, PROVISION_WS, {"input": _input(customer["id"], " LOBBY ",
                                                                           extension="3002")})
    assert _problems(errors) == [("NAME_IN_USE", ["input", "name"]),
                                 ("PACKAGE_LIMIT_REACHED", ["input", "customerId"])]
    # Another customer may use the same name.
    other = await _customer(gateway, token, t.partner, "WS-2")
    await _provision(gateway, token, _input(other["id"], "Lobby"))


async def test_r_ws_1_numbers_are_unique_per_customer_across_subscribers_and_workspaces(gateway: Gateway,
                                                                                        t: Tenancy) -> None:
    token = gateway.token(t.partner, "full_admin")
    customer = await _customer(gateway, token, t.partner)
    made = await gateway.execute(token, PROVISION_SUBSCRIBER, {"input": subscriber_input(
        customer["id"], "ada@ws.example", extension="3001")})
    assert made["provisionSubscriber"]["errors"] == []
    errors = await refused(gateway, token, PROVISION_WS, {"input": _input(customer["id"])})
    assert _problems(errors) == [("NUMBER_IN_USE", ["input", "extension"])]
    await _provision(gateway, token, _input(customer["id"], extension="3002", primaryPhoneNumber=US_NUMBER))
    # And the other way round: a subscriber may not take a workspace's number.
    errors = await refused(gateway, token, PROVISION_SUBSCRIBER, {"input": subscriber_input(
        customer["id"], "bob@ws.example", extension="3002")})
    assert _problems(errors) == [("NUMBER_IN_USE", ["input", "extension"])]
    errors = await refused(gateway, token, PROVISION_SUBSCRIBER, {"input": subscriber_input(
        customer["id"], "bob@ws.example", extension="3003", primaryPhoneNumber=US_NUMBER)})
    assert _problems(errors) == [("NUMBER_IN_USE", ["input", "primaryPhoneNumber"])]


async def test_r_ws_1_common_area_calling_cannot_be_removed_while_workspaces_hold_it(gateway: Gateway,
                                                                                     t: Tenancy) -> None:
    token = gateway.token(t.partner, "full_admin")
    customer = await _customer(gateway, token, t.partner)
    await _provision(gateway, token, _input(customer["id"]))
    await gateway.settle()
    errors = await refused(gateway, token, UPDATE, {"id": customer["id"], "input": {"packages": ["webex_calling"]}})
    assert _problems(errors) == [("PACKAGE_IN_USE", ["input", "packages"])]


# ---------------------------------------------------------------- tenancy (R-ORG-4…6) and scopes


async def test_r_org_6_another_tenants_workspace_looks_like_a_missing_one(gateway: Gateway, t: Tenancy) -> None:
    token = gateway.token(t.partner, "full_admin")
    customer = await _customer(gateway, token, t.partner)
    workspace = await _provision(gateway, token, _input(customer["id"]))
    await gateway.settle()
    stranger = gateway.token(t.sub_b, "full_admin")
    assert await _workspace(gateway, stranger, workspace["id"]) is None
    assert (await gateway.execute(stranger, NODE, {"id": workspace["id"]}))["node"] is None
    missing = "wsp_" + "0" * 24
    for target in (workspace["id"], missing):
        errors = await refused(gateway, stranger, UPDATE_WS, {"id": target, "input": {"name": "Mine"}})
        assert _problems(errors) == [("NOT_FOUND", ["id"])]
        errors = await refused(gateway, stranger, DELETE_WS, {"id": target})
        assert _problems(errors) == [("NOT_FOUND", ["id"])]
    errors = await refused(gateway, stranger, PROVISION_WS, {"input": _input(customer["id"])})
    assert _problems(errors) == [("NOT_FOUND", ["input", "customerId"])]


async def test_r_org_4_a_parent_provisions_for_its_sub_partner_which_then_owns_the_workspace(
        gateway: Gateway, t: Tenancy) -> None:
    token = gateway.token(t.partner, "full_admin")
    customer = await _customer(gateway, token, t.sub_a, on_behalf=t.sub_a)
    workspace = await _provision(gateway, token, _input(customer["id"]), on_behalf=t.sub_a)
    assert await _workspace(gateway, gateway.token(t.sub_a, "full_admin"), workspace["id"]) is not None
    # Naming an org that is not one's own sub-partner is refused.
    errors = await refused(gateway, gateway.token(t.sub_a, "full_admin"), PROVISION_WS,
                           {"input": _input(customer["id"], "Door", extension="3002"), "for": t.sub_b})
    assert _problems(errors) == [("NOT_A_SUB_PARTNER", ["onBehalfOfSubPartnerOrgId"])]


async def test_r_org_5_a_suspended_sub_partner_may_only_delete_its_workspaces(gateway: Gateway, t: Tenancy) -> None:
    sub = gateway.token(t.sub_a, "full_admin")
    customer = await _customer(gateway, sub, t.sub_a)
    workspace = await _provision(gateway, sub, _input(customer["id"]))
    await gateway.settle()
    platform = gateway.token(None, "platform_admin")
    suspended = await gateway.execute(platform, SET_STATE, {"id": t.sub_a, "state": "suspended"})
    assert suspended["setSubPartnerState"]["errors"] == []
    errors = await refused(gateway, sub, PROVISION_WS, {"input": _input(customer["id"], "Door", extension="3002")})
    assert _problems(errors) == [("SUB_PARTNER_SUSPENDED", None)]
    errors = await refused(gateway, sub, UPDATE_WS, {"id": workspace["id"], "input": {"name": "Hall"}})
    assert _problems(errors) == [("SUB_PARTNER_SUSPENDED", None)]
    deleted = (await gateway.execute(sub, DELETE_WS, {"id": workspace["id"]}))["deleteWorkspace"]
    assert deleted["errors"] == []


async def test_r_ws_1_writing_workspaces_needs_the_subscribers_write_scope(gateway: Gateway, t: Tenancy) -> None:
    token = gateway.token(t.partner, "full_admin")
    customer = await _customer(gateway, token, t.partner)
    reader = gateway.token(t.partner, "read_only_admin")
    async with gateway.writes_nothing():
        errors = await gateway.errors(reader, PROVISION_WS, {"input": _input(customer["id"])})
    assert errors[0]["extensions"]["code"] == "FORBIDDEN"
    workspace = await _provision(gateway, token, _input(customer["id"]))
    found = await _workspace(gateway, reader, workspace["id"])
    assert found is not None and found["id"] == workspace["id"]
