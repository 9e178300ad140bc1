"""Live provisioning events over websockets (graphql-transport-ws) with the real `gql` client.

The app runs under a real uvicorn server on a free port, in this process, so the test drives the job
queue (`gateway.settle()`) and the clock itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import pytest
from gql import GraphQLRequest
from gql.transport.exceptions import TransportConnectionFailed, TransportQueryError
from websockets.exceptions import ConnectionClosed

from domain.rules.rpl import RplEntry
from domain.workflows.maintenance import PURGE_EVERY, PURGE_JOB
from resolvers.events.sharing import STATS
from tests.api.live import serving, subscribers_reach, ws_client
from tests.api.provisioning import DECIDE, customer_input, partner_token, provision, provisioning_id, reviewer_token
from tests.conftest import Demo, Gateway

# The demo as its first settle leaves it: these tests are about entities of their own (tests/conftest.py).
pytestmark = pytest.mark.settled_demo

SUBSCRIBE = """
subscription($filter: EventFilter, $after: String) {
  provisioningEvents(filter: $filter, after: $after) {
    cursor entityType entityId customerId ownerOrgId fromStatus toStatus version customer { id status }
  }
}"""
HEAD = "{ eventsHead }"
DEADLINE_S = 30.0  # a failure bound, not a timing assertion


@pytest.fixture
async def ws_url(gateway: Gateway) -> AsyncIterator[str]:
    async with serving(gateway.app) as url:
        yield url


async def _collect(url: str, token: str, n: int, variables: dict[str, Any], started: asyncio.Event,
                   about: set[str] | None = None) -> list[dict[str, Any]]:
    """The first `n` events received (only those about the ids in `about`, once it is filled in, if given)."""
    received: list[dict[str, Any]] = []
    async with ws_client(url, token) as session:
        # Closed on leaving, so that it stops its subscription before the client closes: a stream left open
        # would make the client wait for its `complete` until its close timeout (10 s).
        async with contextlib.aclosing(session.subscribe(GraphQLRequest(SUBSCRIBE, variable_values=variables))
                                       ) as stream:
            started.set()
            async for result in stream:
                received.append(result["provisioningEvents"])
                # `about` may be filled in after its first event arrived: look at everything received so far.
                relevant = [e for e in received if about is None or e["entityId"] in about]
                if len(relevant) == n:
                    return relevant
    return received


async def test_r_evt_2_a_partner_sees_its_customer_move_through_review(
        gateway: Gateway, demo: Demo, ws_url: str) -> None:
    await gateway.repos.rpl.load([RplEntry.create("Test List", "Umbrella Holdings")])
    token = partner_token(gateway, demo)
    head = (await gateway.execute(token, HEAD))["eventsHead"]
    started = asyncio.Event()
    only_customers = {"filter": {"entityTypes": ["CUSTOMER"]}, "after": head}
    about: set[str] = set()  # only this customer's events count, whatever else moves
    watcher = asyncio.create_task(_collect(ws_url, token, 3, only_customers, started, about))
    await asyncio.wait_for(started.wait(), DEADLINE_S)
    data = customer_input(await provisioning_id(gateway, demo.partner), "LIVE-1")
    data["customerInfo"]["name"] = "Umbrella Holdings Ltd"
    customer = await provision(gateway, token, data)
    about.add(customer["id"])
    await gateway.settle()
    await gateway.execute(reviewer_token(gateway), DECIDE, {"id": customer["id"], "decision": "APPROVE"})
    await gateway.settle()
    events = await asyncio.wait_for(watcher, DEADLINE_S)
    assert [(e["fromStatus"], e["toStatus"]) for e in events] == [
        (None, "provisioning"), ("provisioning", "pending_rpl_review"), ("pending_rpl_review", "provisioned")]
    assert all(e["entityId"] == customer["id"] for e in events)
    versions = [e["version"] for e in events]
    assert versions == sorted(set(versions))
    assert events[-1]["customer"] == {"id": customer["id"], "status": "provisioned"}


async def test_r_evt_2_resuming_after_a_cursor_replays_what_was_missed_exactly_once(
        gateway: Gateway, demo: Demo, ws_url: str) -> None:
    token = partner_token(gateway, demo)
    head = (await gateway.execute(token, HEAD))["eventsHead"]
    provisioning = await provisioning_id(gateway, demo.partner)
    for i in range(3):  # committed while nobody listens
        await provision(gateway, token, customer_input(provisioning, f"MISSED-{i}"))
    started = asyncio.Event()
    watcher = asyncio.create_task(_collect(ws_url, token, 5, {
        "filter": {"entityTypes": ["CUSTOMER"]}, "after": head}, started))
    await asyncio.wait_for(started.wait(), DEADLINE_S)
    for i in range(2):  # and live ones after
        await provision(gateway, token, customer_input(provisioning, f"LIVE-{i}"))
    events = await asyncio.wait_for(watcher, DEADLINE_S)
    stored = [e for e in await gateway.events(entityType="CUSTOMER") if e["ownerOrgId"] == demo.partner]
    expected = [(e["entityId"], e["toStatus"]) for e in stored[-5:]]
    assert [(e["entityId"], e["toStatus"]) for e in events] == expected
    assert len({e["cursor"] for e in events}) == 5


async def test_r_org_2_a_sub_partner_subscription_receives_only_its_own_events(
        gateway: Gateway, demo: Demo, ws_url: str) -> None:
    partner = partner_token(gateway, demo)
    sub = gateway.token(demo.sub_a, "full_admin")
    head = (await gateway.execute(partner, HEAD))["eventsHead"]
    started = asyncio.Event()
    watcher = asyncio.create_task(_collect(ws_url, sub, 1, {"filter": {"entityTypes": ["CUSTOMER"]},
                                                            "after": head}, started))
    await asyncio.wait_for(started.wait(), DEADLINE_S)
    await provision(gateway, partner, customer_input(await provisioning_id(gateway, demo.partner), "PARENT-1"))
    own = await provision(gateway, partner, customer_input(await provisioning_id(gateway, demo.sub_a), "SUB-1"),
                          on_behalf=demo.sub_a)
    [event] = await asyncio.wait_for(watcher, DEADLINE_S)
    assert (event["entityId"], event["ownerOrgId"]) == (own["id"], demo.sub_a)


async def test_a_bad_token_in_connection_init_is_refused_with_4403(gateway: Gateway, ws_url: str) -> None:
    with pytest.raises(TransportConnectionFailed) as refused:
        async with ws_client(ws_url, "not-a-token") as session:
            async for _ in session.subscribe(GraphQLRequest(SUBSCRIBE)):
                break
    closed = refused.value.__cause__ or refused.value.__context__
    assert isinstance(closed, ConnectionClosed), repr(refused.value)
    assert closed.rcvd is not None and closed.rcvd.code == 4403


class Follower:
    """A gql client following a subscription in the background; `received` grows as events arrive."""

    def __init__(self, url: str, token: str, variables: dict[str, Any], query: str = SUBSCRIBE,
                 root: str = "provisioningEvents") -> None:
        self.received: list[dict[str, Any]] = []
        self.results: list[dict[str, Any]] = []  # whole results, as sent
        self.error: Exception | None = None
        self._arrived = asyncio.Event()
        self._task = asyncio.create_task(self._run(url, token, variables, query, root))

    async def _run(self, url: str, token: str, variables: dict[str, Any], query: str, root: str) -> None:
        try:
            async with ws_client(url, token) as session:
                async for result in session.subscribe(GraphQLRequest(query, variable_values=variables)):
                    self.results.append(result)
                    self.received.append(result[root])
                    self._arrived.set()
        except Exception as exc:  # kept for the test to look at
            self.error = exc
            self._arrived.set()

    async def until(self, done: Callable[[list[dict[str, Any]]], bool]) -> list[dict[str, Any]]:
        async with asyncio.timeout(DEADLINE_S):
            while not done(self.received):
                assert self.error is None, repr(self.error)
                self._arrived.clear()
                await self._arrived.wait()
        return self.received

    async def about(self, ids: set[str], n: int) -> list[dict[str, Any]]:
        """Wait for `n` events about `ids` (other demo work may move too); returns those."""
        await self.until(lambda got: len([e for e in got if e["entityId"] in ids]) >= n)
        return [e for e in self.received if e["entityId"] in ids]

    async def close(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


async def test_r_org_2_a_parent_and_two_sub_partners_each_receive_exactly_their_own_events(
        gateway: Gateway, demo: Demo, ws_url: str) -> None:
    platform = gateway.token(None, "platform_admin")
    await gateway.execute(platform, 'mutation($id: ID!) { setSubPartnerState(id: $id, state: active) '
                                    '{ errors { code } } }', {"id": demo.sub_b})
    parent = partner_token(gateway, demo)
    head = (await gateway.execute(parent, HEAD))["eventsHead"]
    customers_only = {"entityTypes": ["CUSTOMER"]}
    followers = {
        "parent": Follower(ws_url, parent, {"filter": customers_only, "after": head}),
        "parent+subs": Follower(ws_url, parent, {"filter": {**customers_only, "includeSubPartners": True},
                                                 "after": head}),
        "sub_a": Follower(ws_url, gateway.token(demo.sub_a, "full_admin"), {"filter": customers_only,
                                                                             "after": head}),
        "sub_b": Follower(ws_url, gateway.token(demo.sub_b, "read_only_admin"), {"after": head}),
    }
    try:
        await subscribers_reach(gateway.runtime.hub, len(followers))
        owners = {"parent": demo.partner, "sub_a": demo.sub_a, "sub_b": demo.sub_b}
        made: dict[str, str] = {}
        for i in range(2):
            for name, owner in owners.items():
                customer = await provision(gateway, parent,
                                           customer_input(await provisioning_id(gateway, owner), f"SCOPE-{name}-{i}"),
                                           on_behalf=None if owner == demo.partner else owner)
                made[customer["id"]] = owner
        await gateway.settle()  # each customer: provisioning, then provisioned
        ours = set(made)
        seen = {name: await f.about({i for i in ours if made[i] == owners.get(name, made[i])},
                                    4 if name != "parent+subs" else 12)
                for name, f in followers.items()}
        for name, owner in owners.items():
            assert {e["ownerOrgId"] for e in followers[name].received} == {owner}, name
            assert sorted({e["entityId"] for e in seen[name]}) == sorted(i for i in ours if made[i] == owner)
        assert {e["ownerOrgId"] for e in seen["parent+subs"]} == set(owners.values())
        # Nothing beyond: the last provisioned event was committed after every other one of ours.
        assert [len([e for e in f.received if e["entityId"] in ours]) for f in followers.values()] == [4, 12, 4, 4]
    finally:
        for f in followers.values():
            await f.close()


async def test_r_evt_2_a_client_that_reconnects_with_its_last_cursor_gets_the_ten_changes_it_missed(
        gateway: Gateway, demo: Demo, ws_url: str) -> None:
    token = partner_token(gateway, demo)
    provisioning = await provisioning_id(gateway, demo.partner)
    head = (await gateway.execute(token, HEAD))["eventsHead"]
    first = Follower(ws_url, token, {"filter": {"entityTypes": ["CUSTOMER"]}, "after": head})
    try:
        await subscribers_reach(gateway.runtime.hub, 1)
        before = await provision(gateway, token, customer_input(provisioning, "BEFORE"))
        [seen] = await first.about({before["id"]}, 1)
    finally:
        await first.close()
    await subscribers_reach(gateway.runtime.hub, 0)
    missed = [await provision(gateway, token, customer_input(provisioning, f"MISSED-{i}")) for i in range(10)]
    second = Follower(ws_url, token, {"filter": {"entityTypes": ["CUSTOMER"]}, "after": seen["cursor"]})
    try:
        await subscribers_reach(gateway.runtime.hub, 1)
        live = await provision(gateway, token, customer_input(provisioning, "LIVE"))
        ids = {c["id"] for c in missed} | {live["id"]}
        await second.about(ids, 11)
        stored = [e for e in await gateway.events(entityType="CUSTOMER") if e["seq"] > 0]
        expected = [e["entityId"] for e in stored if e["entityId"] in ids | {before["id"]}]
        after_seen = expected[expected.index(before["id"]) + 1:]
        got = [e["entityId"] for e in second.received]
        assert got[:11] == after_seen == [c["id"] for c in missed] + [live["id"]]
        assert before["id"] not in got
        assert len({e["cursor"] for e in second.received}) == len(second.received)
    finally:
        await second.close()


async def test_r_evt_2_subscribers_asking_the_same_thing_share_one_execution_and_one_encoding(
        gateway: Gateway, demo: Demo, ws_url: str) -> None:
    token = partner_token(gateway, demo)
    head = (await gateway.execute(token, HEAD))["eventsHead"]
    other_selection = SUBSCRIBE.replace("customer { id status }", "customer { id name }")
    with_subs = {"entityTypes": ["CUSTOMER"], "includeSubPartners": True}
    twins = [Follower(ws_url, token, {"filter": with_subs, "after": head}) for _ in range(3)]
    different = Follower(ws_url, token, {"filter": with_subs, "after": head}, other_selection)
    sub_partner = Follower(ws_url, gateway.token(demo.sub_a, "full_admin"),
                           {"filter": {"entityTypes": ["CUSTOMER"]}, "after": head})
    everyone = [*twins, different, sub_partner]
    try:
        await subscribers_reach(gateway.runtime.hub, len(everyone))
        before = dataclasses.replace(STATS)
        customer = await provision(gateway, partner_token(gateway, demo),
                                   customer_input(await provisioning_id(gateway, demo.sub_a), "SHARED"),
                                   on_behalf=demo.sub_a)
        results = [(await f.about({customer["id"]}, 1))[0] for f in everyone]
        assert results[0] == results[1] == results[2]
        assert results[3]["customer"] == {"id": customer["id"], "name": customer["name"]}
        assert results[4] == results[0]  # same selection and data, but a different scope: run on its own
        # The event was run three times (twins, other selection, other scope), twice taken from the twins' run.
        # The others rode the twin that ran it (were sent its frame), or, when not idle yet, took its result.
        ridden = STATS.ridden - before.ridden
        assert (STATS.executed - before.executed, STATS.reused - before.reused + ridden) == (3, 2)
        assert STATS.encoded - before.encoded == 3  # one JSON encoding per execution, none per subscriber
    finally:
        for f in everyone:
            await f.close()


async def test_r_evt_2_shared_results_keep_each_subscribers_aliases(gateway: Gateway, demo: Demo,
                                                                   ws_url: str) -> None:
    """Issue #13: the sharing key left out the root field, so `second:` received the result shaped for `first:`."""
    token = partner_token(gateway, demo)
    head = (await gateway.execute(token, HEAD))["eventsHead"]
    variables = {"filter": {"entityTypes": ["CUSTOMER"]}, "after": head}
    shapes = {
        "first": "subscription($filter: EventFilter, $after: String) { first: provisioningEvents(filter: $filter, "
                 "after: $after) { entityId toStatus } }",
        "second": "subscription($filter: EventFilter, $after: String) { second: provisioningEvents(filter: $filter, "
                  "after: $after) { entityId toStatus } }",
        "provisioningEvents": "subscription($filter: EventFilter, $after: String) { provisioningEvents("
                              "filter: $filter, after: $after) { id: entityId toStatus } }",
    }
    followers = {root: Follower(ws_url, token, variables, query, root) for root, query in shapes.items()}
    try:
        await subscribers_reach(gateway.runtime.hub, len(followers))
        customer = await provision(gateway, token, customer_input(await provisioning_id(gateway, demo.partner),
                                                                  "ALIASES"))
        for root, follower in followers.items():
            await follower.until(lambda got: any(customer["id"] in e.values() for e in got))
            first = next(r for r in follower.results if customer["id"] in r[root].values())
            assert list(first) == [root]
            id_key = "id" if root == "provisioningEvents" else "entityId"
            assert first[root] == {id_key: customer["id"], "toStatus": "provisioning"}
    finally:
        for f in followers.values():
            await f.close()


async def test_r_evt_2_a_subscription_resuming_before_events_older_than_7_days_gets_cursor_expired(
        gateway: Gateway, demo: Demo, ws_url: str) -> None:
    """R-EVT-2 (amended 2026-12): the 7-day window limits only resuming subscriptions; the events are history
    (R-AUD-2): the purge keeps them, and queries still page through them from the same cursor."""
    token = partner_token(gateway, demo)
    provisioning = await provisioning_id(gateway, demo.partner)
    old_head = (await gateway.execute(token, HEAD))["eventsHead"]
    old = await provision(gateway, token, customer_input(provisioning, "OLD"))
    gateway.clock.advance(timedelta(days=8))
    recent_1 = await provision(gateway, token, customer_input(provisioning, "RECENT-1"))
    recent_head = (await gateway.execute(token, HEAD))["eventsHead"]
    recent = await provision(gateway, token, customer_input(provisioning, "RECENT-2"))
    assert gateway.runtime.retention is not None
    assert await gateway.runtime.retention.purge() == 0  # nothing is 5 years old

    with pytest.raises(TransportQueryError) as refused:
        async with ws_client(ws_url, token) as session:
            async for _ in session.subscribe(GraphQLRequest(SUBSCRIBE, variable_values={"after": old_head})):
                break
    assert refused.value.errors is not None
    assert refused.value.errors[0]["extensions"]["code"] == "CURSOR_EXPIRED"
    # The 8-day-old events are still history: the query pages from the same cursor, and finds them by id.
    listing = ("query($after: String, $ids: [ID!]) { provisioningEvents(filter: {entityTypes: [CUSTOMER], "
               "entityIds: $ids}, after: $after, first: 100) { edges { node { entityId toStatus occurredAt } } } }")
    edges = (await gateway.execute(token, listing, {"after": old_head}))["provisioningEvents"]["edges"]
    assert [e["node"]["entityId"] for e in edges] == [old["id"], recent_1["id"], recent["id"]]
    [event] = (await gateway.execute(token, listing, {"ids": [old["id"]]}))["provisioningEvents"]["edges"]
    assert (event["node"]["toStatus"], event["node"]["occurredAt"]) == ("provisioning", "2026-11-22T09:00:00+00:00")
    # A cursor inside the window still works, for the query and the subscription.
    edges = (await gateway.execute(token, listing, {"after": recent_head}))["provisioningEvents"]["edges"]
    assert [e["node"]["entityId"] for e in edges] == [recent["id"]]
    follower = Follower(ws_url, token, {"filter": {"entityTypes": ["CUSTOMER"]}, "after": recent_head})
    try:
        assert [e["entityId"] for e in await follower.about({recent["id"]}, 1)] == [recent["id"]]
    finally:
        await follower.close()


async def test_r_evt_2_subscribing_after_an_8_day_old_head_with_nothing_since_is_not_expired(
        gateway: Gateway, demo: Demo, ws_url: str) -> None:
    """A quiet caller whose newest event is older than the window re-subscribes after `eventsHead` without
    CURSOR_EXPIRED: nothing older than the window would have to be replayed."""
    token = partner_token(gateway, demo)
    provisioning = await provisioning_id(gateway, demo.partner)
    await provision(gateway, token, customer_input(provisioning, "OLD"))
    await gateway.settle()
    gateway.clock.advance(timedelta(days=8))
    head = (await gateway.execute(token, HEAD))["eventsHead"]
    follower = Follower(ws_url, token, {"filter": {"entityTypes": ["CUSTOMER"]}, "after": head})
    try:
        recent = await provision(gateway, token, customer_input(provisioning, "RECENT"))
        assert [e["entityId"] for e in await follower.about({recent["id"]}, 1)] == [recent["id"]]
    finally:
        await follower.close()


@pytest.mark.settings(workers=1)
async def test_r_evt_2_the_retention_purge_is_a_recurring_job_scheduled_when_workers_start(gateway: Gateway) -> None:
    db = gateway.runtime.db
    assert db is not None
    async with asyncio.timeout(DEADLINE_S):
        while True:  # the worker runs it at once, then it waits for its next hour
            [job] = await db.find("jobs", {"_id": PURGE_JOB})
            if job["status"] == "ready" and job["runAt"] > gateway.clock.now():
                break
            await asyncio.sleep(0.05)
    assert job["runAt"] - gateway.clock.now() == PURGE_EVERY


async def test_r_org_6_a_sub_partner_resumes_after_its_own_events_head_with_exactly_its_later_events(
        gateway: Gateway, demo: Demo, ws_url: str) -> None:
    """Its head does not move with its parent's or a sibling's work, and following after it misses nothing of its
    own; a forged `after` is refused before subscribing."""
    platform = gateway.token(None, "platform_admin")
    await gateway.execute(platform, 'mutation($id: ID!) { setSubPartnerState(id: $id, state: active) '
                                    '{ errors { code } } }', {"id": demo.sub_b})
    parent = partner_token(gateway, demo)
    sub = gateway.token(demo.sub_a, "full_admin")
    head = (await gateway.execute(sub, HEAD))["eventsHead"]
    await provision(gateway, parent, customer_input(await provisioning_id(gateway, demo.partner), "PARENT-1"))
    await provision(gateway, parent, customer_input(await provisioning_id(gateway, demo.sub_b), "SIBLING-1"),
                    on_behalf=demo.sub_b)
    missed = await provision(gateway, parent, customer_input(await provisioning_id(gateway, demo.sub_a), "OWN-1"),
                             on_behalf=demo.sub_a)
    follower = Follower(ws_url, sub, {"after": head})
    try:
        await subscribers_reach(gateway.runtime.hub, 1)
        live = await provision(gateway, sub, customer_input(await provisioning_id(gateway, demo.sub_a), "OWN-2"))
        received = await follower.until(lambda got: live["id"] in {e["customerId"] for e in got})
        stored = [e for e in await gateway.events(ownerOrgId=demo.sub_a) if e["customerId"] in {missed["id"],
                                                                                                live["id"]}]
        assert [(e["entityId"], e["toStatus"]) for e in received] == [(e["entityId"], e["toStatus"])
                                                                      for e in stored[:len(received)]]
        assert received[0]["entityId"] == missed["id"] and {e["ownerOrgId"] for e in received} == {demo.sub_a}
    finally:
        await follower.close()
    with pytest.raises(TransportQueryError) as refused:
        async with ws_client(ws_url, sub) as session:
            async for _ in session.subscribe(GraphQLRequest(SUBSCRIBE, variable_values={"after": head[:-4]})):
                break
    assert refused.value.errors is not None
    assert refused.value.errors[0]["extensions"]["code"] == "VALIDATION_FAILED"
