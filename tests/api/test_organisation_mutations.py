"""The operator's onboarding of partners and sub-partners: createPartner, createSubPartner, setSubPartnerState.

Only a platform_admin may call them (DOMAIN.md §2); anyone else gets a top-level FORBIDDEN error.
Validation problems come back in the payload (`errors`, with `partner` null). Every refused call
writes nothing.
"""

from __future__ import annotations

from typing import Any

import pytest

from gateway.demo import DEMO_RESALE_PARTNER_ID
from tests.conftest import NOW, Demo, Gateway

# Refusals write nothing: they share one gateway and demo (tests/conftest.py); the accepted calls get their own.
pytestmark = pytest.mark.read_only

UNKNOWN_PARTNER = "ptn_" + "0" * 24

PARTNER_FIELDS = """
  id name kind subscriptionId provisioningState billingStartDate delayedBillingEnabled createdAt parent { id }
"""
CREATE_PARTNER = f"""
mutation($input: CreatePartnerInput!) {{
  createPartner(input: $input) {{ partner {{ {PARTNER_FIELDS} }} errors {{ code message field }} }}
}}"""
CREATE_SUB_PARTNER = f"""
mutation($parentId: ID!, $input: CreateSubPartnerInput!) {{
  createSubPartner(parentId: $parentId, input: $input) {{
    partner {{ {PARTNER_FIELDS} }} errors {{ code message field }}
  }}
}}"""
SET_STATE = f"""
mutation($id: ID!, $state: SubPartnerState!) {{
  setSubPartnerState(id: $id, state: $state) {{ partner {{ {PARTNER_FIELDS} }} errors {{ code message field }} }}
}}"""


def _platform(gateway: Gateway) -> str:
    return gateway.token(None, "platform_admin")


def _non_platform_callers(gateway: Gateway, demo: Demo) -> dict[str, str]:
    return {
        "parent full_admin": gateway.token(demo.partner, "full_admin"),
        "parent read_only_admin": gateway.token(demo.partner, "read_only_admin"),
        "sub-partner full_admin": gateway.token(demo.sub_a, "full_admin"),
        "compliance_reviewer": gateway.token(None, "compliance_reviewer"),
    }


def _codes(errors: list[dict[str, Any]]) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in errors]


def _problems(payload: dict[str, Any]) -> list[tuple[str, list[str] | None]]:
    return [(e["code"], e["field"]) for e in payload["errors"]]


def _sub_partner_input(**overrides: Any) -> dict[str, Any]:
    return {"name": "Fabrikam Partners", "adminEmail": "admin@fabrikam.example", **overrides}


async def _refused(gateway: Gateway, query: str, variables: dict[str, Any], mutation: str
                   ) -> list[tuple[str, list[str] | None]]:
    """Run a platform_admin mutation that must be refused in its payload; asserts nothing was written."""
    async with gateway.writes_nothing():
        data = await gateway.execute(_platform(gateway), query, variables)
    payload = data[mutation]
    assert payload["partner"] is None, payload
    assert payload["errors"], payload
    assert all(e["message"] for e in payload["errors"]), payload
    return _problems(payload)


async def _forbidden(gateway: Gateway, tokens: dict[str, str], query: str, variables: dict[str, Any]) -> None:
    """Each caller gets a top-level FORBIDDEN error, and nothing is written."""
    for who, token in tokens.items():
        async with gateway.writes_nothing(f"a refused request of {who}"):
            body = (await gateway.post(token, query, variables)).json()
        assert _codes(body.get("errors") or []) == ["FORBIDDEN"], (who, body)
        assert body.get("data") is None, (who, body)


# ---------------------------------------------------------------- createPartner


@pytest.mark.own_gateway
async def test_platform_admin_creates_a_top_level_partner(gateway: Gateway, demo: Demo) -> None:
    before = await gateway.snapshot()
    data = await gateway.execute(_platform(gateway), CREATE_PARTNER, {"input": {
        "name": "  Fabrikam Telecom ", "subscriptionId": "Sub-FAB-0001", "delayedBillingEnabled": True}})
    payload = data["createPartner"]
    assert payload["errors"] == []
    partner = payload["partner"]
    assert partner["id"].startswith("ptn_")
    assert {k: v for k, v in partner.items() if k != "id"} == {
        "name": "Fabrikam Telecom", "kind": "PARTNER", "subscriptionId": "Sub-FAB-0001", "provisioningState": None,
        "billingStartDate": None, "delayedBillingEnabled": True, "createdAt": "2026-11-22T09:00:00+00:00",
        "parent": None,
    }
    after = await gateway.snapshot()
    assert [d["_id"] for d in after["partners"] if d not in before["partners"]] == [partner["id"]]
    assert {k: v for k, v in after.items() if k != "partners"} == {k: v for k, v in before.items() if k != "partners"}


@pytest.mark.own_gateway
async def test_created_partner_is_listed_by_platform_admin_and_can_act_at_once(gateway: Gateway, demo: Demo) -> None:
    created = await gateway.execute(_platform(gateway), CREATE_PARTNER,
                                    {"input": {"name": "Fabrikam Telecom", "subscriptionId": "Sub-FAB-0001"}})
    partner = created["createPartner"]["partner"]
    assert partner["delayedBillingEnabled"] is False
    listed = await gateway.execute(_platform(gateway), "{ partners { totalCount edges { node { id } } } }")
    assert listed["partners"]["totalCount"] == 3  # with the demo's Wholesale and resale partners
    assert {e["node"]["id"] for e in listed["partners"]["edges"]} == {demo.partner, DEMO_RESALE_PARTNER_ID,
                                                                        partner["id"]}
    viewer = await gateway.execute(gateway.token(partner["id"]),
                                   "{ viewer { orgId orgKind } customers { totalCount } }")
    assert viewer == {"viewer": {"orgId": partner["id"], "orgKind": "PARTNER"}, "customers": {"totalCount": 0}}


async def test_create_partner_with_blank_name_is_refused_with_required_and_nothing_written(
    gateway: Gateway, demo: Demo
) -> None:
    problems = await _refused(gateway, CREATE_PARTNER, {"input": {"name": "   ", "subscriptionId": "Sub-X"}},
                              "createPartner")
    assert problems == [("REQUIRED", ["input", "name"])]


async def test_create_partner_with_blank_subscription_id_is_refused_with_required_and_nothing_written(
    gateway: Gateway, demo: Demo
) -> None:
    problems = await _refused(gateway, CREATE_PARTNER, {"input": {"name": "Fabrikam", "subscriptionId": ""}},
                              "createPartner")
    assert problems == [("REQUIRED", ["input", "subscriptionId"])]


async def test_create_partner_with_an_overlong_name_is_refused_with_too_long_and_nothing_written(
    gateway: Gateway, demo: Demo
) -> None:
    problems = await _refused(gateway, CREATE_PARTNER, {"input": {"name": "F" * 201, "subscriptionId": "Sub-X"}},
                              "createPartner")
    assert problems == [("TOO_LONG", ["input", "name"])]


async def test_only_platform_admin_may_create_a_partner_and_refusals_write_nothing(
    gateway: Gateway, demo: Demo
) -> None:
    await _forbidden(gateway, _non_platform_callers(gateway, demo), CREATE_PARTNER,
                     {"input": {"name": "Rogue Telecom", "subscriptionId": "Sub-ROGUE"}})


async def test_create_partner_authorisation_is_checked_before_validation(gateway: Gateway, demo: Demo) -> None:
    await _forbidden(gateway, {"parent full_admin": gateway.token(demo.partner)}, CREATE_PARTNER,
                     {"input": {"name": "", "subscriptionId": ""}})


# ---------------------------------------------------------------- createSubPartner


@pytest.mark.own_gateway
async def test_platform_admin_creates_a_sub_partner_sharing_the_parents_subscription(
    gateway: Gateway, demo: Demo
) -> None:
    before = await gateway.snapshot()
    data = await gateway.execute(_platform(gateway), CREATE_SUB_PARTNER, {
        "parentId": demo.partner, "input": _sub_partner_input(adminEmail=" Admin@Fabrikam.EXAMPLE ")})
    payload = data["createSubPartner"]
    assert payload["errors"] == []
    partner = payload["partner"]
    assert {k: v for k, v in partner.items() if k != "id"} == {
        "name": "Fabrikam Partners", "kind": "SUB_PARTNER", "subscriptionId": "Sub-DEMO-0001",
        "provisioningState": "active", "billingStartDate": NOW.date().isoformat(), "delayedBillingEnabled": True,
        "createdAt": "2026-11-22T09:00:00+00:00", "parent": {"id": demo.partner},
    }
    after = await gateway.snapshot()
    added = [d for d in after["partners"] if d not in before["partners"]]
    assert [d["_id"] for d in added] == [partner["id"]]
    assert added[0]["parentId"] == demo.partner
    assert added[0]["adminEmail"] == "admin@fabrikam.example"
    assert {k: v for k, v in after.items() if k != "partners"} == {k: v for k, v in before.items() if k != "partners"}


@pytest.mark.own_gateway
async def test_created_sub_partner_appears_under_its_parent_with_an_explicit_billing_start_date(
    gateway: Gateway, demo: Demo
) -> None:
    data = await gateway.execute(_platform(gateway), CREATE_SUB_PARTNER, {
        "parentId": demo.partner, "input": _sub_partner_input(billingStartDate="2026-12-01")})
    partner = data["createSubPartner"]["partner"]
    assert partner["billingStartDate"] == "2026-12-01"
    listed = await gateway.execute(gateway.token(demo.partner), "{ subPartners { totalCount edges { node { id } } } }")
    assert listed["subPartners"]["totalCount"] == 3
    assert partner["id"] in {e["node"]["id"] for e in listed["subPartners"]["edges"]}


async def test_r_org_1_sub_partner_cannot_have_sub_partners_and_nothing_is_written(
    gateway: Gateway, demo: Demo
) -> None:
    problems = await _refused(gateway, CREATE_SUB_PARTNER, {"parentId": demo.sub_a, "input": _sub_partner_input()},
                              "createSubPartner")
    assert problems == [("VALIDATION_FAILED", ["parentId"])]


async def test_create_sub_partner_under_an_unknown_parent_is_not_found_and_nothing_is_written(
    gateway: Gateway, demo: Demo
) -> None:
    problems = await _refused(gateway, CREATE_SUB_PARTNER,
                              {"parentId": UNKNOWN_PARTNER, "input": _sub_partner_input()}, "createSubPartner")
    assert problems == [("NOT_FOUND", ["parentId"])]


async def test_create_sub_partner_under_a_malformed_parent_id_is_not_found_and_nothing_is_written(
    gateway: Gateway, demo: Demo
) -> None:
    problems = await _refused(gateway, CREATE_SUB_PARTNER,
                              {"parentId": "no-such-partner", "input": _sub_partner_input()}, "createSubPartner")
    assert problems == [("NOT_FOUND", ["parentId"])]


async def test_create_sub_partner_with_a_bad_admin_email_is_refused_and_nothing_is_written(
    gateway: Gateway, demo: Demo
) -> None:
    problems = await _refused(gateway, CREATE_SUB_PARTNER, {
        "parentId": demo.partner, "input": _sub_partner_input(adminEmail="not-an-email")}, "createSubPartner")
    assert problems == [("INVALID_EMAIL", ["input", "adminEmail"])]


async def test_create_sub_partner_with_a_blank_name_is_refused_with_required_and_nothing_written(
    gateway: Gateway, demo: Demo
) -> None:
    problems = await _refused(gateway, CREATE_SUB_PARTNER, {
        "parentId": demo.partner, "input": _sub_partner_input(name="  ")}, "createSubPartner")
    assert problems == [("REQUIRED", ["input", "name"])]


async def test_create_sub_partner_with_a_blank_admin_email_is_refused_with_required_and_nothing_written(
    gateway: Gateway, demo: Demo
) -> None:
    problems = await _refused(gateway, CREATE_SUB_PARTNER, {
        "parentId": demo.partner, "input": _sub_partner_input(adminEmail="")}, "createSubPartner")
    assert problems == [("REQUIRED", ["input", "adminEmail"])]


async def test_only_platform_admin_may_create_a_sub_partner_and_refusals_write_nothing(
    gateway: Gateway, demo: Demo
) -> None:
    await _forbidden(gateway, _non_platform_callers(gateway, demo), CREATE_SUB_PARTNER,
                     {"parentId": demo.partner, "input": _sub_partner_input()})


async def test_create_sub_partner_refuses_non_platform_callers_before_looking_up_the_parent(
    gateway: Gateway, demo: Demo
) -> None:
    for parent in (UNKNOWN_PARTNER, demo.sub_a):
        await _forbidden(gateway, {"parent full_admin": gateway.token(demo.partner)}, CREATE_SUB_PARTNER,
                         {"parentId": parent, "input": _sub_partner_input(adminEmail="bad")})


# ---------------------------------------------------------------- setSubPartnerState


@pytest.mark.own_gateway
async def test_platform_admin_suspends_a_sub_partner(gateway: Gateway, demo: Demo) -> None:
    before = await gateway.snapshot()
    data = await gateway.execute(_platform(gateway), SET_STATE, {"id": demo.sub_a, "state": "suspended"})
    payload = data["setSubPartnerState"]
    assert payload["errors"] == []
    assert payload["partner"]["id"] == demo.sub_a
    assert payload["partner"]["provisioningState"] == "suspended"
    after = await gateway.snapshot()
    changed = [(b, a) for b, a in zip(before["partners"], after["partners"], strict=True) if b != a]
    assert len(changed) == 1
    old, new = changed[0]
    assert old["_id"] == demo.sub_a
    assert {k for k in old if old[k] != new.get(k)} | {k for k in new if k not in old} == {
        "provisioningState", "version"}
    # The change and its event (R-EVT-1) are the only writes.
    untouched = ("partners", "events", "counters")
    assert {k: v for k, v in after.items() if k not in untouched} == \
        {k: v for k, v in before.items() if k not in untouched}
    [event] = [e for e in after["events"] if e not in before["events"]]
    assert (event["entityType"], event["entityId"], event["fromStatus"], event["toStatus"]) == (
        "SUB_PARTNER", demo.sub_a, "active", "suspended")
    seen = await gateway.execute(gateway.token(demo.partner), "{ subPartners(provisioningState: suspended) "
                                 "{ totalCount edges { node { id } } } }")
    assert {e["node"]["id"] for e in seen["subPartners"]["edges"]} == {demo.sub_a, demo.sub_b}


@pytest.mark.own_gateway
async def test_platform_admin_reactivates_a_suspended_sub_partner(gateway: Gateway, demo: Demo) -> None:
    data = await gateway.execute(_platform(gateway), SET_STATE, {"id": demo.sub_b, "state": "active"})
    assert data["setSubPartnerState"]["errors"] == []
    assert data["setSubPartnerState"]["partner"]["provisioningState"] == "active"
    viewer = await gateway.execute(gateway.token(demo.sub_b), "{ viewer { partner { provisioningState } } }")
    assert viewer["viewer"]["partner"]["provisioningState"] == "active"


async def test_set_sub_partner_state_on_a_top_level_partner_is_refused_and_nothing_is_written(
    gateway: Gateway, demo: Demo
) -> None:
    problems = await _refused(gateway, SET_STATE, {"id": demo.partner, "state": "suspended"}, "setSubPartnerState")
    assert problems == [("NOT_A_SUB_PARTNER", ["id"])]


async def test_set_sub_partner_state_on_an_unknown_id_is_not_found_and_nothing_is_written(
    gateway: Gateway, demo: Demo
) -> None:
    problems = await _refused(gateway, SET_STATE, {"id": UNKNOWN_PARTNER, "state": "suspended"}, "setSubPartnerState")
    assert problems == [("NOT_FOUND", ["id"])]


async def test_only_platform_admin_may_change_a_sub_partners_state_and_refusals_write_nothing(
    gateway: Gateway, demo: Demo
) -> None:
    callers = _non_platform_callers(gateway, demo)
    await _forbidden(gateway, callers, SET_STATE, {"id": demo.sub_a, "state": "suspended"})
    # A suspended sub-partner cannot reactivate itself either.
    await _forbidden(gateway, {"suspended sub-partner": gateway.token(demo.sub_b)}, SET_STATE,
                     {"id": demo.sub_b, "state": "active"})
