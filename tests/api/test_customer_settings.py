"""A customer's restricted-by-partner settings through the API (DOMAIN.md §5.8: R-RBP-1…3, R-ATT-3), and the demo's
attached customers."""

from __future__ import annotations

from typing import Any

import pytest

from domain.model.entities import AuthMode
from domain.rules.attach import DirectoryOrg
from tests.api.provisioning import (
    DELETE,
    PROVISION_SUBSCRIBER,
    UPDATE,
    customer_input,
    partner_token,
    provision,
    provisioning_id,
    refused,
    subscriber_input,
)
from tests.conftest import Demo, Gateway

pytestmark = pytest.mark.settled_demo

FIELDS = """id status version restrictedByPartnerMode restrictEnterpriseSettings hybrid authMode name
  attach { approvalState partnerAccess } errors { code }"""
SETTINGS = f"""
mutation($id: ID!, $input: CustomerSettingsInput!, $for: ID) {{
  updateCustomerSettings(customerId: $id, input: $input, onBehalfOfSubPartnerOrgId: $for) {{
    customer {{ {FIELDS} }} errors {{ code message field }}
  }}
}}"""
CUSTOMERS = f"""
query($filter: CustomerFilter) {{ customers(filter: $filter, first: 100) {{ edges {{ node {{ {FIELDS} }} }} }} }}"""
ON_BEHALF = ["onBehalfOfSubPartnerOrgId"]


async def _customers(gateway: Gateway, token: str, statuses: list[str] | None = None) -> list[dict[str, Any]]:
    page = (await gateway.execute(token, CUSTOMERS, {"filter": {"status": statuses} if statuses else None}))
    return [e["node"] for e in page["customers"]["edges"]]


async def _one(gateway: Gateway, token: str, statuses: list[str]) -> dict[str, Any]:
    found = await _customers(gateway, token, statuses)
    assert found, statuses
    return found[0]


async def _settings(gateway: Gateway, token: str, customer_id: str, on_behalf: str | None = None,
                    **values: bool) -> dict[str, Any]:
    result: dict[str, Any] = (await gateway.execute(token, SETTINGS, {
        "id": customer_id, "input": values, "for": on_behalf}))["updateCustomerSettings"]
    return result


async def test_r_rbp_1_settings_change_at_once_with_an_update_event(gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    customer = await provision(gateway, token, customer_input(await provisioning_id(gateway, demo.partner)))
    result = await _settings(gateway, token, customer["id"], restrictedByPartnerMode=False)
    assert result["errors"] == []
    changed = result["customer"]
    assert (changed["restrictedByPartnerMode"], changed["version"], changed["status"]) == (
        False, customer["version"] + 1, "provisioning")  # synchronous, in any status but deleting/error
    [event] = await gateway.events(entityId=customer["id"], action="UPDATE")
    assert (event["action"], event["fromStatus"], event["toStatus"], event["version"]) == (
        "UPDATE", "provisioning", "provisioning", changed["version"])
    assert event["changes"] == [{"field": "restrictedByPartnerMode", "from": "true", "to": "false"}]
    assert event["actor"]["kind"] == "USER"


async def test_r_rbp_1_asking_for_what_is_already_set_writes_nothing(gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    customer = next(c for c in await _customers(gateway, token, ["provisioned"]) if c["attach"] is None)
    async with gateway.writes_nothing("an unchanged setting"):
        result = await _settings(gateway, token, customer["id"], restrictedByPartnerMode=True,
                                 restrictEnterpriseSettings=False)
    assert result["errors"] == [] and result["customer"]["version"] == customer["version"]


@pytest.mark.parametrize("status", ["deleting", "error"])
async def test_r_rbp_1_settings_of_a_deleting_or_failed_customer_are_invalid_state(
        gateway: Gateway, demo: Demo, status: str) -> None:
    token = partner_token(gateway, demo)
    if status == "deleting":
        provisioned = await _one(gateway, token, ["provisioned"])
        assert (await gateway.execute(token, DELETE, {"id": provisioned["id"]}))["deleteCustomer"]["errors"] == []
    customer = await _one(gateway, token, [status])
    errors = await refused(gateway, token, SETTINGS, {"id": customer["id"], "input": {
        "restrictedByPartnerMode": False}})
    assert [(e["code"], e["field"]) for e in errors] == [("INVALID_STATE", ["customerId"])]


@pytest.mark.read_only
async def test_r_rbp_3_only_a_hybrid_customer_may_restrict_enterprise_settings(gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    plain = next(c for c in await _customers(gateway, token, ["provisioned"]) if not c["hybrid"])
    errors = await refused(gateway, token, SETTINGS, {"id": plain["id"], "input": {
        "restrictEnterpriseSettings": True}})
    assert [(e["code"], e["field"]) for e in errors] == [
        ("SETTING_NOT_AVAILABLE", ["input", "restrictEnterpriseSettings"])]


async def test_r_rbp_3_a_hybrid_customer_restricts_and_lifts_enterprise_settings(
        gateway: Gateway, demo: Demo) -> None:
    flex = DirectoryOrg(id="org-flex-2", name="Second Flex Org", users=2, flex=True)
    await gateway.repos.org_directory.load([flex])
    token = partner_token(gateway, demo)
    customer = await provision(gateway, token, customer_input(await provisioning_id(gateway, demo.partner),
                                                              orgId=flex.id))
    await gateway.settle()
    on = await _settings(gateway, token, customer["id"], restrictEnterpriseSettings=True)
    assert on["errors"] == [] and (on["customer"]["hybrid"], on["customer"]["restrictEnterpriseSettings"]) == (
        True, True)
    off = await _settings(gateway, token, customer["id"], restrictEnterpriseSettings=False)
    assert off["customer"]["restrictEnterpriseSettings"] is False
    assert off["customer"]["version"] == on["customer"]["version"] + 1


async def test_r_att_3_an_attached_customer_cannot_turn_restricted_mode_on(gateway: Gateway, demo: Demo) -> None:
    """R-ATT-3 / R-RBP-1: attached orgs default to restricted mode off, and it stays off."""
    org = DirectoryOrg(id="org-plain", name="Plain Existing Org", users=2)
    await gateway.repos.org_directory.load([org])
    token = partner_token(gateway, demo)
    customer = await provision(gateway, token, customer_input(await provisioning_id(gateway, demo.partner),
                                                              orgId=org.id))
    errors = await refused(gateway, token, SETTINGS, {"id": customer["id"], "input": {
        "restrictedByPartnerMode": True}})
    assert [(e["code"], e["field"]) for e in errors] == [
        ("SETTING_NOT_AVAILABLE", ["input", "restrictedByPartnerMode"])]


@pytest.mark.read_only
async def test_r_rbp_1_read_only_admins_are_forbidden(gateway: Gateway, demo: Demo) -> None:
    customer = await _one(gateway, partner_token(gateway, demo), ["provisioned"])
    async with gateway.writes_nothing():
        errors = await gateway.errors(gateway.token(demo.partner, "read_only_admin"), SETTINGS, {
            "id": customer["id"], "input": {"restrictedByPartnerMode": False}})
    assert [e["extensions"]["code"] for e in errors] == ["FORBIDDEN"]


@pytest.mark.read_only
async def test_r_rbp_1_another_tenants_customer_is_not_found(gateway: Gateway, demo: Demo) -> None:
    """R-ORG-6: the parent's customer looks to a sub-partner exactly like a missing one."""
    parents = await _one(gateway, partner_token(gateway, demo), ["provisioned"])
    for customer_id in (parents["id"], "cus_nowhere"):
        errors = await refused(gateway, gateway.token(demo.sub_a), SETTINGS, {
            "id": customer_id, "input": {"restrictedByPartnerMode": False}})
        assert [(e["code"], e["field"]) for e in errors] == [("NOT_FOUND", ["customerId"])]


@pytest.mark.read_only
async def test_r_rbp_1_on_behalf_of_sub_partners(gateway: Gateway, demo: Demo) -> None:
    """R-ORG-4: acting for a foreign org is NOT_A_SUB_PARTNER; for a suspended one SUB_PARTNER_SUSPENDED (R-ORG-5)."""
    token = partner_token(gateway, demo)
    own = await _one(gateway, token, ["provisioned"])
    errors = await refused(gateway, gateway.token(demo.sub_a), SETTINGS, {
        "id": own["id"], "input": {"restrictedByPartnerMode": False}, "for": demo.sub_b})
    assert [(e["code"], e["field"]) for e in errors] == [("NOT_A_SUB_PARTNER", ON_BEHALF)]
    suspended = await _one(gateway, gateway.token(demo.sub_b), ["provisioned", "error", "provisioning"])
    errors = await refused(gateway, token, SETTINGS, {
        "id": suspended["id"], "input": {"restrictedByPartnerMode": False}, "for": demo.sub_b})
    assert [(e["code"], e["field"]) for e in errors] == [("SUB_PARTNER_SUSPENDED", ON_BEHALF)]


async def test_r_rbp_1_a_parent_changes_its_sub_partners_customer_on_its_behalf(gateway: Gateway, demo: Demo) -> None:
    own = await _one(gateway, gateway.token(demo.sub_a), ["provisioned"])
    result = await _settings(gateway, partner_token(gateway, demo), own["id"], on_behalf=demo.sub_a,
                             restrictedByPartnerMode=False)
    assert result["errors"] == [] and result["customer"]["restrictedByPartnerMode"] is False


@pytest.mark.read_only
async def test_r_att_2_the_demo_shows_attached_customers_in_each_state(gateway: Gateway, demo: Demo) -> None:
    attached = {c["name"]: c for c in await _customers(gateway, partner_token(gateway, demo)) if c["attach"]}
    summary = {name: (c["status"], c["attach"]["approvalState"]) for name, c in attached.items()}
    assert summary == {
        "Harbor Cafe": ("provisioned", "not_required"),
        "Granite Manufacturing": ("error", "declined"),
        "Aurora Flex Studios": ("provisioned", "not_required"),
        "Summit Health Network": ("pending_customer_approval", "pending"),
    }
    aurora = attached["Aurora Flex Studios"]
    assert (aurora["hybrid"], aurora["restrictEnterpriseSettings"], aurora["authMode"]) == (
        True, True, AuthMode.PARTNER_OIDC.value)
    northwind = {c["name"]: c for c in await _customers(gateway, gateway.token(demo.sub_a)) if c["attach"]}
    assert northwind["Riverside Architects"]["status"] == "provisioned"
    assert northwind["Riverside Architects"]["attach"] == {"approvalState": "approved", "partnerAccess": "FULL_ADMIN"}


async def test_r_rbp_2_restricted_mode_never_restricts_the_partner(gateway: Gateway, demo: Demo) -> None:
    """The flag is for the customer's own admins on the Webex side: with it on (the default), the partner still
    manages the customer's users and packages through the gateway, and the flag stays as set."""
    token = partner_token(gateway, demo)
    customer = await provision(gateway, token, customer_input(await provisioning_id(gateway, demo.partner), "RBP-2"))
    await gateway.settle()
    added = (await gateway.execute(token, PROVISION_SUBSCRIBER, {"input": subscriber_input(
        customer["id"], "rbp2@example.com")}))["provisionSubscriber"]
    assert added["errors"] == []
    await gateway.settle()
    updated = (await gateway.execute(token, UPDATE, {"id": customer["id"], "input": {
        "packages": ["webex_calling", "webex_meetings", "webex_suite"]}}))["updateCustomer"]
    assert updated["errors"] == []
    await gateway.settle()
    after = (await _customers(gateway, token))
    mine = next(c for c in after if c["id"] == customer["id"])
    assert mine["restrictedByPartnerMode"] is True and mine["status"] == "provisioned"
