"""Changes a customer's own admin makes on the Webex side, as they reach the gateway (DOMAIN.md §5.8, R-RBP-2): with
restricted-by-partner mode off they are subscriber changes by actor CUSTOMER_ADMIN under the partner's rules, limits
and billing; with it on they are refused and nothing is written. Called at service level, as the Webex side would."""

from __future__ import annotations

from typing import Any

import pytest

from domain.model.errors import DomainError
from domain.rules.subscribers import NewSubscriber
from domain.services.customer_admin import customer_admin_adds_subscriber, customer_admin_changes_package
from tests.api.provisioning import (
    PROVISION_SUBSCRIBER,
    customer_input,
    partner_token,
    provision,
    provisioning_id,
    subscriber_input,
)
from tests.conftest import Demo, Gateway

pytestmark = pytest.mark.settled_demo

ADMIN = "Boss@Customer-Admin.example"
SETTINGS = """
mutation($id: ID!, $on: Boolean!) {
  updateCustomerSettings(customerId: $id, input: { restrictedByPartnerMode: $on }) { errors { code field } }
}"""
HISTORY = """
query($filter: EventFilter) {
  provisioningEvents(filter: $filter, first: 100) {
    edges { node { entityId fromStatus toStatus action changes { field from to } actor { kind sub orgId } } }
  }
}"""


async def _customer(gateway: Gateway, demo: Demo, restricted: bool) -> tuple[str, str]:
    """A provisioned customer of the demo partner with restricted mode as asked; (token, customer id)."""
    token = partner_token(gateway, demo)
    customer = await provision(gateway, token, customer_input(await provisioning_id(gateway, demo.partner), "CA-1"))
    await gateway.settle()
    if not restricted:
        result = (await gateway.execute(token, SETTINGS, {"id": customer["id"], "on": False}))
        assert result["updateCustomerSettings"]["errors"] == []
    return token, str(customer["id"])


def _new(customer_id: str, email: str = "joiner@customer-admin.example", **fields: Any) -> NewSubscriber:
    return NewSubscriber(**{"customer_id": customer_id, "email": email, "package": "webex_calling",
                            "first_name": "Jo", "last_name": "Iner", "extension": "3001", **fields})


async def _history(gateway: Gateway, token: str, entity_id: str, *actions: str) -> list[dict[str, Any]]:
    data = await gateway.execute(token, HISTORY, {"filter": {"entityIds": [entity_id],
                                                             "actions": list(actions) or None}})
    return [e["node"] for e in data["provisioningEvents"]["edges"]]


async def test_r_rbp_2_a_customer_admin_adds_a_user_evented_as_customer_admin_and_billed(
        gateway: Gateway, demo: Demo) -> None:
    token, customer_id = await _customer(gateway, demo, restricted=False)
    added = await customer_admin_adds_subscriber(gateway.repos, customer_id, ADMIN, _new(customer_id))
    assert (added.status.value, added.is_admin, added.owner_org_id) == ("provisioning", True, demo.partner)
    await gateway.settle()
    events = await _history(gateway, token, added.id)
    assert [(e["fromStatus"], e["toStatus"]) for e in events] == [(None, "provisioning"),
                                                                  ("provisioning", "provisioned")]
    # Through the API the partner sees who did it: the customer's own admin, as stored (its email, no org).
    assert {(e["actor"]["kind"], e["actor"]["sub"], e["actor"]["orgId"]) for e in events} == {
        ("CUSTOMER_ADMIN", ADMIN.lower(), None)}
    # Billed as usual (R-BIL-1): a usage interval is open for its package.
    assert [u["package"] for u in await gateway.repos.usage.open_of(added.id)] == ["webex_calling"]


async def test_r_rbp_2_a_customer_admin_changes_a_package_under_the_same_rules_and_billing(
        gateway: Gateway, demo: Demo) -> None:
    token, customer_id = await _customer(gateway, demo, restricted=False)
    for email, extension in (("first@customer-admin.example", "2000"), ("worker@customer-admin.example", "2001")):
        added = (await gateway.execute(token, PROVISION_SUBSCRIBER, {"input": subscriber_input(
            customer_id, email, extension=extension)}))["provisionSubscriber"]["subscriber"]
    assert added["isAdmin"] is False  # the first one is the customer's admin, which may not downgrade (R-SUB-2)
    await gateway.settle()
    changed = await customer_admin_changes_package(gateway.repos, added["id"], ADMIN, "webex_meetings")
    assert (changed.package, changed.extension, changed.location_id) == ("webex_meetings", "2001", None)
    await gateway.settle()
    updates = await _history(gateway, token, added["id"], "UPDATE")
    assert [(e["actor"]["kind"], e["actor"]["sub"]) for e in updates] == [("CUSTOMER_ADMIN", ADMIN.lower())]
    assert {c["field"]: c["to"] for c in updates[0]["changes"]}["package"] == '"webex_meetings"'
    assert [u["package"] for u in await gateway.repos.usage.open_of(added["id"])] == ["webex_meetings"]
    # Same rules as the partner's update: a package the customer does not hold is refused, nothing written.
    async with gateway.writes_nothing():
        with pytest.raises(DomainError) as refused:
            await customer_admin_changes_package(gateway.repos, added["id"], ADMIN, "webex_suite")
    assert [e.code.value for e in refused.value.errors] == ["PACKAGE_NOT_ON_CUSTOMER"]


async def test_r_rbp_2_a_customer_admins_request_obeys_the_partners_rules(gateway: Gateway, demo: Demo) -> None:
    _, customer_id = await _customer(gateway, demo, restricted=False)
    async with gateway.writes_nothing():
        with pytest.raises(DomainError) as refused:
            await customer_admin_adds_subscriber(gateway.repos, customer_id, ADMIN,
                                                 _new(customer_id, package="webex_suite", extension="x"))
    assert {(e.code.value, e.field) for e in refused.value.errors} >= {
        ("PACKAGE_NOT_ON_CUSTOMER", ("input", "package")), ("INVALID_EXTENSION", ("input", "extension"))}


async def test_r_rbp_2_with_restricted_mode_on_the_customer_admin_cannot_manage_users(
        gateway: Gateway, demo: Demo) -> None:
    token, customer_id = await _customer(gateway, demo, restricted=True)
    added = (await gateway.execute(token, PROVISION_SUBSCRIBER, {"input": subscriber_input(
        customer_id, "kept@customer-admin.example")}))["provisionSubscriber"]["subscriber"]
    await gateway.settle()
    async with gateway.writes_nothing():
        with pytest.raises(DomainError) as adding:
            await customer_admin_adds_subscriber(gateway.repos, customer_id, ADMIN, _new(customer_id))
        with pytest.raises(DomainError) as changing:
            await customer_admin_changes_package(gateway.repos, added["id"], ADMIN, "webex_meetings")
    for refused in (adding, changing):
        assert [(e.code.value, e.field) for e in refused.value.errors] == [("SETTING_NOT_AVAILABLE", ("customerId",))]


async def test_r_rbp_2_unknown_customers_and_subscribers_are_not_found(gateway: Gateway, demo: Demo) -> None:
    with pytest.raises(DomainError) as customer:
        await customer_admin_adds_subscriber(gateway.repos, "cus_nowhere", ADMIN, _new("cus_nowhere"))
    with pytest.raises(DomainError) as subscriber:
        await customer_admin_changes_package(gateway.repos, "sub_nowhere", ADMIN, "webex_meetings")
    assert [e.code.value for e in (*customer.value.errors, *subscriber.value.errors)] == ["NOT_FOUND", "NOT_FOUND"]


async def test_r_rbp_2_settings_are_passed_to_the_webex_side(gateway: Gateway, demo: Demo) -> None:
    token, customer_id = await _customer(gateway, demo, restricted=True)
    engine = gateway.runtime.engine
    assert customer_id not in engine.org_settings  # nothing changed yet: nothing passed
    result = await gateway.execute(token, SETTINGS, {"id": customer_id, "on": False})
    assert result["updateCustomerSettings"]["errors"] == []
    await gateway.settle()
    assert engine.org_settings[customer_id] == {"restrictedByPartnerMode": False, "restrictEnterpriseSettings": False}
    await gateway.execute(token, SETTINGS, {"id": customer_id, "on": True})
    await gateway.settle()
    assert engine.org_settings[customer_id]["restrictedByPartnerMode"] is True


@pytest.mark.read_only
async def test_r_rbp_2_the_demo_shows_a_user_added_by_an_attached_customers_own_admin(
        gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    found = (await gateway.execute(token, """query { subscribers(filter: { email: "ella.stone@harbor-cafe.example" })
      { edges { node { id status } } } }"""))["subscribers"]["edges"]
    assert [e["node"]["status"] for e in found] == ["provisioned"]
    events = await _history(gateway, token, found[0]["node"]["id"])
    assert {(e["actor"]["kind"], e["actor"]["sub"]) for e in events} == {
        ("CUSTOMER_ADMIN", "it-admin@harbor-cafe.example")}
