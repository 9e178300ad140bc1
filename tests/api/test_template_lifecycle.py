"""updateOnboardingTemplate and deleteOnboardingTemplate (DOMAIN.md §4, R-TPL-4, R-TPL-5, R-ORG-4…6, R-EVT-1).

An update changes any setting but provisioningId and subscriptionId, bumps the template's version and is an UPDATE
event with its field changes; customers onboarded before keep what they were onboarded with. Deleting retires the
template: it is listed nowhere, its provisioningId is TEMPLATE_NOT_FOUND, and its customers still show it.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.api.provisioning import PRECHECK, PROVISION, customer_input, provision
from tests.conftest import Demo, Gateway

# The demo as its first settle leaves it: these tests are about templates of their own (tests/conftest.py).
pytestmark = pytest.mark.settled_demo

FIELDS = """id provisioningId name country language authMode idpEntityId idpName brandName spAdminEmail
            subscriptionId pstnVendor restrictAdminInviteEmailsOnAttach disableWebexCalling1to1 version
            owner { id } retiredAt"""
CREATE = f"""
mutation($input: CreateOnboardingTemplateInput!, $for: ID) {{
  createOnboardingTemplate(input: $input, onBehalfOfSubPartnerOrgId: $for) {{
    template {{ {FIELDS} }} errors {{ code message field }} }}
}}"""
UPDATE = f"""
mutation($id: ID!, $input: UpdateOnboardingTemplateInput!, $for: ID) {{
  updateOnboardingTemplate(id: $id, input: $input, onBehalfOfSubPartnerOrgId: $for) {{
    template {{ {FIELDS} }} errors {{ code message field }} }}
}}"""
DELETE = """
mutation($id: ID!, $for: ID) {
  deleteOnboardingTemplate(id: $id, onBehalfOfSubPartnerOrgId: $for) { deletedId errors { code message field } }
}"""
TEMPLATES = "{ onboardingTemplates(first: 100) { totalCount edges { node { id name } } } }"
NODE = f"query($id: ID!) {{ node(id: $id) {{ ... on OnboardingTemplate {{ {FIELDS} }} }} }}"
CUSTOMER = """query($id: ID!) { customer(id: $id) { id authMode language
  template { id name authMode version retiredAt } } }"""
TEMPLATE_EVENTS = """
query {
  provisioningEvents(filter: {entityTypes: [ONBOARDING_TEMPLATE]}, first: 100) {
    edges { node { entityType entityId fromStatus toStatus version template { id name version retiredAt } } }
  }
}"""
MISSING = "tpl_" + "0" * 24
EVERY_ACTION = {"$in": ["STATUS_CHANGE", "UPDATE"]}  # gateway.events() reads status changes only unless told


async def _create(gateway: Gateway, token: str, on_behalf: str | None = None, **input: Any) -> dict[str, Any]:
    data = {"name": "Retail (Canada)", "country": "CA", "language": "en_CA", **input}
    payload = (await gateway.execute(token, CREATE, {"input": data, "for": on_behalf}))["createOnboardingTemplate"]
    assert payload["errors"] == [], payload
    template: dict[str, Any] = payload["template"]
    return template


async def _update(gateway: Gateway, token: str, id: str, on_behalf: str | None = None, **input: Any
                  ) -> dict[str, Any]:
    payload = (await gateway.execute(token, UPDATE, {"id": id, "input": input, "for": on_behalf})
               )["updateOnboardingTemplate"]
    assert payload["errors"] == [], payload
    template: dict[str, Any] = payload["template"]
    return template


async def _refused(gateway: Gateway, token: str, query: str, variables: dict[str, Any]
                   ) -> list[tuple[str, list[str] | None]]:
    """A mutation refused in its payload that wrote nothing: its (code, field) pairs, sorted."""
    async with gateway.writes_nothing():
        data = await gateway.execute(token, query, variables)
    payload = next(iter(data.values()))
    assert payload["errors"] and all(e["message"] for e in payload["errors"]), payload
    assert all(v is None for k, v in payload.items() if k != "errors"), payload
    return sorted((e["code"], e["field"]) for e in payload["errors"])


async def _forbidden(gateway: Gateway, token: str, query: str, variables: dict[str, Any]) -> None:
    async with gateway.writes_nothing():
        body = (await gateway.post(token, query, variables)).json()
    assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"], body
    assert body.get("data") is None, body


async def _listed(gateway: Gateway, org: str) -> set[str]:
    data = await gateway.execute(gateway.token(org, "read_only_admin"), TEMPLATES)
    return {e["node"]["id"] for e in data["onboardingTemplates"]["edges"]}


def _new_customer(provisioning_id: str, external_id: str) -> dict[str, Any]:
    """A request that takes its language from the template (no customerInfo.language)."""
    data = customer_input(provisioning_id, external_id)
    data["customerInfo"] = {"name": f"Customer {external_id}", "primaryEmail": "it@customer.example"}
    return data


async def _hq_pstn_vendor(gateway: Gateway, customer_id: str) -> str | None:
    """The PSTN vendor stored on the customer's headquarters location (not shown by the API yet)."""
    locations = (await gateway.repos.locations.by_customers([customer_id]))[customer_id]
    [hq] = [d for d in locations if d["isHeadquarters"]]
    vendor: str | None = hq.get("pstnVendor")
    return vendor


# ---------------------------------------------------------------- R-TPL-4: updates


async def test_r_tpl_4_an_update_changes_the_named_settings_bumps_the_version_and_is_an_update_event(
    gateway: Gateway, demo: Demo
) -> None:
    token = gateway.token(demo.partner)
    created = await _create(gateway, token, pstnVendor="IntelePeer")
    updated = await _update(gateway, token, created["id"], name="Retail (Canada) 2027", authMode="partner_oidc",
                            idpName="okta-ca", spAdminEmail="ops@demo-telecom.example", pstnVendor="",
                            disableWebexCalling1to1=True)
    assert updated == {**created, "name": "Retail (Canada) 2027", "authMode": "partner_oidc", "idpName": "okta-ca",
                       "spAdminEmail": "ops@demo-telecom.example", "pstnVendor": None,
                       "disableWebexCalling1to1": True, "version": 2}
    node = await gateway.execute(gateway.token(demo.partner, "read_only_admin"), NODE, {"id": created["id"]})
    assert node["node"] == updated

    events = await gateway.events(entityId=created["id"], action=EVERY_ACTION)
    assert [(e["action"], e["fromStatus"], e["toStatus"], e["version"]) for e in events] == [
        ("STATUS_CHANGE", None, "active", 1), ("UPDATE", "active", "active", 2)]
    assert events[1]["entityType"] == "ONBOARDING_TEMPLATE"
    assert [(c["field"], c["from"], c["to"]) for c in events[1]["changes"]] == [
        ("name", json.dumps("Retail (Canada)"), json.dumps("Retail (Canada) 2027")),
        ("authMode", json.dumps("webex"), json.dumps("partner_oidc")),
        ("idpName", None, json.dumps("okta-ca")),
        ("disableWebexCalling1to1", "false", "true"),
        ("spAdminEmail", None, json.dumps("ops@demo-telecom.example")),
        ("pstnVendor", json.dumps("IntelePeer"), None),
    ]


async def test_r_tpl_4_an_update_that_changes_nothing_writes_nothing(gateway: Gateway, demo: Demo) -> None:
    token = gateway.token(demo.partner)
    created = await _create(gateway, token)
    async with gateway.writes_nothing("an update that changes nothing"):
        same = await _update(gateway, token, created["id"], name=" Retail (Canada) ", country="ca", language="en-CA")
    assert same == created


async def test_r_tpl_4_customers_onboarded_before_an_update_keep_what_they_were_onboarded_with(
    gateway: Gateway, demo: Demo
) -> None:
    """R-TPL-2 generalised: authentication mode and language are the customer's own from onboarding on, and the
    PSTN vendor is set on a new customer's headquarters only."""
    token = gateway.token(demo.partner)
    template = await _create(gateway, token, country="US", language="en_US", pstnVendor="IntelePeer")
    before = await provision(gateway, token, _new_customer(template["provisioningId"], "TPL4-BEFORE"))
    await gateway.settle()
    await _update(gateway, token, template["id"], authMode="partner_saml", idpEntityId="https://idp.example/saml",
                  language="es_MX", pstnVendor="Bandwidth")
    after = await provision(gateway, token, _new_customer(template["provisioningId"], "TPL4-AFTER"))
    await gateway.settle()

    reader = gateway.token(demo.partner, "read_only_admin")
    old = (await gateway.execute(reader, CUSTOMER, {"id": before["id"]}))["customer"]
    new = (await gateway.execute(reader, CUSTOMER, {"id": after["id"]}))["customer"]
    assert (old["authMode"], old["language"]) == ("webex", "en_US")
    assert (new["authMode"], new["language"]) == ("partner_saml", "es_MX")
    assert old["template"] == new["template"] == {"id": template["id"], "name": "Retail (Canada)",
                                                  "authMode": "partner_saml", "version": 2, "retiredAt": None}
    assert await _hq_pstn_vendor(gateway, before["id"]) == "IntelePeer"
    assert await _hq_pstn_vendor(gateway, after["id"]) == "Bandwidth"


async def test_r_tpl_4_provisioning_id_and_subscription_id_cannot_be_given(gateway: Gateway, demo: Demo) -> None:
    created = await _create(gateway, gateway.token(demo.partner))
    for field in ("provisioningId", "subscriptionId"):
        async with gateway.writes_nothing():
            errors = await gateway.errors(gateway.token(demo.partner), UPDATE,
                                          {"id": created["id"], "input": {field: "changed"}})
        assert errors and field in errors[0]["message"], errors


async def test_r_tpl_4_update_refusals_come_back_in_the_payload_and_write_nothing(gateway: Gateway, demo: Demo
                                                                                  ) -> None:
    token = gateway.token(demo.partner)
    created = await _create(gateway, token, authMode="partner_saml", idpEntityId="https://idp.example/saml")

    async def refused(**input: Any) -> list[tuple[str, list[str] | None]]:
        return await _refused(gateway, token, UPDATE, {"id": created["id"], "input": input})

    assert await refused(name="small BUSINESS (americas)") == [("NAME_IN_USE", ["input", "name"])]
    assert await refused(authMode="partner_oidc") == [("REQUIRED", ["input", "idpName"])]
    assert await refused(authMode="webex", idpEntityId="https://idp.example/saml") == [
        ("VALIDATION_FAILED", ["input", "idpEntityId"])]
    assert await refused(country="XX", language="xx", spAdminEmail="ops", idpName="okta") == [
        ("INVALID_COUNTRY", ["input", "country"]), ("INVALID_EMAIL", ["input", "spAdminEmail"]),
        ("INVALID_LOCALE", ["input", "language"]), ("VALIDATION_FAILED", ["input", "idpName"])]
    # Its own name, in another case, is not "in use".
    assert (await _update(gateway, token, created["id"], name="RETAIL (CANADA)"))["name"] == "RETAIL (CANADA)"


async def test_r_org_6_another_tenants_template_is_not_found_exactly_like_a_missing_one(
    gateway: Gateway, demo: Demo
) -> None:
    sub_a_template = await _create(gateway, gateway.token(demo.sub_a), name="Northwind 2")
    made = await gateway.execute(gateway.token(None, "platform_admin"), """mutation {
        createPartner(input: {name: "Elsewhere Telecom", subscriptionId: "Sub-ELSE-1"}) { partner { id } } }""")
    foreign = made["createPartner"]["partner"]["id"]
    # Its parent acting for itself, another top-level partner, and (deleting: allowed while suspended) a sibling.
    for token in (gateway.token(demo.partner), gateway.token(foreign)):
        for id in (sub_a_template["id"], MISSING):
            assert await _refused(gateway, token, UPDATE, {"id": id, "input": {"name": "Mine"}}) == [
                ("NOT_FOUND", ["id"])]
    for token in (gateway.token(demo.partner), gateway.token(foreign), gateway.token(demo.sub_b)):
        for id in (sub_a_template["id"], MISSING):
            assert await _refused(gateway, token, DELETE, {"id": id}) == [("NOT_FOUND", ["id"])]


async def test_r_org_4_a_parent_updates_and_deletes_its_sub_partners_template_on_its_behalf(
    gateway: Gateway, demo: Demo
) -> None:
    parent = gateway.token(demo.partner)
    created = await _create(gateway, gateway.token(demo.sub_a), name="Northwind 2")
    updated = await _update(gateway, parent, created["id"], on_behalf=demo.sub_a, brandName="Northwind Voice")
    assert (updated["brandName"], updated["owner"], updated["version"]) == ("Northwind Voice", {"id": demo.sub_a}, 2)
    deleted = await gateway.execute(parent, DELETE, {"id": created["id"], "for": demo.sub_a})
    assert deleted["deleteOnboardingTemplate"] == {"deletedId": created["id"], "errors": []}
    [update_event, retire_event] = (await gateway.events(entityId=created["id"], action=EVERY_ACTION))[1:]
    assert update_event["actor"]["orgId"] == retire_event["actor"]["orgId"] == demo.partner
    assert (retire_event["ownerOrgId"], retire_event["rootOrgId"]) == (demo.sub_a, demo.partner)


async def test_r_org_4_acting_for_an_org_that_is_not_ones_sub_partner_is_refused(gateway: Gateway, demo: Demo
                                                                                  ) -> None:
    created = await _create(gateway, gateway.token(demo.sub_a), name="Northwind 2")
    sibling = gateway.token(demo.sub_b)
    for org in (demo.sub_a, demo.partner):
        assert await _refused(gateway, sibling, UPDATE, {"id": created["id"], "input": {"name": "X"}, "for": org}) \
            == [("NOT_A_SUB_PARTNER", ["onBehalfOfSubPartnerOrgId"])]
        assert await _refused(gateway, sibling, DELETE, {"id": created["id"], "for": org}) == [
            ("NOT_A_SUB_PARTNER", ["onBehalfOfSubPartnerOrgId"])]


async def test_r_org_5_a_suspended_sub_partner_may_delete_its_template_but_not_update_it(
    gateway: Gateway, demo: Demo
) -> None:
    """The demo's sub-partner B (Contoso) is suspended; its parent acting for it is refused the same way."""
    db = gateway.runtime.db
    assert db is not None
    [contoso] = await db.find("templates", {"ownerOrgId": demo.sub_b})
    own, parent = gateway.token(demo.sub_b), gateway.token(demo.partner)
    assert await _refused(gateway, own, UPDATE, {"id": contoso["_id"], "input": {"name": "X"}}) == [
        ("SUB_PARTNER_SUSPENDED", None)]
    assert await _refused(gateway, parent, UPDATE, {"id": contoso["_id"], "input": {"name": "X"},
                                                    "for": demo.sub_b}) == [
        ("SUB_PARTNER_SUSPENDED", ["onBehalfOfSubPartnerOrgId"])]
    deleted = await gateway.execute(own, DELETE, {"id": contoso["_id"]})
    assert deleted["deleteOnboardingTemplate"] == {"deletedId": contoso["_id"], "errors": []}


@pytest.mark.parametrize("role", ["read_only_admin", "platform_admin", "compliance_reviewer"])
async def test_only_a_full_admin_may_update_or_delete_a_template(gateway: Gateway, demo: Demo, role: str) -> None:
    created = await _create(gateway, gateway.token(demo.partner))
    token = gateway.token(None if role != "read_only_admin" else demo.partner, role)
    await _forbidden(gateway, token, UPDATE, {"id": created["id"], "input": {"name": "X"}})
    await _forbidden(gateway, token, DELETE, {"id": created["id"]})
    if role == "read_only_admin":
        await _forbidden(gateway, token, UPDATE, {"id": created["id"], "input": {"name": "X"}, "for": demo.sub_a})


# ---------------------------------------------------------------- R-TPL-5: deletion retires


async def test_r_tpl_5_a_deleted_template_is_listed_nowhere_and_its_provisioning_id_is_template_not_found(
    gateway: Gateway, demo: Demo
) -> None:
    token = gateway.token(demo.partner)
    created = await _create(gateway, token, country="US", language="en_US")
    assert created["id"] in await _listed(gateway, demo.partner)
    deleted = await gateway.execute(token, DELETE, {"id": created["id"]})
    assert deleted["deleteOnboardingTemplate"] == {"deletedId": created["id"], "errors": []}

    assert created["id"] not in await _listed(gateway, demo.partner)
    request = _new_customer(created["provisioningId"], "TPL5-LATE")
    assert await _refused(gateway, token, PROVISION, {"input": request}) == [
        ("TEMPLATE_NOT_FOUND", ["input", "provisioningId"])]
    async with gateway.writes_nothing("a precheck"):
        precheck = (await gateway.execute(token, PRECHECK, {"input": request}))["precheckCustomerProvisioning"]
    assert (precheck["ok"], [(e["code"], e["field"]) for e in precheck["errors"]]) == (
        False, [("TEMPLATE_NOT_FOUND", ["input", "provisioningId"])])
    # Gone for changes too: a second delete or an update is NOT_FOUND.
    assert await _refused(gateway, token, DELETE, {"id": created["id"]}) == [("NOT_FOUND", ["id"])]
    assert await _refused(gateway, token, UPDATE, {"id": created["id"], "input": {"name": "X"}}) == [
        ("NOT_FOUND", ["id"])]


async def test_r_tpl_5_customers_onboarded_with_a_deleted_template_still_show_it(gateway: Gateway, demo: Demo
                                                                                 ) -> None:
    token = gateway.token(demo.partner)
    created = await _create(gateway, token, country="US", language="en_US")
    customer = await provision(gateway, token, _new_customer(created["provisioningId"], "TPL5-KEPT"))
    await gateway.settle()
    await gateway.execute(token, DELETE, {"id": created["id"]})
    shown = (await gateway.execute(gateway.token(demo.partner, "read_only_admin"), CUSTOMER, {"id": customer["id"]})
             )["customer"]
    assert shown["template"] == {"id": created["id"], "name": "Retail (Canada)", "authMode": "webex", "version": 2,
                                 "retiredAt": "2026-11-22T09:00:00+00:00"}


async def test_r_tpl_5_a_deleted_templates_name_may_be_used_again(gateway: Gateway, demo: Demo) -> None:
    token = gateway.token(demo.partner)
    first = await _create(gateway, token)
    await gateway.execute(token, DELETE, {"id": first["id"]})
    second = await _create(gateway, token)
    assert second["id"] != first["id"] and second["name"] == first["name"]


async def test_r_evt_1_a_templates_events_creation_update_and_deletion_with_the_template_on_each(
    gateway: Gateway, demo: Demo
) -> None:
    """R-TPL-5: ONBOARDING_TEMPLATE events; `ProvisioningEvent.template` resolves also once it is deleted."""
    token = gateway.token(demo.partner)
    created = await _create(gateway, token)
    await _update(gateway, token, created["id"], brandName="Demo Telecom")
    await gateway.execute(token, DELETE, {"id": created["id"]})
    stored = await gateway.events(entityId=created["id"], action=EVERY_ACTION)
    assert [(e["entityType"], e["action"], e["fromStatus"], e["toStatus"], e["version"]) for e in stored] == [
        ("ONBOARDING_TEMPLATE", "STATUS_CHANGE", None, "active", 1),
        ("ONBOARDING_TEMPLATE", "UPDATE", "active", "active", 2),
        ("ONBOARDING_TEMPLATE", "STATUS_CHANGE", "active", "deleted", 3),
    ]
    assert all(e["customerId"] is None for e in stored)
    edges = (await gateway.execute(gateway.token(demo.partner, "read_only_admin"), TEMPLATE_EVENTS)
             )["provisioningEvents"]["edges"]
    shown = [e["node"] for e in edges if e["node"]["entityId"] == created["id"]]
    assert {(e["fromStatus"], e["toStatus"]) for e in shown} >= {(None, "active"), ("active", "deleted")}
    assert all(e["template"] == {"id": created["id"], "name": "Retail (Canada)", "version": 3,
                                 "retiredAt": "2026-11-22T09:00:00+00:00"} for e in shown)
    # Another tenant sees neither the events nor the template.
    sibling = (await gateway.execute(gateway.token(demo.sub_a, "read_only_admin"), TEMPLATE_EVENTS)
               )["provisioningEvents"]["edges"]
    assert created["id"] not in {e["node"]["entityId"] for e in sibling}


# ---------------------------------------------------------------- the demo (gateway/demo_extras/templates.py)


@pytest.mark.read_only
async def test_r_tpl_5_the_demos_retired_template_is_listed_nowhere_while_its_customer_still_shows_it(
    gateway: Gateway, demo: Demo
) -> None:
    db = gateway.runtime.db
    assert db is not None
    [bakery] = await db.find("customers", {"externalId": "TPL-PILOT-1", "ownerOrgId": demo.partner})
    reader = gateway.token(demo.partner, "read_only_admin")
    shown = (await gateway.execute(reader, CUSTOMER, {"id": bakery["_id"]}))["customer"]
    assert shown["template"]["name"] == "Retail pilot (Canada)" and shown["template"]["retiredAt"] is not None
    listed = (await gateway.execute(reader, TEMPLATES))["onboardingTemplates"]["edges"]
    assert shown["template"]["id"] not in {e["node"]["id"] for e in listed}


@pytest.mark.read_only
async def test_r_tpl_4_the_demos_oidc_template_left_its_customers_on_webex(gateway: Gateway, demo: Demo) -> None:
    """Contoso's template was switched to partner_oidc after its customers were onboarded with webex."""
    db = gateway.runtime.db
    assert db is not None
    [contoso] = await db.find("templates", {"ownerOrgId": demo.sub_b})
    assert (contoso["authMode"], contoso["idpName"], contoso["version"]) == ("partner_oidc", "contoso-entra.prod", 2)
    onboarded = await db.find("customers", {"templateId": contoso["_id"]})
    assert onboarded and {c["authMode"] for c in onboarded} == {"webex"}
