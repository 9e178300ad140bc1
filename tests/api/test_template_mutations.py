"""createOnboardingTemplate (DOMAIN.md §4, R-TPL-3, R-ORG-4, R-LOC-1); updates and deletion: test_template_lifecycle.

Needs full_admin of a partner or sub-partner (anything else: top-level FORBIDDEN). A parent may
create a template owned by one of its sub-partners (`onBehalfOfSubPartnerOrgId`); naming any other
org is refused with NOT_A_SUB_PARTNER. Validation problems come back in the payload with `template`
null. Every refused call writes nothing.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.conftest import Demo, Gateway

# Tests marked `read_only` (refusals) share one gateway and demo (tests/conftest.py).

TEMPLATE_FIELDS = """
  id provisioningId name country language authMode idpEntityId idpName brandName
  restrictAdminInviteEmailsOnAttach disableWebexCalling1to1 createdAt
  spAdminEmail subscriptionId pstnVendor version owner { id } retiredAt
"""
CREATE_TEMPLATE = f"""
mutation($input: CreateOnboardingTemplateInput!, $onBehalf: ID) {{
  createOnboardingTemplate(input: $input, onBehalfOfSubPartnerOrgId: $onBehalf) {{
    template {{ {TEMPLATE_FIELDS} }}
    errors {{ code message field }}
  }}
}}"""
TEMPLATES = "{ onboardingTemplates(first: 100) { totalCount edges { node { id name provisioningId } } } }"
UNKNOWN_ORG = "ptn_" + "0" * 24


def _input(**overrides: Any) -> dict[str, Any]:
    return {"name": "Retail (Canada)", "country": "CA", "language": "en_CA", **overrides}


def _codes(errors: list[dict[str, Any]]) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in errors]


async def _create(gateway: Gateway, token: str, input: dict[str, Any], on_behalf: str | None = None
                  ) -> dict[str, Any]:
    """A creation that must succeed; returns the template."""
    data = await gateway.execute(token, CREATE_TEMPLATE, {"input": input, "onBehalf": on_behalf})
    payload = data["createOnboardingTemplate"]
    assert payload["errors"] == [], payload
    template: dict[str, Any] = payload["template"]
    return template


async def _refused(gateway: Gateway, token: str, input: dict[str, Any], on_behalf: str | None = None
                   ) -> list[dict[str, Any]]:
    """A creation refused in its payload: asserts `template` is null and nothing was written; returns the errors."""
    async with gateway.writes_nothing():
        data = await gateway.execute(token, CREATE_TEMPLATE, {"input": input, "onBehalf": on_behalf})
    payload = data["createOnboardingTemplate"]
    assert payload["template"] is None, payload
    assert payload["errors"], payload
    assert all(e["message"] for e in payload["errors"]), payload
    errors: list[dict[str, Any]] = payload["errors"]
    return errors


def _problems(errors: list[dict[str, Any]]) -> list[tuple[str, list[str] | None]]:
    return sorted((e["code"], e["field"]) for e in errors)


async def _forbidden(gateway: Gateway, token: str, input: dict[str, Any], on_behalf: str | None = None) -> None:
    async with gateway.writes_nothing():
        body = (await gateway.post(token, CREATE_TEMPLATE, {"input": input, "onBehalf": on_behalf})).json()
    assert _codes(body.get("errors") or []) == ["FORBIDDEN"], body
    assert body.get("data") is None, body


async def _template_names(gateway: Gateway, org: str) -> set[str]:
    data = await gateway.execute(gateway.token(org, "read_only_admin"), TEMPLATES)
    return {e["node"]["name"] for e in data["onboardingTemplates"]["edges"]}


async def _foreign_partner_with_sub_partner(gateway: Gateway) -> tuple[str, str]:
    """Another top-level partner (not the demo's) and its own sub-partner."""
    platform = gateway.token(None, "platform_admin")
    created = await gateway.execute(platform, """
        mutation { createPartner(input: {name: "Elsewhere Telecom", subscriptionId: "Sub-ELSE-1"}) {
          partner { id } errors { code } } }""")
    partner = created["createPartner"]["partner"]["id"]
    sub = await gateway.execute(platform, """
        mutation($p: ID!) { createSubPartner(parentId: $p, input: {name: "Elsewhere Resellers",
          adminEmail: "admin@elsewhere.example"}) { partner { id } errors { code } } }""", {"p": partner})
    return partner, sub["createSubPartner"]["partner"]["id"]


# ---------------------------------------------------------------- creation


async def test_full_admin_partner_creates_a_template_with_defaults(gateway: Gateway, demo: Demo) -> None:
    before = await gateway.snapshot()
    template = await _create(gateway, gateway.token(demo.partner), _input())
    assert template["id"].startswith("tpl_")
    assert {k: v for k, v in template.items() if k not in ("id", "provisioningId")} == {
        "name": "Retail (Canada)", "country": "CA", "language": "en_CA", "authMode": "webex", "idpEntityId": None,
        "idpName": None, "brandName": None, "restrictAdminInviteEmailsOnAttach": False,
        "disableWebexCalling1to1": False, "createdAt": "2026-11-22T09:00:00+00:00",
        "spAdminEmail": None, "subscriptionId": "Sub-DEMO-0001", "pstnVendor": None, "version": 1,
        "owner": {"id": demo.partner}, "retiredAt": None,
    }
    after = await gateway.snapshot()
    added = [d for d in after["templates"] if d not in before["templates"]]
    assert [d["_id"] for d in added] == [template["id"]]
    assert (added[0]["ownerOrgId"], added[0]["rootOrgId"]) == (demo.partner, demo.partner)
    # R-EVT-1: its creation is an event of its own (and the events' counter moved); nothing else was written.
    [event] = [e for e in after["events"] if e not in before["events"]]
    assert (event["entityType"], event["entityId"], event["fromStatus"], event["toStatus"], event["version"]) == (
        "ONBOARDING_TEMPLATE", template["id"], None, "active", 1)
    unchanged = ("templates", "events", "counters")
    assert {k: v for k, v in after.items() if k not in unchanged} == {
        k: v for k, v in before.items() if k not in unchanged}
    assert "Retail (Canada)" in await _template_names(gateway, demo.partner)


async def test_template_keeps_every_optional_setting_given(gateway: Gateway, demo: Demo) -> None:
    template = await _create(gateway, gateway.token(demo.partner), _input(
        name="  Branded  ", country="de", language="de_DE", brandName="Demo Telecom Business",
        restrictAdminInviteEmailsOnAttach=True, disableWebexCalling1to1=True))
    assert (template["name"], template["country"], template["language"]) == ("Branded", "DE", "de_DE")
    assert template["brandName"] == "Demo Telecom Business"
    assert template["restrictAdminInviteEmailsOnAttach"] is True
    assert template["disableWebexCalling1to1"] is True


async def test_sub_partner_creates_its_own_template_visible_only_to_itself(gateway: Gateway, demo: Demo) -> None:
    template = await _create(gateway, gateway.token(demo.sub_a), _input(name="Northwind retail"))
    assert await _template_names(gateway, demo.sub_a) == {"Northwind standard", "Northwind retail"}
    assert "Northwind retail" not in await _template_names(gateway, demo.sub_b)
    assert "Northwind retail" not in await _template_names(gateway, demo.partner)
    node = await gateway.execute(gateway.token(demo.sub_b), "query($id: ID!) { node(id: $id) { id } }",
                                 {"id": template["id"]})
    assert node["node"] is None


async def test_provisioning_id_is_generated_and_unique(gateway: Gateway, demo: Demo) -> None:
    token = gateway.token(demo.partner)
    db = gateway.runtime.db
    assert db is not None
    seeded = len(await db.find("templates", {}))  # the demo's, a retired one included (R-TPL-5)
    created = [await _create(gateway, token, _input(name=f"Template {n}")) for n in range(5)]
    ids = [t["provisioningId"] for t in created]
    for provisioning_id in ids:
        uuid.UUID(provisioning_id)
    every = [d["provisioningId"] for d in await db.find("templates", {})]
    assert len(every) == len(set(every)) == seeded + 5
    assert set(ids) <= set(every)


async def test_r_tpl_3_same_name_twice_for_one_owner_is_name_in_use_and_writes_nothing(
    gateway: Gateway, demo: Demo
) -> None:
    """R-TPL-3 (2026-12): names are unique per owner (NAME_IN_USE); before, a second template of the same name was
    created with a provisioningId of its own. Case and spacing do not make another name."""
    token = gateway.token(demo.partner)
    await _create(gateway, token, _input())
    for name in ("Retail (Canada)", "retail (CANADA)", "  Retail  (Canada) "):
        errors = await _refused(gateway, token, _input(name=name))
        assert _problems(errors) == [("NAME_IN_USE", ["input", "name"])]
    assert sorted(await _template_names(gateway, demo.partner)) == [
        "Enterprise SSO (Europe)", "Retail (Canada)", "Small business (Americas)"]


async def test_r_tpl_3_names_are_unique_per_owner_not_across_owners(gateway: Gateway, demo: Demo) -> None:
    """A sub-partner may use a name its parent (or a sibling) uses, also when its parent creates it for it."""
    await _create(gateway, gateway.token(demo.partner), _input(name="Northwind standard"))
    await _create(gateway, gateway.token(demo.sub_b), _input(name="Northwind standard"))
    errors = await _refused(gateway, gateway.token(demo.partner), _input(name="northwind standard"),
                            on_behalf=demo.sub_a)
    assert _problems(errors) == [("NAME_IN_USE", ["input", "name"])]


async def test_r_tpl_3_the_subscription_is_the_owners_and_a_sub_partners_is_its_parents(
    gateway: Gateway, demo: Demo
) -> None:
    own = await _create(gateway, gateway.token(demo.sub_a), _input(name="Own"))
    for_it = await _create(gateway, gateway.token(demo.partner), _input(name="For it"), on_behalf=demo.sub_a)
    parent = await gateway.execute(gateway.token(demo.partner, "read_only_admin"),
                                   "query($id: ID!) { node(id: $id) { ... on Partner { subscriptionId } } }",
                                   {"id": demo.partner})
    assert own["subscriptionId"] == for_it["subscriptionId"] == parent["node"]["subscriptionId"] == "Sub-DEMO-0001"
    assert (own["owner"], for_it["owner"]) == ({"id": demo.sub_a}, {"id": demo.sub_a})


async def test_r_tpl_3_an_oidc_template_with_every_2026_12_setting(gateway: Gateway, demo: Demo) -> None:
    template = await _create(gateway, gateway.token(demo.partner), _input(
        authMode="partner_oidc", idpName="okta-prod_eu~1.0", spAdminEmail=" Ops@Demo-Telecom.example ",
        pstnVendor=" IntelePeer "))
    assert (template["authMode"], template["idpName"], template["spAdminEmail"], template["pstnVendor"]) == (
        "partner_oidc", "okta-prod_eu~1.0", "Ops@Demo-Telecom.example", "IntelePeer")


@pytest.mark.read_only
@pytest.mark.parametrize(("input", "problems"), [
    pytest.param({"authMode": "partner_oidc"}, [("REQUIRED", ["input", "idpName"])], id="oidc_without_idp_name"),
    pytest.param({"authMode": "partner_oidc", "idpName": "okta prod"}, [("VALIDATION_FAILED", ["input", "idpName"])],
                 id="idp_name_with_a_space"),
    pytest.param({"authMode": "partner_oidc", "idpName": "I" * 129}, [("TOO_LONG", ["input", "idpName"])],
                 id="idp_name_of_129"),
    pytest.param({"authMode": "partner_saml"}, [("REQUIRED", ["input", "idpEntityId"])], id="saml_without_entity_id"),
    pytest.param({"spAdminEmail": "ops"}, [("INVALID_EMAIL", ["input", "spAdminEmail"])], id="sp_admin_email"),
    pytest.param({"pstnVendor": "P" * 101}, [("TOO_LONG", ["input", "pstnVendor"])], id="pstn_vendor_of_101"),
    pytest.param({"name": "Small business (Americas)"}, [("NAME_IN_USE", ["input", "name"])], id="a_demo_name"),
])
async def test_r_tpl_3_refused_settings_come_back_in_the_payload_and_write_nothing(
    gateway: Gateway, demo: Demo, input: dict[str, Any], problems: list[tuple[str, list[str]]]
) -> None:
    errors = await _refused(gateway, gateway.token(demo.partner), _input(**input))
    assert _problems(errors) == problems


# ---------------------------------------------------------------- R-ORG-4: on behalf of a sub-partner


async def test_r_org_4_template_created_on_behalf_of_a_sub_partner_is_owned_by_it(
    gateway: Gateway, demo: Demo
) -> None:
    before = await gateway.snapshot()
    template = await _create(gateway, gateway.token(demo.partner), _input(name="For Northwind"), on_behalf=demo.sub_a)
    assert await _template_names(gateway, demo.sub_a) == {"Northwind standard", "For Northwind"}
    assert await _template_names(gateway, demo.partner) == {"Small business (Americas)", "Enterprise SSO (Europe)"}
    assert "For Northwind" not in await _template_names(gateway, demo.sub_b)
    added = [d for d in (await gateway.snapshot())["templates"] if d not in before["templates"]]
    assert [(d["_id"], d["ownerOrgId"], d["rootOrgId"]) for d in added] == [(template["id"], demo.sub_a, demo.partner)]
    node = await gateway.execute(gateway.token(demo.sub_a), "query($id: ID!) { node(id: $id) { id } }",
                                 {"id": template["id"]})
    assert node["node"] == {"id": template["id"]}


async def test_r_org_4_naming_ones_own_org_as_on_behalf_of_creates_an_own_template(
    gateway: Gateway, demo: Demo
) -> None:
    await _create(gateway, gateway.token(demo.partner), _input(name="Self"), on_behalf=demo.partner)
    assert "Self" in await _template_names(gateway, demo.partner)


async def test_r_org_4_on_behalf_of_another_partners_sub_partner_is_refused_and_nothing_is_written(
    gateway: Gateway, demo: Demo
) -> None:
    _, foreign_sub = await _foreign_partner_with_sub_partner(gateway)
    errors = await _refused(gateway, gateway.token(demo.partner), _input(), on_behalf=foreign_sub)
    assert _problems(errors) == [("NOT_A_SUB_PARTNER", ["onBehalfOfSubPartnerOrgId"])]


async def test_r_org_4_on_behalf_of_another_top_level_partner_is_refused_and_nothing_is_written(
    gateway: Gateway, demo: Demo
) -> None:
    foreign, _ = await _foreign_partner_with_sub_partner(gateway)
    errors = await _refused(gateway, gateway.token(demo.partner), _input(), on_behalf=foreign)
    assert _problems(errors) == [("NOT_A_SUB_PARTNER", ["onBehalfOfSubPartnerOrgId"])]


@pytest.mark.read_only
async def test_r_org_4_sub_partner_on_behalf_of_its_sibling_is_refused_and_nothing_is_written(
    gateway: Gateway, demo: Demo
) -> None:
    errors = await _refused(gateway, gateway.token(demo.sub_a), _input(), on_behalf=demo.sub_b)
    assert _problems(errors) == [("NOT_A_SUB_PARTNER", ["onBehalfOfSubPartnerOrgId"])]


@pytest.mark.read_only
async def test_r_org_4_sub_partner_on_behalf_of_its_parent_is_refused_and_nothing_is_written(
    gateway: Gateway, demo: Demo
) -> None:
    errors = await _refused(gateway, gateway.token(demo.sub_a), _input(), on_behalf=demo.partner)
    assert _problems(errors) == [("NOT_A_SUB_PARTNER", ["onBehalfOfSubPartnerOrgId"])]


async def test_r_org_6_on_behalf_of_a_nonexistent_org_is_refused_exactly_like_a_foreign_one(
    gateway: Gateway, demo: Demo
) -> None:
    foreign, _ = await _foreign_partner_with_sub_partner(gateway)
    token = gateway.token(demo.partner)
    missing = await _refused(gateway, token, _input(), on_behalf=UNKNOWN_ORG)
    existing = await _refused(gateway, token, _input(), on_behalf=foreign)
    assert missing == existing
    assert _problems(missing) == [("NOT_A_SUB_PARTNER", ["onBehalfOfSubPartnerOrgId"])]


# ---------------------------------------------------------------- who may create


@pytest.mark.read_only
async def test_read_only_admin_cannot_create_a_template_and_nothing_is_written(gateway: Gateway, demo: Demo) -> None:
    for org in (demo.partner, demo.sub_a):
        await _forbidden(gateway, gateway.token(org, "read_only_admin"), _input())


@pytest.mark.read_only
async def test_read_only_parent_cannot_create_a_template_on_behalf_of_a_sub_partner(
    gateway: Gateway, demo: Demo
) -> None:
    await _forbidden(gateway, gateway.token(demo.partner, "read_only_admin"), _input(), on_behalf=demo.sub_a)


@pytest.mark.read_only
async def test_platform_roles_cannot_create_a_template_and_nothing_is_written(gateway: Gateway, demo: Demo) -> None:
    for role in ("platform_admin", "compliance_reviewer"):
        await _forbidden(gateway, gateway.token(None, role), _input())


@pytest.mark.read_only
async def test_read_only_admin_is_refused_before_validation(gateway: Gateway, demo: Demo) -> None:
    await _forbidden(gateway, gateway.token(demo.partner, "read_only_admin"),
                     _input(name="", country="XX", language="xx"))


# ---------------------------------------------------------------- validation


async def test_r_loc_3_a_locale_in_any_case_with_a_hyphen_is_stored_as_ll_cc(gateway: Gateway, demo: Demo) -> None:
    template = await _create(gateway, gateway.token(demo.partner), _input(country="US", language="FR-ca"))
    assert template["language"] == "fr_CA"


async def test_partner_saml_with_an_idp_entity_id_is_created(gateway: Gateway, demo: Demo) -> None:
    template = await _create(gateway, gateway.token(demo.partner), _input(
        authMode="partner_saml", idpEntityId="https://idp.example/saml"))
    assert (template["authMode"], template["idpEntityId"], template["idpName"]) == (
        "partner_saml", "https://idp.example/saml", None)


async def test_partner_oidc_with_an_idp_name_is_created(gateway: Gateway, demo: Demo) -> None:
    template = await _create(gateway, gateway.token(demo.partner), _input(authMode="partner_oidc", idpName="Okta"))
    assert (template["authMode"], template["idpEntityId"], template["idpName"]) == ("partner_oidc", None, "Okta")


async def test_name_of_exactly_100_characters_is_accepted(gateway: Gateway, demo: Demo) -> None:
    template = await _create(gateway, gateway.token(demo.partner), _input(name="N" * 100))
    assert template["name"] == "N" * 100


@pytest.mark.read_only
async def test_validation_applies_to_templates_created_on_behalf_of_a_sub_partner(
    gateway: Gateway, demo: Demo
) -> None:
    errors = await _refused(gateway, gateway.token(demo.partner), _input(language="xx"), on_behalf=demo.sub_a)
    assert _problems(errors) == [("INVALID_LOCALE", ["input", "language"])]
