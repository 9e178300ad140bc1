"""Who did what (R-AUD-1) and whole histories (R-AUD-2), through the API: actors, UPDATE events, the new filters."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta
from typing import Any

import pytest
from gql import GraphQLRequest

from domain.rules.rpl import RplEntry
from tests.api.live import serving, ws_client
from tests.api.provisioning import (
    DECIDE,
    PROVISION,
    UPDATE,
    customer_input,
    partner_token,
    provision,
    provisioning_id,
    reviewer_token,
)
from tests.conftest import Demo, Gateway

pytestmark = pytest.mark.settled_demo

HISTORY = """
query($filter: EventFilter, $first: Int) {
  provisioningEvents(filter: $filter, first: $first) {
    totalCount
    edges { node { entityType entityId fromStatus toStatus version action occurredAt
                   changes { field from to }
                   actor { kind sub orgId roles onBehalfOfSubPartnerOrgId system requestId } } }
  }
}"""


async def _history(gateway: Gateway, token: str, **filter: Any) -> list[dict[str, Any]]:
    data = await gateway.execute(token, HISTORY, {"filter": filter, "first": 100})
    return [e["node"] for e in data["provisioningEvents"]["edges"]]


async def test_r_aud_1_a_request_and_its_background_steps_are_recorded_as_its_user(
        gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    response = await gateway.post(token, PROVISION, {"input": customer_input(await provisioning_id(
        gateway, demo.partner))})
    customer = response.json()["data"]["provisionCustomer"]["customer"]
    request_id = response.headers["x-request-id"]
    await gateway.settle()
    events = await _history(gateway, token, entityIds=[customer["id"]])
    assert [(e["fromStatus"], e["toStatus"]) for e in events] == [(None, "provisioning"), ("provisioning",
                                                                                          "provisioned")]
    for event in events:  # the worker's step that provisioned it keeps the request's actor
        assert event["action"] == "STATUS_CHANGE"
        assert event["actor"] == {"kind": "USER", "sub": "tester@example.com", "orgId": demo.partner,
                                  "roles": ["full_admin"], "onBehalfOfSubPartnerOrgId": None, "system": None,
                                  "requestId": request_id}


async def test_r_aud_1_a_sub_partner_sees_its_parent_only_as_the_parent_partner(gateway: Gateway, demo: Demo) -> None:
    """R-ORG-6 amended: the parent acting on behalf of a sub-partner shows there without any id."""
    parent = partner_token(gateway, demo)
    customer = await provision(gateway, parent, customer_input(await provisioning_id(gateway, demo.sub_a)),
                               on_behalf=demo.sub_a)
    await gateway.settle()
    as_parent = await _history(gateway, parent, entityIds=[customer["id"]], subPartnerOrgId=demo.sub_a)
    assert as_parent and all(e["actor"]["kind"] == "USER" and e["actor"]["orgId"] == demo.partner
                             and e["actor"]["onBehalfOfSubPartnerOrgId"] == demo.sub_a for e in as_parent)
    as_sub = await _history(gateway, gateway.token(demo.sub_a, "full_admin"), entityIds=[customer["id"]])
    assert [e["version"] for e in as_sub] == [e["version"] for e in as_parent]
    assert all(e["actor"] == {"kind": "PARENT_PARTNER", "sub": None, "orgId": None, "roles": [],
                              "onBehalfOfSubPartnerOrgId": None, "system": None, "requestId": None}
               for e in as_sub)


async def test_r_aud_1_timers_act_as_the_system_and_platform_staff_by_role_only(gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    await gateway.repos.rpl.load([RplEntry.create("Audit list", "Initrode", (), None),
                                  RplEntry.create("Audit list", "Vandelay Industries", (), None)])
    timed: list[str] = []
    decided: list[str] = []
    for name, into in (("Initrode", timed), ("Vandelay Industries", decided)):
        data = customer_input(await provisioning_id(gateway, demo.partner), f"AUD-{name[:3]}")
        data["customerInfo"]["name"] = name
        into.append((await provision(gateway, token, data))["id"])
    await gateway.settle()
    await gateway.execute(reviewer_token(gateway), DECIDE, {"id": decided[0], "decision": "REJECT"})
    gateway.clock.advance(timedelta(hours=72, minutes=1))
    await gateway.settle()
    timeout = (await _history(gateway, token, entityIds=timed, toStatuses=["error"]))[-1]
    assert timeout["actor"]["kind"] == "SYSTEM" and timeout["actor"]["system"] == "rpl_review_timeout"
    assert timeout["actor"]["sub"] is None and timeout["actor"]["orgId"] is None
    rejection = (await _history(gateway, token, entityIds=decided, toStatuses=["error"]))[-1]
    assert rejection["actor"]["kind"] == "PLATFORM" and rejection["actor"]["roles"] == ["compliance_reviewer"]
    assert rejection["actor"]["sub"] is None and rejection["actor"]["requestId"] is None


async def test_r_aud_1_an_edit_records_update_with_before_and_after_values(gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    customer = await provision(gateway, token, customer_input(await provisioning_id(gateway, demo.partner), "AUD-E"))
    await gateway.settle()
    answer = (await gateway.execute(token, UPDATE, {"id": customer["id"], "input": {
        "externalId": "AUD-E2", "packages": ["webex_calling", "webex_suite"]}}))["updateCustomer"]
    assert answer["errors"] == []
    updates = await _history(gateway, token, entityIds=[customer["id"]], actions=["UPDATE"])
    assert len(updates) == 1
    changes = {c["field"]: (c["from"], c["to"]) for c in updates[0]["changes"]}
    assert changes["externalId"] == ('"AUD-E"', '"AUD-E2"')
    assert set(changes) == {"externalId", "packages"}
    assert "webex_suite" in changes["packages"][1] and "webex_suite" not in changes["packages"][0]
    # Without `actions` a reader keeps getting status changes only, as in v1 (R-AUD-2).
    plain = await _history(gateway, token, entityIds=[customer["id"]])
    assert {e["action"] for e in plain} == {"STATUS_CHANGE"} and all(e["changes"] == [] for e in plain)
    both = await _history(gateway, token, entityIds=[customer["id"]], actions=["STATUS_CHANGE", "UPDATE"])
    assert len(both) == len(plain) + 1


async def test_r_aud_2_histories_filter_by_actor_and_time(gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    other = gateway.token(demo.partner, "full_admin", subject="someone-else@example.com")
    mine = await provision(gateway, token, customer_input(await provisioning_id(gateway, demo.partner), "AUD-A"))
    gateway.clock.advance(timedelta(minutes=10))
    theirs = await provision(gateway, other, customer_input(await provisioning_id(gateway, demo.partner), "AUD-B"))
    ids = [mine["id"], theirs["id"]]
    by_other = await _history(gateway, token, entityIds=ids, actorSub="someone-else@example.com")
    assert [e["entityId"] for e in by_other] == [theirs["id"]]
    first = (await _history(gateway, token, entityIds=ids))[0]
    later = await _history(gateway, token, entityIds=ids, occurredAfter=first["occurredAt"])
    earlier = await _history(gateway, token, entityIds=ids, occurredBefore=later[0]["occurredAt"])
    assert [e["entityId"] for e in later] == [theirs["id"]] and [e["entityId"] for e in earlier] == [mine["id"]]


LIVE = """
subscription($filter: EventFilter, $after: String) {
  provisioningEvents(filter: $filter, after: $after) { entityId fromStatus toStatus action changes { field } }
}"""


async def test_r_aud_2_live_subscribers_get_updates_only_when_they_ask(gateway: Gateway, demo: Demo) -> None:
    """A v1 subscriber keeps receiving status changes only; one asking for UPDATE gets the edit between them."""
    token = partner_token(gateway, demo)
    customer = await provision(gateway, token, customer_input(await provisioning_id(gateway, demo.partner), "AUD-L"))
    await gateway.settle()
    head = (await gateway.execute(token, "{ eventsHead }"))["eventsHead"]
    await gateway.execute(token, UPDATE, {"id": customer["id"], "input": {
        "externalId": "AUD-L2", "packages": ["webex_calling", "webex_meetings"]}})
    await gateway.settle()
    ids = [customer["id"]]
    async with serving(gateway.app) as url, ws_client(url, token) as session:
        async def first(n: int, filter: dict[str, Any]) -> list[dict[str, Any]]:
            got: list[dict[str, Any]] = []
            request = GraphQLRequest(LIVE, variable_values={"filter": filter, "after": head})
            async with contextlib.aclosing(session.subscribe(request)) as stream:
                async for result in stream:
                    got.append(result["provisioningEvents"])
                    if len(got) == n:
                        return got
            return got
        plain = await asyncio.wait_for(first(2, {"entityIds": ids}), 30)
        every = await asyncio.wait_for(first(3, {"entityIds": ids, "actions": ["STATUS_CHANGE", "UPDATE"]}), 30)
    assert [(e["action"], e["toStatus"]) for e in plain] == [("STATUS_CHANGE", "updating"),
                                                             ("STATUS_CHANGE", "provisioned")]
    assert [e["action"] for e in every] == ["STATUS_CHANGE", "UPDATE", "STATUS_CHANGE"]
    assert every[1]["changes"] == [{"field": "externalId"}]
