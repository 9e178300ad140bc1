"""Subscriber business rules through the API (DOMAIN.md §3, §6, §7, R-RPL-5, R-PRE, R-ORG-4…6).

Every test name carries the id of the rule it checks. Rules without an `R-` id use their section:
`s6` for locations (§6), `s7` for system-wide email uniqueness (§7, EMAIL_IN_USE), and `r_cus_state`
for the customer states that take no new subscribers. Refused requests are checked with
`refused`, which also proves that nothing at all was written.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from domain.rules.rpl import RplEntry
from tests.api.provisioning import (
    DECIDE,
    DELETE,
    DELETE_SUBSCRIBER,
    PRECHECK_SUBSCRIBER,
    PROVISION_SUBSCRIBER,
    SUBSCRIBER,
    UPDATE_SUBSCRIBER,
    current,
    customer_input,
    partner_token,
    provision,
    provisioning_id,
    refused,
    reviewer_token,
    subscriber_input,
)
from tests.conftest import NOW, Demo, Gateway

# The demo as its first settle leaves it: these tests are about subscribers and customers of their own; the
# refusals on the demo data (marked `read_only`) share one gateway (tests/conftest.py).
pytestmark = pytest.mark.settled_demo

CUSTOMERS = """query($filter: CustomerFilter) {
  customers(filter: $filter, first: 100) { edges { node { id status packages { name status } } } }
}"""
SET_STATE = """mutation($id: ID!, $state: SubPartnerState!) {
  setSubPartnerState(id: $id, state: $state) { partner { id provisioningState } errors { code } }
}"""
UNKNOWN_CUSTOMER = "cus_" + "0" * 24
UNKNOWN_LOCATION = "loc_" + "0" * 24
RPL_NAME = "Springfield Plumbing Bad"


# ---------------------------------------------------------------- helpers


def _problems(errors: list[dict[str, Any]]) -> list[tuple[str, list[str] | None]]:
    return sorted(((e["code"], e["field"]) for e in errors), key=repr)


def _codes(errors: list[dict[str, Any]]) -> list[str]:
    return sorted(e["code"] for e in errors)


async def _db_find(gateway: Gateway, collection: str, filter: dict[str, Any]) -> list[dict[str, Any]]:
    db = gateway.runtime.db
    assert db is not None
    return await db.find(collection, filter, sort=[("_id", 1)])


async def _new_customer(gateway: Gateway, token: str, owner: str, external_id: str = "C1", *,
                        settle: bool = True, on_behalf: str | None = None, **overrides: Any) -> dict[str, Any]:
    """Provision a customer through the API (settled by default) and return it as it is now."""
    data = customer_input(await provisioning_id(gateway, owner), external_id, **overrides)
    customer = await provision(gateway, token, data, on_behalf)
    if settle:
        await gateway.settle()
        customer = await current(gateway, token, customer["id"])
    return customer


def _with_limits(provisioning: str, external_id: str, limits: list[dict[str, Any]]) -> dict[str, Any]:
    data = customer_input(provisioning, external_id)
    data["provisioningParameters"] = {**data["provisioningParameters"], "limits": limits}
    return data


async def _subscribe(gateway: Gateway, token: str, data: dict[str, Any], on_behalf: str | None = None
                     ) -> dict[str, Any]:
    """A provisionSubscriber that must be accepted; returns the subscriber as answered."""
    result = (await gateway.execute(token, PROVISION_SUBSCRIBER, {"input": data, "for": on_behalf}))[
        "provisionSubscriber"]
    assert result["errors"] == [], result
    subscriber: dict[str, Any] = result["subscriber"]
    assert subscriber is not None
    return subscriber


async def _refuse_subscriber(gateway: Gateway, token: str, data: dict[str, Any], on_behalf: str | None = None
                             ) -> list[dict[str, Any]]:
    return await refused(gateway, token, PROVISION_SUBSCRIBER, {"input": data, "for": on_behalf})


async def _update(gateway: Gateway, token: str, subscriber_id: str, data: dict[str, Any]) -> dict[str, Any]:
    """An updateSubscriber that must be accepted; returns the subscriber as answered."""
    result = (await gateway.execute(token, UPDATE_SUBSCRIBER, {"id": subscriber_id, "input": data}))[
        "updateSubscriber"]
    assert result["errors"] == [], result
    subscriber: dict[str, Any] = result["subscriber"]
    assert subscriber is not None
    return subscriber


async def _refuse_update(gateway: Gateway, token: str, subscriber_id: str, data: dict[str, Any]
                         ) -> list[dict[str, Any]]:
    return await refused(gateway, token, UPDATE_SUBSCRIBER, {"id": subscriber_id, "input": data})


async def _delete(gateway: Gateway, token: str, subscriber_id: str) -> None:
    result = (await gateway.execute(token, DELETE_SUBSCRIBER, {"id": subscriber_id}))["deleteSubscriber"]
    assert result == {"deletedId": subscriber_id, "errors": []}, result


async def _read(gateway: Gateway, token: str, subscriber_id: str) -> dict[str, Any] | None:
    subscriber: dict[str, Any] | None = (await gateway.execute(token, SUBSCRIBER, {"id": subscriber_id}))[
        "subscriber"]
    return subscriber


async def _status(gateway: Gateway, token: str, subscriber_id: str) -> str:
    subscriber = await _read(gateway, token, subscriber_id)
    assert subscriber is not None, subscriber_id
    status: str = subscriber["status"]
    return status


async def _transitions(gateway: Gateway, entity_id: str) -> list[tuple[str | None, str]]:
    # Status changes only: consent emails and field updates are events of their own (R-CONS-1, R-AUD-1).
    return [(e["fromStatus"], e["toStatus"]) for e in await gateway.events(entityId=entity_id,
                                                                            action="STATUS_CHANGE")]


def _headquarters(customer: dict[str, Any]) -> str:
    hq = [loc["id"] for loc in customer["locations"] if loc["isHeadquarters"]]
    assert len(hq) == 1, customer["locations"]
    return str(hq[0])


async def _ready(gateway: Gateway, demo: Demo, external_id: str = "C1", **overrides: Any) -> tuple[str, str]:
    """The demo partner's token and a new, provisioned customer of it (calling + meetings, US)."""
    token = partner_token(gateway, demo)
    customer = await _new_customer(gateway, token, demo.partner, external_id, **overrides)
    assert customer["status"] == "provisioned", customer
    return token, str(customer["id"])


async def _rpl_entry(gateway: Gateway) -> None:
    await gateway.repos.rpl.load([RplEntry.create("Test List", RPL_NAME, country=None)])


# ---------------------------------------------------------------- R-SUB-1 names and numbers


async def test_r_sub_1_a_phone_number_alone_or_an_extension_alone_is_enough(gateway: Gateway, demo: Demo) -> None:
    token, customer = await _ready(gateway, demo)
    by_phone = subscriber_input(customer, "phone@example.com", primaryPhoneNumber="+13125550101")
    del by_phone["extension"]
    phone_only = await _subscribe(gateway, token, by_phone)
    assert (phone_only["primaryPhoneNumber"], phone_only["extension"]) == ("+13125550101", None)
    extension_only = await _subscribe(gateway, token, subscriber_input(customer, "ext@example.com", extension="2002"))
    assert (extension_only["primaryPhoneNumber"], extension_only["extension"]) == (None, "2002")


async def test_r_sub_1_meetings_package_needs_no_number(gateway: Gateway, demo: Demo) -> None:
    token, customer = await _ready(gateway, demo)
    data = subscriber_input(customer, "meet@example.com", package="webex_meetings")
    del data["extension"]
    subscriber = await _subscribe(gateway, token, data)
    assert (subscriber["package"], subscriber["status"]) == ("webex_meetings", "provisioning")


async def test_r_sub_1_extension_bounds_are_accepted(gateway: Gateway, demo: Demo) -> None:
    token, customer = await _ready(gateway, demo)
    for n, extension in enumerate(("10", "1234567890")):
        subscriber = await _subscribe(gateway, token, subscriber_input(customer, f"ada{n}@example.com",
                                                                       extension=extension))
        assert subscriber["extension"] == extension


async def test_r_sub_1_extension_is_unique_within_a_customer(gateway: Gateway, demo: Demo) -> None:
    token, customer = await _ready(gateway, demo)
    await _subscribe(gateway, token, subscriber_input(customer, "first@example.com", extension="2001"))
    errors = await _refuse_subscriber(gateway, token, subscriber_input(customer, "second@example.com",
                                                                       extension="2001"))
    assert _problems(errors) == [("NUMBER_IN_USE", ["input", "extension"])]


async def test_r_sub_1_phone_number_is_unique_within_a_customer(gateway: Gateway, demo: Demo) -> None:
    token, customer = await _ready(gateway, demo)
    await _subscribe(gateway, token, subscriber_input(customer, "first@example.com", extension="2001",
                                                      primaryPhoneNumber="+13125550101"))
    errors = await _refuse_subscriber(gateway, token, subscriber_input(customer, "second@example.com",
                                                                       extension="2002",
                                                                       primaryPhoneNumber="+13125550101"))
    assert _problems(errors) == [("NUMBER_IN_USE", ["input", "primaryPhoneNumber"])]


async def test_r_sub_1_update_cannot_take_another_subscribers_extension(gateway: Gateway, demo: Demo) -> None:
    token, customer = await _ready(gateway, demo)
    await _subscribe(gateway, token, subscriber_input(customer, "first@example.com", extension="2001"))
    second = await _subscribe(gateway, token, subscriber_input(customer, "second@example.com", extension="2002"))
    await gateway.settle()
    errors = await _refuse_update(gateway, token, second["id"], {"package": "webex_calling", "extension": "2001"})
    assert _problems(errors) == [("NUMBER_IN_USE", ["input", "extension"])]


async def test_r_sub_1_same_numbers_in_two_customers_are_fine(gateway: Gateway, demo: Demo) -> None:
    token, first_customer = await _ready(gateway, demo, "C1")
    _, second_customer = await _ready(gateway, demo, "C2")
    numbers = {"extension": "2001", "primaryPhoneNumber": "+13125550101"}
    one = await _subscribe(gateway, token, subscriber_input(first_customer, "one@example.com", **numbers))
    two = await _subscribe(gateway, token, subscriber_input(second_customer, "two@example.com", **numbers))
    assert one["customer"]["id"] == first_customer and two["customer"]["id"] == second_customer
    assert (two["extension"], two["primaryPhoneNumber"]) == ("2001", "+13125550101")


# ---------------------------------------------------------------- R-SUB-2 admin


async def test_r_sub_2_first_subscriber_is_the_admin(gateway: Gateway, demo: Demo) -> None:
    token, customer = await _ready(gateway, demo)
    first = await _subscribe(gateway, token, subscriber_input(customer, "first@example.com", extension="2001"))
    second = await _subscribe(gateway, token, subscriber_input(customer, "second@example.com", extension="2002"))
    assert (first["isAdmin"], second["isAdmin"]) == (True, False)
    await gateway.settle()
    first_now, second_now = await _read(gateway, token, first["id"]), await _read(gateway, token, second["id"])
    assert first_now is not None and second_now is not None
    assert (first_now["isAdmin"], second_now["isAdmin"]) == (True, False)


async def test_r_sub_2_non_admin_may_be_downgraded(gateway: Gateway, demo: Demo) -> None:
    token, customer = await _ready(gateway, demo)
    await _subscribe(gateway, token, subscriber_input(customer, "admin@example.com", extension="2001"))
    user = await _subscribe(gateway, token, subscriber_input(customer, "user@example.com", extension="2002"))
    await gateway.settle()
    changed = await _update(gateway, token, user["id"], {"package": "webex_meetings"})
    assert (changed["package"], changed["status"], changed["isAdmin"]) == ("webex_meetings", "updating", False)
    await gateway.settle()
    after = await _read(gateway, token, user["id"])
    assert after is not None
    assert (after["package"], after["status"]) == ("webex_meetings", "provisioned")
    assert after["location"] is None  # §6: a meetings subscriber has no calling location


async def test_r_sub_2_admin_may_move_to_a_package_losing_no_capability(gateway: Gateway, demo: Demo) -> None:
    token, customer = await _ready(gateway, demo, packages=["webex_calling", "webex_meetings", "webex_suite"])
    admin = await _subscribe(gateway, token, subscriber_input(customer, "admin@example.com"))
    await gateway.settle()
    moved = await _update(gateway, token, admin["id"], {"package": "webex_suite", "extension": "2001"})
    assert (moved["package"], moved["status"], moved["isAdmin"]) == ("webex_suite", "updating", True)
    await gateway.settle()
    after = await _read(gateway, token, admin["id"])
    assert after is not None
    assert (after["package"], after["status"], after["isAdmin"]) == ("webex_suite", "provisioned", True)


# ---------------------------------------------------------------- R-SUB-3 status


async def test_r_sub_3_new_subscriber_is_provisioned_in_the_background(gateway: Gateway, demo: Demo) -> None:
    token, customer = await _ready(gateway, demo)
    subscriber = await _subscribe(gateway, token, subscriber_input(customer, "ada@example.com"))
    assert subscriber["status"] == "provisioning"
    assert await _transitions(gateway, subscriber["id"]) == [(None, "provisioning")]
    await gateway.settle()
    after = await _read(gateway, token, subscriber["id"])
    assert after is not None and after["status"] == "provisioned"
    assert after["version"] > subscriber["version"]
    events = await gateway.events(entityId=subscriber["id"])
    assert [(e["entityType"], e["fromStatus"], e["toStatus"]) for e in events] == [
        ("SUBSCRIBER", None, "provisioning"), ("SUBSCRIBER", "provisioning", "provisioned")]
    assert [e["version"] for e in events] == [subscriber["version"], after["version"]]
    assert {e["customerId"] for e in events} == {customer}


async def test_r_sub_3_update_goes_through_updating(gateway: Gateway, demo: Demo) -> None:
    token, customer = await _ready(gateway, demo)
    created = await _subscribe(gateway, token, subscriber_input(customer, "ada@example.com"))
    await gateway.settle()
    provisioned = await _read(gateway, token, created["id"])
    assert provisioned is not None
    updating = await _update(gateway, token, created["id"], {"package": "webex_calling", "extension": "2002"})
    assert (updating["status"], updating["extension"]) == ("updating", "2002")
    assert updating["version"] > provisioned["version"]
    await gateway.settle()
    done = await _read(gateway, token, created["id"])
    assert done is not None
    assert (done["status"], done["extension"]) == ("provisioned", "2002")
    assert done["version"] > updating["version"]
    assert await _transitions(gateway, created["id"]) == [
        (None, "provisioning"), ("provisioning", "provisioned"), ("provisioned", "updating"),
        ("updating", "provisioned")]
    versions = [e["version"] for e in await gateway.events(entityId=created["id"])]
    assert versions == sorted(set(versions))


async def test_r_sub_3_delete_removes_the_subscriber(gateway: Gateway, demo: Demo) -> None:
    token, customer = await _ready(gateway, demo)
    created = await _subscribe(gateway, token, subscriber_input(customer, "ada@example.com"))
    await gateway.settle()
    await _delete(gateway, token, created["id"])
    assert await _status(gateway, token, created["id"]) == "deleting"
    await gateway.settle()
    assert await _read(gateway, token, created["id"]) is None
    assert await _db_find(gateway, "subscribers", {"_id": created["id"]}) == []
    transitions = await _transitions(gateway, created["id"])
    assert transitions[-2:] == [("provisioned", "deleting"), ("deleting", "deleted")]


async def test_r_sub_3_deleting_twice_is_invalid_state(gateway: Gateway, demo: Demo) -> None:
    token, customer = await _ready(gateway, demo)
    created = await _subscribe(gateway, token, subscriber_input(customer, "ada@example.com"))
    await gateway.settle()
    await _delete(gateway, token, created["id"])
    errors = await refused(gateway, token, DELETE_SUBSCRIBER, {"id": created["id"]})
    assert _codes(errors) == ["INVALID_STATE"]


async def test_r_sub_3_updating_a_subscriber_still_provisioning_is_invalid_state(
    gateway: Gateway, demo: Demo
) -> None:
    token, customer = await _ready(gateway, demo)
    created = await _subscribe(gateway, token, subscriber_input(customer, "ada@example.com"))
    errors = await _refuse_update(gateway, token, created["id"], {"package": "webex_calling", "extension": "2002"})
    assert _codes(errors) == ["INVALID_STATE"]
    assert await _status(gateway, token, created["id"]) == "provisioning"


async def test_r_sub_3_free_account_waits_for_consent(gateway: Gateway, demo: Demo) -> None:
    token, customer = await _ready(gateway, demo)
    consent_at = NOW + timedelta(days=2)
    db = gateway.runtime.db
    assert db is not None
    await db.collection("accounts").insert_one({"_id": "free@example.com", "consentAt": consent_at})
    created = await _subscribe(gateway, token, subscriber_input(customer, "free@example.com"))
    await gateway.settle()
    assert await _status(gateway, token, created["id"]) == "pending_user_migration"
    gateway.clock.advance(timedelta(days=1))
    await gateway.settle()
    assert await _status(gateway, token, created["id"]) == "pending_user_migration"
    gateway.clock.advance(timedelta(days=1))
    await gateway.settle()
    assert await _status(gateway, token, created["id"]) == "provisioned"
    assert await _transitions(gateway, created["id"]) == [
        (None, "provisioning"), ("provisioning", "pending_user_migration"),
        ("pending_user_migration", "provisioned")]


async def test_r_sub_3_free_account_without_consent_stays_pending(gateway: Gateway, demo: Demo) -> None:
    token, customer = await _ready(gateway, demo)
    db = gateway.runtime.db
    assert db is not None
    await db.collection("accounts").insert_one({"_id": "free@example.com", "consentAt": None})
    created = await _subscribe(gateway, token, subscriber_input(customer, "free@example.com"))
    await gateway.settle()
    gateway.clock.advance(timedelta(days=30))
    await gateway.settle()
    assert await _status(gateway, token, created["id"]) == "pending_user_migration"


async def test_r_sub_3_other_emails_are_not_held_for_migration(gateway: Gateway, demo: Demo) -> None:
    token, customer = await _ready(gateway, demo)
    db = gateway.runtime.db
    assert db is not None
    await db.collection("accounts").insert_one({"_id": "free@example.com", "consentAt": None})
    created = await _subscribe(gateway, token, subscriber_input(customer, "paid@example.com"))
    await gateway.settle()
    assert await _status(gateway, token, created["id"]) == "provisioned"


# ---------------------------------------------------------------- §7 email unique across the system


async def test_s7_email_in_use_in_the_same_customer(gateway: Gateway, demo: Demo) -> None:
    token, customer = await _ready(gateway, demo)
    await _subscribe(gateway, token, subscriber_input(customer, "ada@example.com", extension="2001"))
    errors = await _refuse_subscriber(gateway, token, subscriber_input(customer, "ada@example.com",
                                                                       extension="2002"))
    assert _problems(errors) == [("EMAIL_IN_USE", ["input", "email"])]


async def test_s7_email_in_use_in_another_customer(gateway: Gateway, demo: Demo) -> None:
    token, first = await _ready(gateway, demo, "C1")
    _, second = await _ready(gateway, demo, "C2")
    await _subscribe(gateway, token, subscriber_input(first, "ada@example.com"))
    errors = await _refuse_subscriber(gateway, token, subscriber_input(second, "ada@example.com"))
    assert _problems(errors) == [("EMAIL_IN_USE", ["input", "email"])]


async def test_s7_email_in_use_by_another_orgs_subscriber(gateway: Gateway, demo: Demo) -> None:
    token, customer = await _ready(gateway, demo)
    for sub_partner in (demo.sub_a, demo.sub_b):
        theirs = await _db_find(gateway, "subscribers", {"ownerOrgId": sub_partner})
        assert theirs
        errors = await _refuse_subscriber(gateway, token, subscriber_input(customer, theirs[0]["email"]))
        assert _problems(errors) == [("EMAIL_IN_USE", ["input", "email"])], sub_partner
        upper = await _refuse_subscriber(gateway, token, subscriber_input(customer, theirs[0]["email"].upper()))
        assert _codes(upper) == ["EMAIL_IN_USE"], sub_partner


async def test_s7_email_comparison_ignores_case(gateway: Gateway, demo: Demo) -> None:
    token, customer = await _ready(gateway, demo)
    await _subscribe(gateway, token, subscriber_input(customer, "Ada.Lovelace@Example.com", extension="2001"))
    for variant in ("ada.lovelace@example.com", "ADA.LOVELACE@EXAMPLE.COM", "Ada.Lovelace@Example.com"):
        errors = await _refuse_subscriber(gateway, token, subscriber_input(customer, variant, extension="2002"))
        assert _problems(errors) == [("EMAIL_IN_USE", ["input", "email"])], variant


async def test_s7_email_is_free_again_once_the_subscriber_is_removed(gateway: Gateway, demo: Demo) -> None:
    token, customer = await _ready(gateway, demo)
    first = await _subscribe(gateway, token, subscriber_input(customer, "ada@example.com"))
    await gateway.settle()
    await _delete(gateway, token, first["id"])
    # Still deleting: the subscriber exists, so its email is still taken.
    errors = await _refuse_subscriber(gateway, token, subscriber_input(customer, "ada@example.com",
                                                                       extension="2002"))
    assert _codes(errors) == ["EMAIL_IN_USE"]
    await gateway.settle()
    again = await _subscribe(gateway, token, subscriber_input(customer, "ada@example.com", extension="2002"))
    assert again["id"] != first["id"] and again["email"] == "ada@example.com"


# ---------------------------------------------------------------- R-PKG-7, R-PKG-6 packages


async def test_r_pkg_6_limit_refuses_one_subscriber_too_many(gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    data = _with_limits(await provisioning_id(gateway, demo.partner), "LIM-1",
                        [{"package": "webex_calling", "limit": 1}])
    customer = (await provision(gateway, token, data))["id"]
    await gateway.settle()
    await _subscribe(gateway, token, subscriber_input(customer, "one@example.com", extension="2001"))
    errors = await _refuse_subscriber(gateway, token, subscriber_input(customer, "two@example.com",
                                                                       extension="2002"))
    assert _problems(errors) == [("PACKAGE_LIMIT_REACHED", ["input", "package"])]
    # The limit is per package: the customer's other package is not affected.
    meetings = subscriber_input(customer, "three@example.com", package="webex_meetings")
    del meetings["extension"]
    await _subscribe(gateway, token, meetings)


async def test_r_pkg_6_removed_subscriber_frees_its_place(gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    data = _with_limits(await provisioning_id(gateway, demo.partner), "LIM-1",
                        [{"package": "webex_calling", "limit": 1}])
    customer = (await provision(gateway, token, data))["id"]
    await gateway.settle()
    first = await _subscribe(gateway, token, subscriber_input(customer, "one@example.com", extension="2001"))
    await gateway.settle()
    await _delete(gateway, token, first["id"])
    await gateway.settle()
    second = await _subscribe(gateway, token, subscriber_input(customer, "two@example.com", extension="2002"))
    assert second["package"] == "webex_calling"
    errors = await _refuse_subscriber(gateway, token, subscriber_input(customer, "three@example.com",
                                                                       extension="2003"))
    assert _codes(errors) == ["PACKAGE_LIMIT_REACHED"]


async def test_r_pkg_6_update_into_a_full_package_is_refused(gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    data = _with_limits(await provisioning_id(gateway, demo.partner), "LIM-1",
                        [{"package": "webex_calling", "limit": 1}])
    customer = (await provision(gateway, token, data))["id"]
    await gateway.settle()
    await _subscribe(gateway, token, subscriber_input(customer, "one@example.com", extension="2001"))
    meetings = subscriber_input(customer, "two@example.com", package="webex_meetings")
    del meetings["extension"]
    user = await _subscribe(gateway, token, meetings)
    assert user["isAdmin"] is False
    await gateway.settle()
    errors = await _refuse_update(gateway, token, user["id"], {"package": "webex_calling", "extension": "2002"})
    assert _problems(errors) == [("PACKAGE_LIMIT_REACHED", ["input", "package"])]


# ---------------------------------------------------------------- §6 locations


async def test_s6_calling_subscriber_defaults_to_headquarters(gateway: Gateway, demo: Demo) -> None:
    token, customer_id = await _ready(gateway, demo)
    hq = _headquarters(await current(gateway, token, customer_id))
    implicit = await _subscribe(gateway, token, subscriber_input(customer_id, "one@example.com", extension="2001"))
    explicit = await _subscribe(gateway, token, subscriber_input(customer_id, "two@example.com", extension="2002",
                                                                 locationId=hq))
    assert implicit["location"] == {"id": hq}
    assert explicit["location"] == {"id": hq}


async def test_s6_meetings_subscriber_has_no_location(gateway: Gateway, demo: Demo) -> None:
    token, customer_id = await _ready(gateway, demo)
    data = subscriber_input(customer_id, "meet@example.com", package="webex_meetings")
    del data["extension"]
    subscriber = await _subscribe(gateway, token, data)
    assert subscriber["location"] is None


async def test_s6_location_not_of_the_customer_is_not_found(gateway: Gateway, demo: Demo) -> None:
    token, customer_id = await _ready(gateway, demo, "C1")
    _, other = await _ready(gateway, demo, "C2")
    foreign = await _db_find(gateway, "locations", {"ownerOrgId": demo.sub_a})
    assert foreign
    candidates = {"unknown": UNKNOWN_LOCATION, "another customer": _headquarters(await current(gateway, token, other)),
                  "another org": foreign[0]["_id"]}
    for whose, location in candidates.items():
        errors = await _refuse_subscriber(gateway, token, subscriber_input(customer_id, "ada@example.com",
                                                                           locationId=location))
        assert _problems(errors) == [("NOT_FOUND", ["input", "locationId"])], whose


# ---------------------------------------------------------------- R-RPL-5 waiting for the customer


async def test_r_rpl_5_subscriber_waits_for_a_customer_still_provisioning(gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    customer = await _new_customer(gateway, token, demo.partner, settle=False)
    assert customer["status"] == "provisioning"
    subscriber = await _subscribe(gateway, token, subscriber_input(customer["id"], "ada@example.com"))
    assert (subscriber["status"], subscriber["customer"]) == ("provisioning", {"id": customer["id"],
                                                                              "status": "provisioning"})
    await gateway.settle()
    after = await _read(gateway, token, subscriber["id"])
    assert after is not None
    assert (after["status"], after["customer"]["status"]) == ("provisioned", "provisioned")
    # The subscriber completed only after its customer did.
    customer_done = [e["seq"] for e in await gateway.events(entityId=customer["id"], toStatus="provisioned")]
    subscriber_done = [e["seq"] for e in await gateway.events(entityId=subscriber["id"], toStatus="provisioned")]
    assert len(customer_done) == len(subscriber_done) == 1
    assert customer_done[0] < subscriber_done[0]


async def test_r_rpl_5_subscribers_wait_for_the_review_then_approve(gateway: Gateway, demo: Demo) -> None:
    await _rpl_entry(gateway)
    token = partner_token(gateway, demo)
    customer = await _new_customer(gateway, token, demo.partner, "Bad", settle=False)
    early = await _subscribe(gateway, token, subscriber_input(customer["id"], "early@example.com",
                                                              extension="2001"))
    await gateway.settle()
    assert (await current(gateway, token, customer["id"]))["status"] == "pending_rpl_review"
    late = await _subscribe(gateway, token, subscriber_input(customer["id"], "late@example.com", extension="2002"))
    assert late["status"] == "provisioning"
    await gateway.settle()
    gateway.clock.advance(timedelta(hours=1))
    await gateway.settle()
    assert [await _status(gateway, token, s["id"]) for s in (early, late)] == ["provisioning", "provisioning"]
    decided = (await gateway.execute(reviewer_token(gateway), DECIDE, {"id": customer["id"],
                                                                       "decision": "APPROVE"}))["decideRplReview"]
    assert decided["errors"] == [], decided
    await gateway.settle()
    assert (await current(gateway, token, customer["id"]))["status"] == "provisioned"
    assert [await _status(gateway, token, s["id"]) for s in (early, late)] == ["provisioned", "provisioned"]


async def test_r_rpl_5_rejected_customer_fails_its_waiting_subscribers(gateway: Gateway, demo: Demo) -> None:
    await _rpl_entry(gateway)
    token = partner_token(gateway, demo)
    customer = await _new_customer(gateway, token, demo.partner, "Bad", settle=False)
    early = await _subscribe(gateway, token, subscriber_input(customer["id"], "early@example.com",
                                                              extension="2001"))
    await gateway.settle()
    late = await _subscribe(gateway, token, subscriber_input(customer["id"], "late@example.com", extension="2002"))
    await gateway.settle()
    decided = (await gateway.execute(reviewer_token(gateway), DECIDE, {"id": customer["id"],
                                                                       "decision": "REJECT"}))["decideRplReview"]
    assert decided["errors"] == [], decided
    await gateway.settle()
    failed = await current(gateway, token, customer["id"])
    assert failed["status"] == "error"
    assert [e["code"] for e in failed["errors"]] == ["RPL_REJECTED"]
    for waiting in (early, late):
        after = await _read(gateway, token, waiting["id"])
        assert after is not None
        assert after["status"] == "error", after
        assert after["errors"] == failed["errors"], after
        assert (await _transitions(gateway, waiting["id"]))[-1] == ("provisioning", "error")


# ---------------------------------------------------------------- R-PRE precheck


async def test_r_pre_valid_request_is_ok_and_writes_nothing(gateway: Gateway, demo: Demo) -> None:
    token, customer = await _ready(gateway, demo)
    async with gateway.writes_nothing("a precheck"):
        result = (await gateway.execute(token, PRECHECK_SUBSCRIBER, {"input": subscriber_input(
            customer, "ada@example.com")}))["precheckSubscriberProvisioning"]
    assert result["ok"] is True and result["errors"] == []
    assert [i["code"] for i in result["info"]] == [100]
    assert result["info"][0]["description"]
    # A precheck reserves nothing: the same request is then accepted.
    await _subscribe(gateway, token, subscriber_input(customer, "ada@example.com"))


async def test_r_pre_reports_every_problem_at_once_and_writes_nothing(gateway: Gateway, demo: Demo) -> None:
    token, customer = await _ready(gateway, demo)
    data = subscriber_input(customer, "not-an-email", lastName=" ")
    del data["extension"]
    async with gateway.writes_nothing("a precheck"):
        result = (await gateway.execute(token, PRECHECK_SUBSCRIBER, {"input": data}))["precheckSubscriberProvisioning"]
    assert result["ok"] is False and result["info"] == []
    codes = {e["code"]: e["field"] for e in result["errors"]}
    assert set(codes) == {"INVALID_EMAIL", "REQUIRED", "CALLING_NUMBER_REQUIRED"}, result
    assert codes["INVALID_EMAIL"] == ["input", "email"]
    assert codes["REQUIRED"] == ["input", "lastName"]


async def test_r_pre_reports_conflicts_with_stored_subscribers(gateway: Gateway, demo: Demo) -> None:
    token, customer = await _ready(gateway, demo)
    await _subscribe(gateway, token, subscriber_input(customer, "ada@example.com", extension="2001"))
    async with gateway.writes_nothing("a precheck"):
        result = (await gateway.execute(token, PRECHECK_SUBSCRIBER, {"input": subscriber_input(
            customer, "ADA@example.com", extension="2001")}))["precheckSubscriberProvisioning"]
    assert result["ok"] is False and result["info"] == []
    assert _problems(result["errors"]) == _problems([
        {"code": "EMAIL_IN_USE", "field": ["input", "email"]},
        {"code": "NUMBER_IN_USE", "field": ["input", "extension"]}])


async def test_r_pre_reports_package_rules_and_limits(gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    data = _with_limits(await provisioning_id(gateway, demo.partner), "LIM-1",
                        [{"package": "webex_calling", "limit": 1}])
    customer = (await provision(gateway, token, data))["id"]
    await gateway.settle()
    await _subscribe(gateway, token, subscriber_input(customer, "one@example.com", extension="2001"))
    for package, code in (("webex_calling", "PACKAGE_LIMIT_REACHED"), ("webex_suite", "PACKAGE_NOT_ON_CUSTOMER")):
        async with gateway.writes_nothing("a precheck"):
            result = (await gateway.execute(token, PRECHECK_SUBSCRIBER, {"input": subscriber_input(
                customer, "two@example.com", package=package, extension="2002")}))["precheckSubscriberProvisioning"]
        assert result["ok"] is False, result
        assert _codes(result["errors"]) == [code], result


# ---------------------------------------------------------------- R-ORG-4, R-ORG-5, R-ORG-6


async def _provisioned_customer_of(gateway: Gateway, org: str, package: str = "webex_calling") -> str:
    """A customer of `org` that is provisioned and holds `package`, found through the customers query."""
    data = await gateway.execute(gateway.token(org, "read_only_admin"), CUSTOMERS,
                                 {"filter": {"status": ["provisioned"]}})
    found = [e["node"]["id"] for e in data["customers"]["edges"]
             if e["node"]["status"] == "provisioned"
             and any(p["name"] == package and p["status"] == "provisioned" for p in e["node"]["packages"])]
    assert found, f"{org} has no provisioned customer with {package}"
    return str(found[0])


async def test_r_org_4_parent_provisions_a_subscriber_for_its_sub_partner(gateway: Gateway, demo: Demo) -> None:
    customer = await _provisioned_customer_of(gateway, demo.sub_a)
    parent = partner_token(gateway, demo)
    subscriber = await _subscribe(gateway, parent, subscriber_input(customer, "ada@example.com", extension="4001"),
                                  on_behalf=demo.sub_a)
    assert subscriber["customer"]["id"] == customer
    (doc,) = await _db_find(gateway, "subscribers", {"_id": subscriber["id"]})
    assert doc["ownerOrgId"] == demo.sub_a
    assert [e["ownerOrgId"] for e in await gateway.events(entityId=subscriber["id"])] == [demo.sub_a]
    sub_a = gateway.token(demo.sub_a, "full_admin")
    assert await _status(gateway, sub_a, subscriber["id"]) == "provisioning"
    await gateway.settle()
    assert await _status(gateway, sub_a, subscriber["id"]) == "provisioned"
    # The sub-partner manages it as its own.
    await _delete(gateway, sub_a, subscriber["id"])


@pytest.mark.read_only
async def test_r_org_4_acting_for_an_org_that_is_not_a_sub_partner_is_refused(gateway: Gateway, demo: Demo) -> None:
    customer = await _provisioned_customer_of(gateway, demo.sub_a)
    errors = await _refuse_subscriber(gateway, gateway.token(demo.sub_a, "full_admin"),
                                      subscriber_input(customer, "ada@example.com", extension="4001"),
                                      on_behalf=demo.sub_b)
    assert _codes(errors) == ["NOT_A_SUB_PARTNER"]


@pytest.mark.read_only
async def test_r_org_6_another_orgs_customer_is_not_found(gateway: Gateway, demo: Demo) -> None:
    parent = partner_token(gateway, demo)
    theirs = await _provisioned_customer_of(gateway, demo.sub_a)
    foreign = await _refuse_subscriber(gateway, parent, subscriber_input(theirs, "ada@example.com",
                                                                         extension="4001"))
    assert _problems(foreign) == [("NOT_FOUND", ["input", "customerId"])]
    missing = await _refuse_subscriber(gateway, parent, subscriber_input(UNKNOWN_CUSTOMER, "ada@example.com",
                                                                         extension="4001"))
    assert foreign == missing  # no existence leak (R-ORG-6)


async def test_r_org_6_sub_partner_cannot_reach_its_parents_customer(gateway: Gateway, demo: Demo) -> None:
    parent = partner_token(gateway, demo)
    _, customer = await _ready(gateway, demo)
    await _subscribe(gateway, parent, subscriber_input(customer, "admin@example.com", extension="2001"))
    errors = await _refuse_subscriber(gateway, gateway.token(demo.sub_a, "full_admin"),
                                      subscriber_input(customer, "ada@example.com", extension="4001"))
    assert _problems(errors) == [("NOT_FOUND", ["input", "customerId"])]


async def _suspended_sub_b_with_subscriber(gateway: Gateway, demo: Demo) -> tuple[str, str]:
    """sub_b (suspended in the demo) with a provisioned subscriber of its own; returns its token and the id."""
    platform = gateway.token(None, "platform_admin")
    activated = await gateway.execute(platform, SET_STATE, {"id": demo.sub_b, "state": "active"})
    assert activated["setSubPartnerState"]["errors"] == []
    token = gateway.token(demo.sub_b, "full_admin")
    customer = await _new_customer(gateway, token, demo.sub_b, "SUSP-1")
    assert customer["status"] == "provisioned"
    subscriber = await _subscribe(gateway, token, subscriber_input(customer["id"], "ada@example.com"))
    await gateway.settle()
    assert await _status(gateway, token, subscriber["id"]) == "provisioned"
    suspended = await gateway.execute(platform, SET_STATE, {"id": demo.sub_b, "state": "suspended"})
    assert suspended["setSubPartnerState"]["partner"]["provisioningState"] == "suspended"
    return token, str(subscriber["id"])


async def test_r_org_5_suspended_sub_partner_cannot_provision_subscribers(gateway: Gateway, demo: Demo) -> None:
    token, subscriber_id = await _suspended_sub_b_with_subscriber(gateway, demo)
    subscriber = await _read(gateway, token, subscriber_id)
    assert subscriber is not None
    customer = subscriber["customer"]["id"]
    errors = await _refuse_subscriber(gateway, token, subscriber_input(customer, "new@example.com",
                                                                       extension="2002"))
    assert _codes(errors) == ["SUB_PARTNER_SUSPENDED"]
    # Nor may its parent do it for it.
    errors = await _refuse_subscriber(gateway, partner_token(gateway, demo),
                                      subscriber_input(customer, "new@example.com", extension="2002"),
                                      on_behalf=demo.sub_b)
    assert _codes(errors) == ["SUB_PARTNER_SUSPENDED"]


async def test_r_org_5_suspended_sub_partner_cannot_update_subscribers(gateway: Gateway, demo: Demo) -> None:
    token, subscriber_id = await _suspended_sub_b_with_subscriber(gateway, demo)
    errors = await _refuse_update(gateway, token, subscriber_id, {"package": "webex_calling", "extension": "2009"})
    assert _codes(errors) == ["SUB_PARTNER_SUSPENDED"]


async def test_r_org_5_suspended_sub_partner_may_delete_its_subscriber(gateway: Gateway, demo: Demo) -> None:
    token, subscriber_id = await _suspended_sub_b_with_subscriber(gateway, demo)
    await _delete(gateway, token, subscriber_id)
    assert await _status(gateway, token, subscriber_id) == "deleting"
    await gateway.settle()
    assert await _read(gateway, token, subscriber_id) is None
    assert (await _transitions(gateway, subscriber_id))[-1] == ("deleting", "deleted")


# ---------------------------------------------------------------- customers that take no subscribers


async def test_r_cus_state_rejected_customer_takes_no_subscribers(gateway: Gateway, demo: Demo) -> None:
    await _rpl_entry(gateway)
    token = partner_token(gateway, demo)
    customer = await _new_customer(gateway, token, demo.partner, "Bad")
    assert customer["status"] == "pending_rpl_review"
    decided = (await gateway.execute(reviewer_token(gateway), DECIDE, {"id": customer["id"],
                                                                       "decision": "REJECT"}))["decideRplReview"]
    assert decided["errors"] == [], decided
    await gateway.settle()
    assert (await current(gateway, token, customer["id"]))["status"] == "error"
    errors = await _refuse_subscriber(gateway, token, subscriber_input(customer["id"], "ada@example.com"))
    assert _codes(errors) == ["INVALID_STATE"]


async def test_r_cus_state_deleting_customer_takes_no_subscribers(gateway: Gateway, demo: Demo) -> None:
    token, customer = await _ready(gateway, demo)
    deleting = (await gateway.execute(token, DELETE, {"id": customer}))["deleteCustomer"]
    assert deleting["errors"] == [] and deleting["customer"]["status"] == "deleting", deleting
    errors = await _refuse_subscriber(gateway, token, subscriber_input(customer, "ada@example.com"))
    assert _codes(errors) == ["INVALID_STATE"]
