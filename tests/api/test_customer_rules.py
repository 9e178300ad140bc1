"""Customer provisioning rules through the public API (DOMAIN.md §1, §3, §4, §5, §11).

provisionCustomer / updateCustomer / deleteCustomer answer at once (R-CUS-1) and the queue is moved
on explicitly with `gateway.settle()`. A refused request comes back with payload errors, a null
customer and no write at all (`refused` checks every collection before and after).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.api.provisioning import (
    CUSTOMER,
    DELETE,
    PRECHECK,
    PROVISION,
    PROVISION_SUBSCRIBER,
    SUBSCRIBER,
    UPDATE,
    current,
    customer_input,
    partner_token,
    provision,
    provisioning_id,
    refused,
    subscriber_input,
)
from tests.conftest import NOW, Demo, Gateway

# The demo as its first settle leaves it: these tests are about customers of their own; the refusals on the demo
# data (marked `read_only`) share one gateway (tests/conftest.py).
pytestmark = pytest.mark.settled_demo

TODAY = NOW.date()
MISSING_CUSTOMER = "cus_" + "0" * 24

DETAILS = """
query($id: ID!) {
  customer(id: $id) {
    id status language meetingsSiteLocale billingStartDate authMode
    defaultCallInNumber { region countryCode country }
    template { id authMode }
    owner { id }
    address { addressLine1 country }
  }
}"""
CUSTOMERS = """
query($filter: CustomerFilter) {
  customers(filter: $filter, first: 100) {
    totalCount edges { node { id externalId status owner { id } } }
  }
}"""
CREATE_PARTNER = """
mutation($input: CreatePartnerInput!) {
  createPartner(input: $input) { partner { id delayedBillingEnabled } errors { code message field } }
}"""
CREATE_TEMPLATE = """
mutation($input: CreateOnboardingTemplateInput!) {
  createOnboardingTemplate(input: $input) { template { id provisioningId authMode } errors { code message field } }
}"""
SET_STATE = """
mutation($id: ID!, $state: SubPartnerState!) {
  setSubPartnerState(id: $id, state: $state) { partner { id provisioningState } errors { code message field } }
}"""

CALLING_AND_MEETINGS = ["webex_calling", "webex_meetings"]
PACKAGES = ["input", "packages"]
LIMITS = ["input", "provisioningParameters", "limits"]
BILLING_START = ["input", "billingStartDate"]
ON_BEHALF = ["onBehalfOfSubPartnerOrgId"]


# ---------------------------------------------------------------- helpers


def _problems(errors: list[dict[str, Any]]) -> list[tuple[str, list[str] | None]]:
    return sorted(((e["code"], e["field"]) for e in errors), key=repr)


def _codes(errors: list[dict[str, Any]]) -> list[str]:
    return sorted(e["code"] for e in errors)


def _day(offset: int) -> str:
    return (TODAY + timedelta(days=offset)).isoformat()


def _meetings_only(provisioning: str, external_id: str = "MEET-1", *, country: str = "US",
                   language: str | None = None, **overrides: Any) -> dict[str, Any]:
    """A valid request with only webex_meetings: no calling location needed."""
    info: dict[str, Any] = {"name": f"Meeting House {external_id}", "primaryEmail": "it@meeting-house.example"}
    if language is not None:
        info["language"] = language
    data = customer_input(provisioning, external_id, packages=["webex_meetings"],
                          address={"addressLine1": "5 Market Square", "city": "Somewhere", "country": country},
                          customerInfo=info, provisioningParameters={"meetingsTimezone": "Europe/Berlin"})
    data.update(overrides)
    return data


def _with_params(data: dict[str, Any], **params: Any) -> dict[str, Any]:
    data["provisioningParameters"] = {**data["provisioningParameters"], **params}
    return data


async def _details(gateway: Gateway, token: str, customer_id: str) -> dict[str, Any]:
    customer: dict[str, Any] = (await gateway.execute(token, DETAILS, {"id": customer_id}))["customer"]
    return customer


async def _provisioned(gateway: Gateway, token: str, data: dict[str, Any], on_behalf: str | None = None
                       ) -> dict[str, Any]:
    """Provision a customer and settle the queue; it must end `provisioned`."""
    created = await provision(gateway, token, data, on_behalf)
    await gateway.settle()
    settled = await current(gateway, token, created["id"])
    assert settled["status"] == "provisioned", settled
    return settled


async def _update(gateway: Gateway, token: str, customer_id: str, input: dict[str, Any],
                  on_behalf: str | None = None) -> dict[str, Any]:
    """An update that must be accepted; returns the customer as answered."""
    data = await gateway.execute(token, UPDATE, {"id": customer_id, "input": input, "for": on_behalf})
    payload = data["updateCustomer"]
    assert payload["errors"] == [], payload
    customer: dict[str, Any] = payload["customer"]
    return customer


async def _delete(gateway: Gateway, token: str, customer_id: str, on_behalf: str | None = None) -> dict[str, Any]:
    data = await gateway.execute(token, DELETE, {"id": customer_id, "for": on_behalf})
    payload = data["deleteCustomer"]
    assert payload["errors"] == [], payload
    customer: dict[str, Any] = payload["customer"]
    return customer


async def _subscriber(gateway: Gateway, token: str, customer_id: str, email: str, **overrides: Any
                      ) -> dict[str, Any]:
    data = await gateway.execute(token, PROVISION_SUBSCRIBER, {"input": subscriber_input(customer_id, email,
                                                                                          **overrides)})
    payload = data["provisionSubscriber"]
    assert payload["errors"] == [], payload
    subscriber: dict[str, Any] = payload["subscriber"]
    return subscriber


def _package_states(customer: dict[str, Any]) -> dict[str, str]:
    return {p["name"]: p["status"] for p in customer["packages"]}


def _transitions(events: list[dict[str, Any]], entity_type: str) -> list[tuple[str | None, str]]:
    return [(e["fromStatus"], e["toStatus"]) for e in events if e["entityType"] == entity_type]


async def _partner_without_delayed_billing(gateway: Gateway) -> tuple[str, str]:
    """A new top-level partner (delayed billing off) with one template: (partner id, provisioningId)."""
    platform = gateway.token(None, "platform_admin")
    created = await gateway.execute(platform, CREATE_PARTNER, {"input": {
        "name": "Plain Billing Telecom", "subscriptionId": "Sub-PLAIN-1"}})
    assert created["createPartner"]["errors"] == [], created
    partner = created["createPartner"]["partner"]
    assert partner["delayedBillingEnabled"] is False
    template = await gateway.execute(gateway.token(partner["id"], "full_admin"), CREATE_TEMPLATE, {"input": {
        "name": "Plain (US)", "country": "US", "language": "en_US"}})
    assert template["createOnboardingTemplate"]["errors"] == [], template
    return partner["id"], template["createOnboardingTemplate"]["template"]["provisioningId"]


async def _template_of(gateway: Gateway, owner: str, country: str) -> str:
    """The provisioningId of `owner`'s template for `country` (the demo partner has US and DE)."""
    db = gateway.runtime.db
    assert db is not None
    docs = await db.find("templates", {"ownerOrgId": owner, "country": country})
    assert len(docs) == 1, docs
    return str(docs[0]["provisioningId"])


async def _one_customer(gateway: Gateway, token: str, statuses: list[str]) -> dict[str, Any]:
    page = (await gateway.execute(token, CUSTOMERS, {"filter": {"status": statuses}}))["customers"]
    assert page["edges"], page
    node: dict[str, Any] = page["edges"][0]["node"]
    return node


# ---------------------------------------------------------------- R-CUS-1: asynchronous provisioning


async def test_r_cus_1_provision_answers_provisioning_at_once(gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    before = await gateway.snapshot()
    customer = await provision(gateway, token, customer_input(await provisioning_id(gateway, demo.partner)))
    assert customer["status"] == "provisioning"
    assert customer["version"] == 1
    assert customer["orgId"] is None
    assert customer["owner"] == {"id": demo.partner}
    assert _package_states(customer) == {"webex_calling": "provisioning", "webex_meetings": "provisioning"}
    after = await gateway.snapshot()
    assert [d["_id"] for d in after["customers"] if d not in before["customers"]] == [customer["id"]]
    assert len(after["locations"]) == len(before["locations"]) + 1
    assert len(after["jobs"]) == len(before["jobs"]) + 1
    # Nothing moved on by itself: the answer is also the stored state until the queue runs.
    assert (await current(gateway, token, customer["id"]))["status"] == "provisioning"


async def test_r_cus_1_settled_customer_is_provisioned_with_an_org_id(gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    customer = await provision(gateway, token, customer_input(await provisioning_id(gateway, demo.partner)))
    await gateway.settle()
    settled = await current(gateway, token, customer["id"])
    assert settled["status"] == "provisioned"
    assert settled["orgId"]
    assert settled["version"] > 1
    assert settled["errors"] == []
    assert _package_states(settled) == {"webex_calling": "provisioned", "webex_meetings": "provisioned"}
    assert [loc["isHeadquarters"] for loc in settled["locations"]] == [True]


async def test_r_cus_1_status_changes_are_recorded_as_events(gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    customer = await provision(gateway, token, customer_input(await provisioning_id(gateway, demo.partner)))
    assert _transitions(await gateway.events(entityId=customer["id"]), "CUSTOMER") == [(None, "provisioning")]
    await gateway.settle()
    events = await gateway.events(entityId=customer["id"])
    assert _transitions(events, "CUSTOMER") == [(None, "provisioning"), ("provisioning", "provisioned")]
    assert all(e["ownerOrgId"] == demo.partner for e in events)
    packages = await gateway.events(customerId=customer["id"], entityType="CUSTOMER_PACKAGE")
    for name in CALLING_AND_MEETINGS:
        assert _transitions([e for e in packages if e["entityId"] == f"{customer['id']}:{name}"],
                            "CUSTOMER_PACKAGE") == [(None, "provisioning"), ("provisioning", "provisioned")]


@pytest.mark.read_only
async def test_r_cus_1_refused_request_writes_nothing(gateway: Gateway, demo: Demo) -> None:
    data = customer_input(await provisioning_id(gateway, demo.partner), "EXT-1000")  # a demo customer's id
    errors = await refused(gateway, partner_token(gateway, demo), PROVISION, {"input": data})
    assert _problems(errors) == [("DUPLICATE_EXTERNAL_ID", ["input", "externalId"])]
    page = await gateway.execute(partner_token(gateway, demo), CUSTOMERS, {"filter": {"externalId": "EXT-1000"}})
    assert page["customers"]["totalCount"] == 1


# ---------------------------------------------------------------- R-CUS-STATE


async def test_r_cus_state_update_of_a_customer_still_provisioning_is_invalid_state(
    gateway: Gateway, demo: Demo
) -> None:
    token = partner_token(gateway, demo)
    customer = await provision(gateway, token, customer_input(await provisioning_id(gateway, demo.partner)))
    errors = await refused(gateway, token, UPDATE, {"id": customer["id"], "input": {"packages": ["webex_calling"]}})
    assert _codes(errors) == ["INVALID_STATE"]


async def test_r_cus_state_second_delete_is_invalid_state(gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    customer = await _provisioned(gateway, token, customer_input(await provisioning_id(gateway, demo.partner)))
    await _delete(gateway, token, customer["id"])
    errors = await refused(gateway, token, DELETE, {"id": customer["id"]})
    assert _codes(errors) == ["INVALID_STATE"]


async def test_r_cus_state_update_after_delete_is_invalid_state(gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    customer = await _provisioned(gateway, token, customer_input(await provisioning_id(gateway, demo.partner)))
    await _delete(gateway, token, customer["id"])
    errors = await refused(gateway, token, UPDATE, {"id": customer["id"], "input": {"packages": CALLING_AND_MEETINGS}})
    assert _codes(errors) == ["INVALID_STATE"]


async def test_r_cus_state_update_of_a_provisioned_customer_moves_it_to_updating(gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    customer = await _provisioned(gateway, token, customer_input(await provisioning_id(gateway, demo.partner)))
    updated = await _update(gateway, token, customer["id"], {"packages": CALLING_AND_MEETINGS})
    assert updated["status"] == "updating"
    assert updated["version"] == customer["version"] + 1
    await gateway.settle()
    settled = await current(gateway, token, customer["id"])
    assert settled["status"] == "provisioned"
    events = await gateway.events(entityId=customer["id"])
    assert _transitions(events, "CUSTOMER")[-2:] == [("provisioned", "updating"), ("updating", "provisioned")]


# ---------------------------------------------------------------- R-CUS-2: update replaces the package list


async def test_r_cus_2_update_replaces_the_whole_package_list(gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    customer = await _provisioned(gateway, token, customer_input(await provisioning_id(gateway, demo.partner)))
    updated = await _update(gateway, token, customer["id"], {"packages": ["webex_calling", "webex_suite"]})
    assert _package_states(updated) == {"webex_calling": "provisioned", "webex_suite": "provisioning",
                                        "webex_meetings": "deleting"}
    await gateway.settle()
    settled = await current(gateway, token, customer["id"])
    assert settled["status"] == "provisioned"
    assert _package_states(settled) == {"webex_calling": "provisioned", "webex_suite": "provisioned"}
    removed = await gateway.events(entityId=f"{customer['id']}:webex_meetings")
    assert _transitions(removed, "CUSTOMER_PACKAGE")[-1][1] == "deleted"


async def test_r_cus_2_removing_a_package_a_subscriber_holds_is_package_in_use(gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    customer = await _provisioned(gateway, token, customer_input(await provisioning_id(gateway, demo.partner)))
    subscriber = await _subscriber(gateway, token, customer["id"], "ada@springfield.example")
    await gateway.settle()
    held = await gateway.execute(token, SUBSCRIBER, {"id": subscriber["id"]})
    assert held["subscriber"]["status"] == "provisioned"
    errors = await refused(gateway, token, UPDATE, {"id": customer["id"], "input": {"packages": ["webex_meetings"]}})
    assert _problems(errors) == [("PACKAGE_IN_USE", PACKAGES)]
    # The package nobody holds can still go.
    updated = await _update(gateway, token, customer["id"], {"packages": ["webex_calling"]})
    assert _package_states(updated)["webex_meetings"] == "deleting"


async def test_r_cus_2_external_id_of_another_customer_of_the_same_owner_is_duplicate(
    gateway: Gateway, demo: Demo
) -> None:
    token = partner_token(gateway, demo)
    pid = await provisioning_id(gateway, demo.partner)
    await provision(gateway, token, customer_input(pid, "NEW-1"))
    second = await provision(gateway, token, customer_input(pid, "NEW-2"))
    await gateway.settle()
    errors = await refused(gateway, token, UPDATE, {"id": second["id"], "input": {
        "packages": CALLING_AND_MEETINGS, "externalId": "NEW-1"}})
    assert _problems(errors) == [("DUPLICATE_EXTERNAL_ID", ["input", "externalId"])]


async def test_r_cus_2_provisioning_id_org_id_and_customer_info_cannot_change(gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    pid = await provisioning_id(gateway, demo.partner)
    customer = await provision(gateway, token, customer_input(pid, "NEW-1"))
    await gateway.settle()
    for field, value in (("provisioningId", pid), ("orgId", "org-1"),
                         ("customerInfo", {"name": "Renamed", "primaryEmail": "x@y.example"})):
        async with gateway.writes_nothing():
            errors = await gateway.errors(token, UPDATE, {"id": customer["id"], "input": {
                "packages": CALLING_AND_MEETINGS, field: value}})
        assert field in errors[0]["message"], errors  # refused by the schema, before anything runs


async def test_r_cus_2_external_id_used_by_another_owner_is_accepted(gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    customer = await _provisioned(gateway, token, customer_input(await provisioning_id(gateway, demo.partner)))
    sub_a_external = (await _one_customer(gateway, gateway.token(demo.sub_a), ["provisioned", "error",
                                                                               "provisioning"]))["externalId"]
    updated = await _update(gateway, token, customer["id"], {"packages": CALLING_AND_MEETINGS,
                                                             "externalId": sub_a_external})
    assert updated["externalId"] == sub_a_external


# ---------------------------------------------------------------- R-CUS-3: calling location


async def test_r_cus_3_meetings_only_customer_needs_no_calling_location(gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    settled = await _provisioned(gateway, token, _meetings_only(await provisioning_id(gateway, demo.partner)))
    assert _package_states(settled) == {"webex_meetings": "provisioned"}
    assert settled["locations"] == []


# ---------------------------------------------------------------- R-CUS-4: deletion


async def test_r_cus_4_delete_answers_deleting_at_once(gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    customer = await _provisioned(gateway, token, customer_input(await provisioning_id(gateway, demo.partner)))
    deleting = await _delete(gateway, token, customer["id"])
    assert deleting["status"] == "deleting"
    assert deleting["version"] == customer["version"] + 1
    assert set(_package_states(deleting).values()) == {"deleting"}
    assert (await current(gateway, token, customer["id"]))["status"] == "deleting"


async def test_r_cus_4_settled_delete_removes_the_customer_and_its_subscribers(gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    customer = await _provisioned(gateway, token, customer_input(await provisioning_id(gateway, demo.partner)))
    subscriber = await _subscriber(gateway, token, customer["id"], "grace@springfield.example")
    await gateway.settle()
    await _delete(gateway, token, customer["id"])
    await gateway.settle()
    assert (await gateway.execute(token, CUSTOMER, {"id": customer["id"]}))["customer"] is None
    assert (await gateway.execute(token, SUBSCRIBER, {"id": subscriber["id"]}))["subscriber"] is None
    stored = await gateway.snapshot()
    assert not [d for d in stored["customers"] if d["_id"] == customer["id"]]
    assert not [d for d in stored["subscribers"] if d["customerId"] == customer["id"]]
    assert not [d for d in stored["locations"] if d["customerId"] == customer["id"]]
    customer_events = _transitions(await gateway.events(entityId=customer["id"]), "CUSTOMER")
    assert customer_events[-2:] == [("provisioned", "deleting"), ("deleting", "deleted")]
    subscriber_events = _transitions(await gateway.events(entityId=subscriber["id"]), "SUBSCRIBER")
    assert subscriber_events[-1][1] == "deleted"


# ---------------------------------------------------------------- R-PKG-2 / R-PKG-6: package rules


async def test_r_pkg_2_attendant_console_with_webex_calling_is_accepted(gateway: Gateway, demo: Demo) -> None:
    pid = await provisioning_id(gateway, demo.partner)
    customer = await provision(gateway, partner_token(gateway, demo),
                               customer_input(pid, packages=["webex_calling", "attendant_console"]))
    assert sorted(_package_states(customer)) == ["attendant_console", "webex_calling"]


async def test_r_pkg_2_amended_attendant_console_with_webex_voice_is_refused(gateway: Gateway, demo: Demo) -> None:
    pid = await provisioning_id(gateway, demo.partner)
    errors = await refused(gateway, partner_token(gateway, demo), PROVISION,
                           {"input": customer_input(pid, packages=["webex_voice", "attendant_console"])})
    assert [(e["code"], e["field"]) for e in errors] == [("PACKAGE_DEPENDENCY", ["input", "packages"])]


async def test_r_pkg_2_cisco_calling_plan_with_common_area_calling_is_accepted(gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    pid = await provisioning_id(gateway, demo.partner)
    settled = await _provisioned(gateway, token,
                                 customer_input(pid, packages=["common_area_calling", "cisco_calling_plan"]))
    assert _package_states(settled) == {"common_area_calling": "provisioned", "cisco_calling_plan": "provisioned"}


async def test_r_pkg_6_limits_are_stored_and_shown_on_the_packages(gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    data = _with_params(customer_input(await provisioning_id(gateway, demo.partner)),
                        limits=[{"package": "webex_calling", "limit": 5}])
    customer = await provision(gateway, token, data)
    assert {p["name"]: p["limit"] for p in customer["packages"]} == {"webex_calling": 5, "webex_meetings": None}
    await gateway.settle()
    settled = await current(gateway, token, customer["id"])
    assert {p["name"]: p["limit"] for p in settled["packages"]} == {"webex_calling": 5, "webex_meetings": None}


async def test_r_pkg_6_subscriber_beyond_the_limit_is_refused(gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    data = _with_params(customer_input(await provisioning_id(gateway, demo.partner)),
                        limits=[{"package": "webex_calling", "limit": 1}])
    customer = await _provisioned(gateway, token, data)
    await _subscriber(gateway, token, customer["id"], "first@springfield.example")
    errors = await refused(gateway, token, PROVISION_SUBSCRIBER, {"input": subscriber_input(
        customer["id"], "second@springfield.example", extension="2002")})
    assert _codes(errors) == ["PACKAGE_LIMIT_REACHED"]


async def test_r_pkg_6_update_changes_a_limit(gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    customer = await _provisioned(gateway, token, customer_input(await provisioning_id(gateway, demo.partner)))
    updated = await _update(gateway, token, customer["id"], {
        "packages": CALLING_AND_MEETINGS, "provisioningParameters": {"limits": [{"package": "webex_meetings",
                                                                                "limit": 7}]}})
    assert {p["name"]: p["limit"] for p in updated["packages"]} == {"webex_calling": None, "webex_meetings": 7}


# ---------------------------------------------------------------- R-TPL-1 / R-TPL-2: templates


@pytest.mark.read_only
async def test_r_tpl_1_foreign_template_is_answered_like_a_missing_one(gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    foreign = await refused(gateway, token, PROVISION, {"input": customer_input(
        await provisioning_id(gateway, demo.sub_a))})
    missing = await refused(gateway, token, PROVISION, {"input": customer_input(
        "00000000-0000-0000-0000-000000000000")})
    assert foreign == missing


async def test_r_tpl_2_customer_keeps_the_auth_mode_it_was_onboarded_with(gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    saml = await _template_of(gateway, demo.partner, "DE")
    customer = await _provisioned(gateway, token, _meetings_only(saml, country="DE"))
    before = await _details(gateway, token, customer["id"])
    assert before["authMode"] == "partner_saml"
    db = gateway.runtime.db
    assert db is not None
    result = await db.collection("templates").update_one(
        {"provisioningId": saml}, {"$set": {"authMode": "webex", "idpEntityId": None}})
    assert result.modified_count == 1
    # Written behind the gateway's back: nothing told it, so the template it read a moment ago is forgotten here.
    gateway.repos.templates.recent.forget([str(before["template"]["id"])])
    details = await _details(gateway, token, customer["id"])
    assert details["template"]["authMode"] == "webex"  # the template did change…
    assert details["authMode"] == "partner_saml"  # …the customer onboarded before did not
    later = await provision(gateway, token, _meetings_only(saml, "MEET-2", country="DE"))
    assert (await _details(gateway, token, later["id"]))["authMode"] == "webex"


async def test_r_tpl_2_update_of_the_customer_keeps_its_auth_mode(gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    saml = await _template_of(gateway, demo.partner, "DE")
    customer = await _provisioned(gateway, token, _meetings_only(saml, country="DE"))
    db = gateway.runtime.db
    assert db is not None
    await db.collection("templates").update_one({"provisioningId": saml},
                                                {"$set": {"authMode": "webex", "idpEntityId": None}})
    await _update(gateway, token, customer["id"], {"packages": ["webex_meetings", "webex_suite"],
                                                   "provisioningParameters": {
                                                       "callingLocation": customer_input(saml)[
                                                           "provisioningParameters"]["callingLocation"]}})
    await gateway.settle()
    details = await _details(gateway, token, customer["id"])
    assert details["status"] == "provisioned"
    assert details["authMode"] == "partner_saml"


# ---------------------------------------------------------------- §5 input validation


async def test_r_cus_1_address_line_of_50_characters_is_accepted(gateway: Gateway, demo: Demo) -> None:
    pid = await provisioning_id(gateway, demo.partner)
    address = {**customer_input(pid)["address"], "addressLine1": "x" * 50}
    customer = await provision(gateway, partner_token(gateway, demo), customer_input(pid, address=address))
    assert customer["status"] == "provisioning"


# ---------------------------------------------------------------- R-LOC-1 / R-LOC-2 / R-DIAL


async def test_r_loc_3_locales_as_the_rest_api_sends_them_are_stored_as_ll_cc(gateway: Gateway, demo: Demo) -> None:
    """The Webex REST API's own examples send `"language": "en_us"` and `preferredLanguage: "en_us"`."""
    data = customer_input(await provisioning_id(gateway, demo.partner), "LOC-3")
    data["customerInfo"]["language"] = "en_us"
    data["provisioningParameters"]["callingLocation"]["language"] = "EN-us"
    customer = await provision(gateway, partner_token(gateway, demo), data)
    assert customer["language"] == "en_US"
    assert [location["language"] for location in customer["locations"]] == ["en_US"]


async def test_r_loc_2_meetings_site_locale_is_english_for_nb_no(gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    customer = await provision(gateway, token, _meetings_only(await _template_of(gateway, demo.partner, "DE"),
                                                              country="NO", language="nb_NO"))
    details = await _details(gateway, token, customer["id"])
    assert (details["language"], details["meetingsSiteLocale"]) == ("nb_NO", "en_US")


async def test_r_loc_2_meetings_site_locale_follows_a_supported_locale(gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    customer = await provision(gateway, token, _meetings_only(await _template_of(gateway, demo.partner, "DE"),
                                                              country="DE", language="de"))
    details = await _details(gateway, token, customer["id"])
    assert (details["language"], details["meetingsSiteLocale"]) == ("de_DE", "de_DE")


async def test_r_dial_call_in_number_follows_the_billing_country(gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    pid = await _template_of(gateway, demo.partner, "DE")
    expected = {
        "DE": {"region": "EURO", "countryCode": "+49", "country": "Germany"},
        "AT": {"region": "EURO", "countryCode": "+49", "country": "Germany"},
        "NO": {"region": "EMEA", "countryCode": "+44", "country": "United Kingdom"},
        "NZ": {"region": "ANZ", "countryCode": "+61", "country": "Australia"},
        "US": {"region": "AMER", "countryCode": "+1", "country": "United States"},
    }
    for country, number in expected.items():
        customer = await provision(gateway, token, _meetings_only(pid, f"DIAL-{country}", country=country))
        details = await _details(gateway, token, customer["id"])
        assert details["address"]["country"] == country
        assert details["defaultCallInNumber"] == number, country


async def test_r_dial_call_in_number_follows_a_changed_billing_address(gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    pid = await _template_of(gateway, demo.partner, "DE")
    customer = await _provisioned(gateway, token, _meetings_only(pid, country="DE"))
    await _update(gateway, token, customer["id"], {"packages": ["webex_meetings"], "address": {
        "addressLine1": "1 Queen Street", "city": "Auckland", "country": "NZ"}})
    details = await _details(gateway, token, customer["id"])
    assert details["defaultCallInNumber"] == {"region": "ANZ", "countryCode": "+61", "country": "Australia"}


# ---------------------------------------------------------------- R-BILLSTART: delayed billing


async def test_r_billstart_date_within_90_days_is_accepted(gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    data = customer_input(await provisioning_id(gateway, demo.partner), billingStartDate=_day(90))
    customer = await provision(gateway, token, data)
    assert (await _details(gateway, token, customer["id"]))["billingStartDate"] == _day(90)


async def test_r_billstart_today_is_accepted(gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    data = customer_input(await provisioning_id(gateway, demo.partner), billingStartDate=_day(0))
    customer = await provision(gateway, token, data)
    assert (await _details(gateway, token, customer["id"]))["billingStartDate"] == _day(0)


async def test_r_billstart_partner_without_delayed_billing_is_refused(gateway: Gateway) -> None:
    partner, pid = await _partner_without_delayed_billing(gateway)
    token = gateway.token(partner, "full_admin")
    errors = await refused(gateway, token, PROVISION, {"input": customer_input(pid, billingStartDate=_day(10))})
    assert _problems(errors) == [("DELAYED_BILLING_NOT_ENABLED", BILLING_START)]
    # The same request without a billing start is fine for this partner.
    customer = await provision(gateway, token, customer_input(pid))
    assert (await _details(gateway, token, customer["id"]))["billingStartDate"] is None


async def test_r_billstart_future_start_can_be_moved_before_it_arrives(gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    data = customer_input(await provisioning_id(gateway, demo.partner), billingStartDate=_day(30))
    customer = await _provisioned(gateway, token, data)
    updated = await _update(gateway, token, customer["id"], {"packages": CALLING_AND_MEETINGS,
                                                             "billingStartDate": _day(40)})
    assert updated["status"] == "updating"
    await gateway.settle()
    assert (await _details(gateway, token, customer["id"]))["billingStartDate"] == _day(40)


# ---------------------------------------------------------------- R-PRE: precheck


@pytest.mark.read_only
async def test_r_pre_valid_request_is_ok_and_writes_nothing(gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    data = customer_input(await provisioning_id(gateway, demo.partner))
    async with gateway.writes_nothing("a precheck"):
        result = (await gateway.execute(token, PRECHECK, {"input": data}))["precheckCustomerProvisioning"]
    assert result == {"ok": True, "info": [{"code": 100, "description": "validation successful"}], "errors": []}


@pytest.mark.read_only
async def test_r_pre_reports_every_problem_at_once_and_writes_nothing(gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    pid = await provisioning_id(gateway, demo.partner)
    data = customer_input("00000000-0000-0000-0000-000000000000", "EXT-1000",
                          address={**customer_input(pid)["address"], "country": "XX"},
                          customerInfo={"name": "Dup Plumbing", "primaryEmail": "it@dup.example", "language": "xx"})
    async with gateway.writes_nothing("a precheck"):
        result = (await gateway.execute(token, PRECHECK, {"input": data}))["precheckCustomerProvisioning"]
    assert result["ok"] is False
    assert result["info"] == []
    assert _problems(result["errors"]) == _problems([
        {"code": "TEMPLATE_NOT_FOUND", "field": ["input", "provisioningId"]},
        {"code": "DUPLICATE_EXTERNAL_ID", "field": ["input", "externalId"]},
        {"code": "INVALID_COUNTRY", "field": ["input", "address", "country"]},
        {"code": "INVALID_LOCALE", "field": ["input", "customerInfo", "language"]},
    ])


@pytest.mark.read_only
async def test_r_pre_with_a_known_template_reports_locale_and_package_problems_together(
    gateway: Gateway, demo: Demo
) -> None:
    token = partner_token(gateway, demo)
    pid = await provisioning_id(gateway, demo.partner)
    data = _with_params(customer_input(pid, "EXT-1000", packages=["attendant_console", "webex_meetings"],
                                       customerInfo={"name": "Dup", "primaryEmail": "it@dup.example",
                                                     "language": "xx"}),
                        limits=[{"package": "webex_suite", "limit": 2}])
    async with gateway.writes_nothing("a precheck"):
        result = (await gateway.execute(token, PRECHECK, {"input": data}))["precheckCustomerProvisioning"]
    assert result["ok"] is False
    assert _problems(result["errors"]) == _problems([
        {"code": "DUPLICATE_EXTERNAL_ID", "field": ["input", "externalId"]},
        {"code": "PACKAGE_DEPENDENCY", "field": PACKAGES},
        {"code": "INVALID_LOCALE", "field": ["input", "customerInfo", "language"]},
        {"code": "PACKAGE_NOT_ON_CUSTOMER", "field": LIMITS},
    ])


@pytest.mark.read_only
async def test_r_pre_answers_like_provision_would(gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    data = customer_input(await provisioning_id(gateway, demo.partner), billingStartDate=_day(91))
    precheck = (await gateway.execute(token, PRECHECK, {"input": data}))["precheckCustomerProvisioning"]
    errors = await refused(gateway, token, PROVISION, {"input": data})
    assert precheck["errors"] == errors
    assert _codes(errors) == ["BILLING_START_DATE_INVALID"]


# ---------------------------------------------------------------- R-ORG-4: acting on behalf of a sub-partner


async def test_r_org_4_parent_provisions_on_behalf_of_a_sub_partner(gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    data = customer_input(await provisioning_id(gateway, demo.sub_a), "FOR-A")
    customer = await provision(gateway, token, data, on_behalf=demo.sub_a)
    assert customer["owner"] == {"id": demo.sub_a}
    stored = [d for d in (await gateway.snapshot())["customers"] if d["_id"] == customer["id"]]
    assert [(d["ownerOrgId"], d["rootOrgId"]) for d in stored] == [(demo.sub_a, demo.partner)]
    seen = await gateway.execute(gateway.token(demo.sub_a, "read_only_admin"), CUSTOMERS,
                                 {"filter": {"externalId": "FOR-A"}})
    assert [e["node"]["id"] for e in seen["customers"]["edges"]] == [customer["id"]]
    default = await gateway.execute(token, CUSTOMERS, {"filter": {"externalId": "FOR-A"}})
    assert default["customers"]["totalCount"] == 0  # R-ORG-3: not in the parent's default list


async def test_r_org_4_on_behalf_of_a_non_sub_partner_is_refused(gateway: Gateway, demo: Demo) -> None:
    foreign, _ = await _partner_without_delayed_billing(gateway)
    data = customer_input(await provisioning_id(gateway, demo.partner))
    errors = await refused(gateway, partner_token(gateway, demo), PROVISION, {"input": data, "for": foreign})
    assert _problems(errors) == [("NOT_A_SUB_PARTNER", ON_BEHALF)]


@pytest.mark.read_only
async def test_r_org_4_sub_partner_on_behalf_of_its_sibling_is_refused(gateway: Gateway, demo: Demo) -> None:
    data = customer_input(await provisioning_id(gateway, demo.sub_a))
    errors = await refused(gateway, gateway.token(demo.sub_a), PROVISION, {"input": data, "for": demo.sub_b})
    assert _problems(errors) == [("NOT_A_SUB_PARTNER", ON_BEHALF)]


@pytest.mark.read_only
async def test_r_org_4_read_only_admin_cannot_provision(gateway: Gateway, demo: Demo) -> None:
    data = customer_input(await provisioning_id(gateway, demo.partner))
    async with gateway.writes_nothing():
        errors = await gateway.errors(gateway.token(demo.partner, "read_only_admin"), PROVISION, {"input": data})
    assert [e.get("extensions", {}).get("code") for e in errors] == ["FORBIDDEN"]


# ---------------------------------------------------------------- R-ORG-5: suspended sub-partners


@pytest.mark.read_only
async def test_r_org_5_suspended_sub_partner_cannot_provision(gateway: Gateway, demo: Demo) -> None:
    data = customer_input(await provisioning_id(gateway, demo.sub_b))
    errors = await refused(gateway, gateway.token(demo.sub_b), PROVISION, {"input": data})
    assert _codes(errors) == ["SUB_PARTNER_SUSPENDED"]


async def test_r_org_5_suspended_sub_partner_may_delete_its_customer(gateway: Gateway, demo: Demo) -> None:
    token = gateway.token(demo.sub_b)
    own = await _one_customer(gateway, token, ["provisioning", "pending_rpl_review", "error"])
    assert own["owner"] == {"id": demo.sub_b}
    deleting = await _delete(gateway, token, own["id"])
    assert deleting["status"] == "deleting"
    await gateway.settle()
    assert (await gateway.execute(token, CUSTOMER, {"id": own["id"]}))["customer"] is None


@pytest.mark.read_only
async def test_r_org_5_parent_cannot_provision_on_behalf_of_a_suspended_sub_partner(
    gateway: Gateway, demo: Demo
) -> None:
    data = customer_input(await provisioning_id(gateway, demo.sub_b))
    errors = await refused(gateway, partner_token(gateway, demo), PROVISION, {"input": data, "for": demo.sub_b})
    assert _problems(errors) == [("SUB_PARTNER_SUSPENDED", ON_BEHALF)]


async def test_r_org_5_sub_partner_suspended_after_onboarding_cannot_update_but_can_delete(
    gateway: Gateway, demo: Demo
) -> None:
    token = gateway.token(demo.sub_a)
    customer = await _provisioned(gateway, token, customer_input(await provisioning_id(gateway, demo.sub_a)))
    suspended = await gateway.execute(gateway.token(None, "platform_admin"), SET_STATE,
                                      {"id": demo.sub_a, "state": "suspended"})
    assert suspended["setSubPartnerState"]["partner"]["provisioningState"] == "suspended"
    errors = await refused(gateway, token, UPDATE, {"id": customer["id"], "input": {"packages": CALLING_AND_MEETINGS}})
    assert _codes(errors) == ["SUB_PARTNER_SUSPENDED"]
    assert (await current(gateway, token, customer["id"]))["status"] == "provisioned"  # still readable
    assert (await _delete(gateway, token, customer["id"]))["status"] == "deleting"


# ---------------------------------------------------------------- R-ORG-6: no existence leak


@pytest.mark.read_only
async def test_r_org_6_update_of_another_orgs_customer_is_not_found(gateway: Gateway, demo: Demo) -> None:
    parents = await _one_customer(gateway, partner_token(gateway, demo), ["provisioned"])
    token = gateway.token(demo.sub_a)
    change = {"packages": CALLING_AND_MEETINGS}
    foreign = await refused(gateway, token, UPDATE, {"id": parents["id"], "input": change})
    missing = await refused(gateway, token, UPDATE, {"id": MISSING_CUSTOMER, "input": change})
    assert _problems(foreign) == [("NOT_FOUND", ["id"])]
    assert foreign == missing


@pytest.mark.read_only
async def test_r_org_6_delete_of_another_orgs_customer_is_not_found(gateway: Gateway, demo: Demo) -> None:
    siblings = await _one_customer(gateway, gateway.token(demo.sub_b), ["error"])
    token = gateway.token(demo.sub_a)
    foreign = await refused(gateway, token, DELETE, {"id": siblings["id"]})
    missing = await refused(gateway, token, DELETE, {"id": MISSING_CUSTOMER})
    assert _problems(foreign) == [("NOT_FOUND", ["id"])]
    assert foreign == missing


async def test_r_org_6_another_partner_cannot_touch_the_demo_partners_customer(gateway: Gateway, demo: Demo) -> None:
    partner, _ = await _partner_without_delayed_billing(gateway)
    target = await _one_customer(gateway, partner_token(gateway, demo), ["provisioned"])
    token = gateway.token(partner, "full_admin")
    errors = await refused(gateway, token, DELETE, {"id": target["id"]})
    assert _problems(errors) == [("NOT_FOUND", ["id"])]
    errors = await refused(gateway, token, UPDATE, {"id": target["id"], "input": {"packages": ["webex_meetings"]}})
    assert _problems(errors) == [("NOT_FOUND", ["id"])]
