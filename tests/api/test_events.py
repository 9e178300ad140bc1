"""The events outbox (R-EVT-1) and its read side: `provisioningEvents` and `Customer.events`."""

from __future__ import annotations

from typing import Any

import pytest

from domain.store.engine import Fault, FaultRule
from tests.api.provisioning import (
    DELETE,
    PROVISION_SUBSCRIBER,
    UPDATE,
    customer_input,
    partner_token,
    provision,
    provisioning_id,
    subscriber_input,
)
from tests.conftest import Demo, Gateway

# The demo as its first settle leaves it: these tests are about entities of their own (tests/conftest.py).
pytestmark = pytest.mark.settled_demo

EVENTS = """
query($filter: EventFilter, $first: Int, $after: String) {
  provisioningEvents(filter: $filter, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node { cursor entityType entityId customerId ownerOrgId fromStatus toStatus version
                          reason occurredAt errors { code } customer { id status } subscriber { id } } }
  }
}"""
CUSTOMER_EVENTS = """
query($id: ID!, $first: Int, $after: String) {
  customer(id: $id) { events(first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { entityType fromStatus toStatus version } } } }
}"""
SET_STATE = """
mutation($id: ID!, $state: SubPartnerState!) { setSubPartnerState(id: $id, state: $state) {
  partner { id provisioningState } errors { code } } }"""


async def _customer_lifecycle(gateway: Gateway, demo: Demo) -> str:
    """Provision, add a subscriber, update and delete one customer, settling after each step."""
    token = partner_token(gateway, demo)
    customer = await provision(gateway, token, customer_input(await provisioning_id(gateway, demo.partner)))
    await gateway.execute(token, PROVISION_SUBSCRIBER, {"input": subscriber_input(customer["id"], "e@x.example")})
    await gateway.settle()
    await gateway.execute(token, UPDATE, {"id": customer["id"], "input": {"packages": ["webex_calling",
                                                                                     "webex_suite"]}})
    await gateway.settle()
    await gateway.execute(token, DELETE, {"id": customer["id"]})
    await gateway.settle()
    return str(customer["id"])


async def test_r_evt_1_every_status_change_has_exactly_one_event_in_commit_order(
        gateway: Gateway, demo: Demo) -> None:
    customer_id = await _customer_lifecycle(gateway, demo)
    events = await gateway.events(customerId=customer_id)
    seqs = [e["seq"] for e in events]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    by_entity: dict[tuple[str, str], list[tuple[str | None, str]]] = {}
    for e in events:
        by_entity.setdefault((e["entityType"], e["entityId"]), []).append((e["fromStatus"], e["toStatus"]))
    assert by_entity[("CUSTOMER", customer_id)] == [
        (None, "provisioning"), ("provisioning", "provisioned"), ("provisioned", "updating"),
        ("updating", "provisioned"), ("provisioned", "deleting"), ("deleting", "deleted")]
    assert by_entity[("CUSTOMER_PACKAGE", f"{customer_id}:webex_meetings")] == [
        (None, "provisioning"), ("provisioning", "provisioned"), ("provisioned", "deleting"),
        ("deleting", "deleted")]
    assert by_entity[("CUSTOMER_PACKAGE", f"{customer_id}:webex_suite")] == [
        (None, "provisioning"), ("provisioning", "provisioned"), ("provisioned", "deleting"),
        ("deleting", "deleted")]
    [subscriber] = [k for k in by_entity if k[0] == "SUBSCRIBER"]
    assert by_entity[subscriber] == [(None, "provisioning"), ("provisioning", "provisioned"),
                                     ("provisioned", "deleting"), ("deleting", "deleted")]
    # Each event of an entity carries the version after its change: strictly increasing.
    for (kind, entity), _ in by_entity.items():
        if kind in ("CUSTOMER", "SUBSCRIBER"):
            versions = [e["version"] for e in events if e["entityId"] == entity]
            assert versions == sorted(set(versions)), (entity, versions)
    # Every event names the owner, and the package events their package (what billing will need).
    assert {e["ownerOrgId"] for e in events} == {demo.partner}
    assert all(e["details"]["package"] == e["entityId"].split(":")[1] for e in events
               if e["entityType"] == "CUSTOMER_PACKAGE")


async def test_r_evt_1_a_failure_is_an_event_with_its_errors(gateway: Gateway, demo: Demo) -> None:
    gateway.runtime.engine.rules.append(FaultRule(Fault.CALLING_MAINTENANCE, "FAULTY-"))
    token = partner_token(gateway, demo)
    customer = await provision(gateway, token, customer_input(await provisioning_id(gateway, demo.partner),
                                                              "FAULTY-1"))
    await gateway.settle()
    events = await gateway.events(customerId=customer["id"])
    last = [e for e in events if e["entityType"] == "CUSTOMER"][-1]
    assert (last["fromStatus"], last["toStatus"]) == ("provisioning", "provisioned_with_errors")
    failed = [e for e in events if e["entityId"] == f"{customer['id']}:webex_calling"][-1]
    assert failed["toStatus"] == "error" and [x["code"] for x in failed["errors"]] == ["2560"]


async def test_r_evt_1_a_sub_partner_state_change_is_an_event(gateway: Gateway, demo: Demo) -> None:
    admin = gateway.token(None, "platform_admin")
    await gateway.execute(admin, SET_STATE, {"id": demo.sub_a, "state": "suspended"})
    await gateway.execute(admin, SET_STATE, {"id": demo.sub_a, "state": "suspended"})  # no change, no event
    await gateway.execute(admin, SET_STATE, {"id": demo.sub_a, "state": "active"})
    events = [(e["fromStatus"], e["toStatus"]) for e in await gateway.events(entityId=demo.sub_a)]
    assert events == [("active", "suspended"), ("suspended", "active")]
    seen = (await gateway.execute(gateway.token(demo.sub_a, "full_admin"), EVENTS,
                                  {"filter": {"entityTypes": ["SUB_PARTNER"]}}))["provisioningEvents"]
    assert [e["node"]["toStatus"] for e in seen["edges"]] == ["suspended", "active"]


async def _all(gateway: Gateway, token: str, filter: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    nodes: list[dict[str, Any]] = []
    after = None
    while True:
        page = (await gateway.execute(token, EVENTS, {"filter": filter, "first": 100, "after": after}
                                      ))["provisioningEvents"]
        nodes += [e["node"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return nodes
        after = page["pageInfo"]["endCursor"]


@pytest.mark.read_only  # shares the module's gateway and demo (tests/conftest.py)
async def test_r_org_2_a_sub_partner_sees_only_its_own_events(gateway: Gateway, demo: Demo) -> None:
    token = gateway.token(demo.sub_a, "full_admin")
    events = await _all(gateway, token)
    assert events and {e["ownerOrgId"] for e in events} == {demo.sub_a}
    # Naming its parent or sibling gives nothing (R-ORG-6: same as an unknown org).
    for other in (demo.partner, demo.sub_b, "ptn_000000000000000000000000"):
        page = (await gateway.execute(token, EVENTS, {"filter": {"subPartnerOrgId": other}}))["provisioningEvents"]
        assert page["edges"] == [] and page["totalCount"] == 0


@pytest.mark.read_only  # shares the module's gateway and demo (tests/conftest.py)
async def test_r_org_3_a_parent_sees_sub_partner_events_only_when_it_asks(gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    own = await _all(gateway, token)
    assert {e["ownerOrgId"] for e in own} == {demo.partner}
    everything = await _all(gateway, token, {"includeSubPartners": True})
    assert {e["ownerOrgId"] for e in everything} == {demo.partner, demo.sub_a, demo.sub_b}
    one = await _all(gateway, token, {"subPartnerOrgId": demo.sub_b})
    assert one and {e["ownerOrgId"] for e in one} == {demo.sub_b}
    assert len(everything) == len(own) + len(one) + len(await _all(gateway, token, {"subPartnerOrgId": demo.sub_a}))
    # In commit order (the outbox's sequence), across the parent and its sub-partners.
    stored = await gateway.events(rootOrgId=demo.partner)
    assert [(e["entityId"], e["toStatus"]) for e in everything] == [(e["entityId"], e["toStatus"]) for e in stored]


async def test_provisioning_events_filters_and_pages(gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    customer_id = await _customer_lifecycle(gateway, demo)
    only = await _all(gateway, token, {"customerIds": [customer_id], "entityTypes": ["CUSTOMER"],
                                       "toStatuses": ["provisioned", "deleted"]})
    assert [(e["fromStatus"], e["toStatus"]) for e in only] == [
        ("provisioning", "provisioned"), ("updating", "provisioned"), ("deleting", "deleted")]
    assert all(e["customer"] is None for e in only)  # deleted: its current state is gone
    first = (await gateway.execute(token, EVENTS, {"first": 2}))["provisioningEvents"]
    rest = (await gateway.execute(token, EVENTS, {"first": 2, "after": first["pageInfo"]["endCursor"]}
                                  ))["provisioningEvents"]
    assert first["pageInfo"]["hasNextPage"] and first["totalCount"] == rest["totalCount"]
    assert not {e["cursor"] for e in first["edges"]} & {e["cursor"] for e in rest["edges"]}
    errors = await gateway.errors(token, EVENTS, {"after": "not-a-cursor"})
    assert errors[0]["extensions"]["code"] == "VALIDATION_FAILED"


async def test_customer_events_lists_its_changes_and_resolves_current_state(gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    customer = await provision(gateway, token, customer_input(await provisioning_id(gateway, demo.partner)))
    await gateway.settle()
    events = (await gateway.execute(token, CUSTOMER_EVENTS, {"id": customer["id"]}))["customer"]["events"]
    assert events["totalCount"] == len(events["edges"]) == 6  # customer and two packages, two changes each
    assert [e["node"]["toStatus"] for e in events["edges"] if e["node"]["entityType"] == "CUSTOMER"] == [
        "provisioning", "provisioned"]
    live = await _all(gateway, token, {"customerIds": [customer["id"]], "entityTypes": ["CUSTOMER"]})
    assert all(e["customer"] == {"id": customer["id"], "status": "provisioned"} for e in live)


async def test_r_sub_4_subscriber_events_mark_where_each_package_assignment_starts_and_ends(
        gateway: Gateway, demo: Demo) -> None:
    """The billing ledger (DOMAIN.md §8) is built from these: provisioned → starts, change → ends one and starts
    the next, deleting → ends."""
    from datetime import timedelta

    from tests.api.provisioning import DELETE_SUBSCRIBER, UPDATE_SUBSCRIBER

    token = partner_token(gateway, demo)
    data = customer_input(await provisioning_id(gateway, demo.partner))
    data["packages"] = ["webex_calling", "webex_suite"]
    customer = await provision(gateway, token, data)
    await gateway.settle()
    sub = (await gateway.execute(token, PROVISION_SUBSCRIBER, {"input": subscriber_input(
        customer["id"], "r.sub4@x.example")}))["provisionSubscriber"]["subscriber"]
    await gateway.settle()
    gateway.clock.advance(timedelta(hours=12))
    await gateway.execute(token, UPDATE_SUBSCRIBER, {"id": sub["id"], "input": {
        "package": "webex_suite", "extension": "2001"}})
    await gateway.settle()
    gateway.clock.advance(timedelta(hours=6))
    await gateway.execute(token, DELETE_SUBSCRIBER, {"id": sub["id"]})
    await gateway.settle()
    trail = [(e["fromStatus"], e["toStatus"], e["details"].get("previousPackage"), e["details"]["package"],
              e["occurredAt"]) for e in await gateway.events(entityId=sub["id"])]
    start = trail[1][4]
    assert [t[:4] for t in trail] == [
        (None, "provisioning", None, "webex_calling"),
        ("provisioning", "provisioned", None, "webex_calling"),
        ("provisioned", "updating", "webex_calling", "webex_suite"),
        ("updating", "provisioned", None, "webex_suite"),
        ("provisioned", "deleting", None, "webex_suite"),
        ("deleting", "deleted", None, "webex_suite"),
    ]
    assert trail[2][4] - start == timedelta(hours=12) and trail[4][4] - start == timedelta(hours=18)


async def test_r_evt_1_a_billing_report_event_resolves_the_report_as_the_caller_may_see_it(
        gateway: Gateway, demo: Demo) -> None:
    # Report generation is the billing issue's; here a report and its event are stored as that work will store
    # them, to show the event's `billingReport` field resolves the current report within the caller's scope.
    from domain.model.changes import Change, EntityType
    from domain.model.ids import Kind, new_id

    report_id = new_id(Kind.BILLING_REPORT)
    report: dict[str, Any] = {
              "_id": report_id, "ownerOrgId": demo.partner, "rootOrgId": demo.partner, "subPartnerOrgId": None,
              "billingStartDate": "2026-10-01", "billingEndDate": "2026-10-31", "type": "PARTNER",
              "status": "IN_PROGRESS", "createdAt": gateway.clock.now(), "createdBy": "tester@example.com",
              "errors": [], "version": 1}

    async def store(tx: Any) -> None:
        await gateway.repos.billing_reports.insert(report, session=tx.session)
        tx.record(Change(EntityType.BILLING_REPORT, report_id, demo.partner, demo.partner, None, "IN_PROGRESS", 1))

    await gateway.repos.atomic(store)
    query = """{ provisioningEvents(filter: {entityTypes: [BILLING_REPORT]}) { edges { node {
        entityId toStatus customer { id } billingReport { id status type billingStartDate version
                                                           subPartner { id } rows { totalCount } } } } } }"""
    [edge] = (await gateway.execute(gateway.token(demo.partner, "full_admin"), query))["provisioningEvents"]["edges"]
    assert edge["node"] == {"entityId": report_id, "toStatus": "IN_PROGRESS", "customer": None, "billingReport": {
        "id": report_id, "status": "IN_PROGRESS", "type": "PARTNER", "billingStartDate": "2026-10-01",
        "version": 1, "subPartner": None, "rows": {"totalCount": 0}}}
    sub = gateway.token(demo.sub_a, "full_admin")
    assert (await gateway.execute(sub, query))["provisioningEvents"]["edges"] == []
    node = "query($id: ID!) { node(id: $id) { id } }"
    assert (await gateway.execute(sub, node, {"id": report_id}))["node"] is None
    assert (await gateway.execute(gateway.token(demo.partner, "full_admin"), node, {"id": report_id}))["node"] == {
        "id": report_id}


# ------------------------------------------------------------------ R-ORG-6: no side channel through the events feed

HEAD = "{ eventsHead }"
ACTIVATE = 'mutation($id: ID!) { setSubPartnerState(id: $id, state: active) { errors { code } } }'


async def _head(gateway: Gateway, token: str) -> str:
    head: str = (await gateway.execute(token, HEAD))["eventsHead"]
    return head


async def _foreign_partner(gateway: Gateway, name: str) -> tuple[str, str]:
    """Another top-level partner (no events of its own yet), with a template; returns its id and provisioningId.

    The template is written straight to the database, as the demo seeds its own: created through the API it
    would be an event of the partner's (ONBOARDING_TEMPLATE, R-TPL-5), and these tests need a partner with none.
    """
    import uuid

    from domain.model.entities import AuthMode, OnboardingTemplate
    from domain.model.ids import Kind, new_id
    from tests.api.billing import CREATE_PARTNER

    made = await gateway.execute(gateway.token(None, "platform_admin"), CREATE_PARTNER, {"input": {
        "name": name, "subscriptionId": f"Sub-{name}"}})
    partner: str = made["createPartner"]["partner"]["id"]
    template = OnboardingTemplate(
        id=new_id(Kind.TEMPLATE), owner_org_id=partner, root_org_id=partner, provisioning_id=str(uuid.uuid4()),
        name="US", country="US", language="en_US", auth_mode=AuthMode.WEBEX, subscription_id=f"Sub-{name}",
        restrict_admin_invite_emails_on_attach=False, disable_webex_calling_1to1=False, name_key="us",
        created_at=gateway.clock.now())
    await gateway.repos.templates.insert(template.to_doc())
    return partner, template.provisioning_id


async def _after(gateway: Gateway, token: str, cursor: str) -> list[dict[str, Any]]:
    """Every event the caller may see after `cursor` (all pages)."""
    nodes: list[dict[str, Any]] = []
    after: str | None = cursor
    while True:
        page = (await gateway.execute(token, EVENTS, {"first": 100, "after": after}))["provisioningEvents"]
        nodes += [e["node"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return nodes
        after = page["pageInfo"]["endCursor"]


async def test_r_org_6_events_head_and_cursors_do_not_move_when_another_tenant_or_a_sibling_provisions(
        gateway: Gateway, demo: Demo) -> None:
    await gateway.execute(gateway.token(None, "platform_admin"), ACTIVATE, {"id": demo.sub_b})
    await gateway.settle()  # nothing of the demo's own (sub-partner A's included) is left to move
    sub_a = gateway.token(demo.sub_a, "full_admin")
    parent_reader = gateway.token(demo.partner, "read_only_admin")  # sees its own events only (R-ORG-3)
    parent_admin = partner_token(gateway, demo)  # may ask for its sub-partners' events too
    heads = {"sub_a": await _head(gateway, sub_a), "parent_reader": await _head(gateway, parent_reader),
             "parent_admin": await _head(gateway, parent_admin)}
    cursors = [e["cursor"] for e in await _all(gateway, sub_a)]
    assert cursors[-1] == heads["sub_a"]

    foreign, template = await _foreign_partner(gateway, "Elsewhere Telecom")
    await provision(gateway, gateway.token(foreign, "full_admin"), customer_input(template, "FOREIGN-1"))
    await provision(gateway, gateway.token(demo.sub_b, "full_admin"),
                    customer_input(await provisioning_id(gateway, demo.sub_b), "SIBLING-1"))
    await gateway.settle()

    assert await _head(gateway, sub_a) == heads["sub_a"]
    assert await _head(gateway, parent_reader) == heads["parent_reader"]
    assert [e["cursor"] for e in await _all(gateway, sub_a)] == cursors
    assert await _after(gateway, sub_a, heads["sub_a"]) == []
    # The head is the caller's own: the full_admin parent, who may see its sub-partner's events, sees it move.
    assert await _head(gateway, parent_admin) != heads["parent_admin"]

    # Resuming after the head gives exactly what the caller may see that came after it.
    own = await provision(gateway, sub_a, customer_input(await provisioning_id(gateway, demo.sub_a), "OWN-1"))
    await gateway.settle()
    later = await _after(gateway, sub_a, heads["sub_a"])
    stored = [e for e in await gateway.events(ownerOrgId=demo.sub_a) if e["customerId"] == own["id"]]
    assert [(e["entityId"], e["toStatus"]) for e in later] == [(e["entityId"], e["toStatus"]) for e in stored]
    assert await _head(gateway, sub_a) == later[-1]["cursor"]


async def test_r_org_6_a_caller_that_sees_no_event_gets_one_constant_start_cursor(gateway: Gateway, demo: Demo) -> None:
    first, template = await _foreign_partner(gateway, "Quiet Telecom")
    second, _ = await _foreign_partner(gateway, "Silent Telecom")
    start = await _head(gateway, gateway.token(first, "full_admin"))
    assert await _head(gateway, gateway.token(second, "full_admin")) == start
    assert await _head(gateway, gateway.token(None, "platform_admin")) == start
    await provision(gateway, partner_token(gateway, demo),
                    customer_input(await provisioning_id(gateway, demo.partner), "ELSEWHERE-1"))
    await gateway.settle()
    assert await _head(gateway, gateway.token(first, "full_admin")) == start
    assert await _after(gateway, gateway.token(first, "full_admin"), start) == []
    # Its first events are all there after the start cursor.
    customer = await provision(gateway, gateway.token(first, "full_admin"), customer_input(template, "FIRST-1"))
    events = await _after(gateway, gateway.token(first, "full_admin"), start)
    assert events and {e["customerId"] for e in events} == {customer["id"]}
    assert await _head(gateway, gateway.token(second, "full_admin")) == start


async def test_r_org_6_a_quiet_tenant_is_not_told_its_cursor_expired_because_other_tenants_events_were_purged(
        gateway: Gateway, demo: Demo) -> None:
    """R-EVT-2's CURSOR_EXPIRED says that events the caller may see were removed by retention after its cursor;
    what retention removed of other tenants' events changes nothing for it. (Since 2026-12 retention keeps events
    at least five years, R-AUD-2.)"""
    from datetime import timedelta

    from domain.workflows.maintenance import HISTORY_RETENTION

    quiet, template = await _foreign_partner(gateway, "Quiet Telecom")
    empty, _ = await _foreign_partner(gateway, "Empty Telecom")
    quiet_token, empty_token = gateway.token(quiet, "full_admin"), gateway.token(empty, "full_admin")
    start = await _head(gateway, empty_token)
    await provision(gateway, quiet_token, customer_input(template, "QUIET-1"))
    await gateway.settle()
    head = await _head(gateway, quiet_token)
    gateway.clock.advance(HISTORY_RETENTION + timedelta(days=1))  # everything so far is older than retention
    await provision(gateway, partner_token(gateway, demo),
                    customer_input(await provisioning_id(gateway, demo.partner), "BUSY-1"))
    assert gateway.runtime.retention is not None
    assert await gateway.runtime.retention.purge() > 0

    assert await _head(gateway, quiet_token) == head  # its newest event is gone, its position is not
    assert await _after(gateway, quiet_token, head) == []
    assert await _after(gateway, empty_token, start) == []
    assert await _head(gateway, empty_token) == start
    # Its own events after a cursor were purged: that cursor has expired.
    [error] = await gateway.errors(quiet_token, EVENTS, {"after": start})
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("CURSOR_EXPIRED", ["after"])
    # And it goes on after its head.
    later = await provision(gateway, quiet_token, customer_input(template, "QUIET-2"))
    assert {e["customerId"] for e in await _after(gateway, quiet_token, head)} == {later["id"]}


@pytest.mark.read_only  # shares the module's gateway and demo (tests/conftest.py)
async def test_r_org_6_forged_tampered_truncated_or_foreign_cursors_are_refused_on_after(
        gateway: Gateway, demo: Demo) -> None:
    import base64
    import json

    token = partner_token(gateway, demo)
    events = (await gateway.execute(token, EVENTS, {"first": 2}))["provisioningEvents"]
    real = events["pageInfo"]["endCursor"]
    customers = (await gateway.execute(token, "{ customers(first: 1) { pageInfo { endCursor } } }"))["customers"]
    seq = (await gateway.events(ownerOrgId=demo.partner))[1]["seq"]

    def old_style(*payload: object) -> str:  # the former encoding: readable and writable by a client
        return base64.urlsafe_b64encode(json.dumps(list(payload)).encode()).decode().rstrip("=")

    flipped = real[:10] + ("A" if real[10] != "A" else "B") + real[11:]
    forged = {"tampered": flipped, "truncated": real[:-6], "extended": real + "AAAA",
              "customer list cursor": customers["pageInfo"]["endCursor"],
              "former encoding": old_style("events", seq, f"evt_{seq:012d}"),
              "not base64": "!!!", "empty payload": "AAAA"}
    for name, cursor in forged.items():
        [error] = await gateway.errors(token, EVENTS, {"after": cursor})
        assert (error["extensions"]["code"], error["extensions"]["field"]) == ("VALIDATION_FAILED", ["after"]), name
    [error] = await gateway.errors(token, "query($after: String) { customers(after: $after) { totalCount } }",
                                   {"after": real})
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("VALIDATION_FAILED", ["after"])
    # The real one still works.
    assert (await gateway.execute(token, EVENTS, {"first": 1, "after": real}))["provisioningEvents"]["edges"]
