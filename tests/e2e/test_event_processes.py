"""End to end: live provisioning events (R-EVT-3) between real `gateway serve` processes.

(1) Two gateways on one fresh database of the session's SecantusDB server: work committed through one
reaches the websocket subscribers of both, in commit order, each event once.
(2) One gateway on a SecantusDB process of the test's own, killed with SIGKILL and started again on the
same port and storage: a subscription opened before the outage receives what is committed after it.

Subscriptions use the real `gql` websocket client (graphql-transport-ws, token in `connection_init`).
What is stored is read with a direct client on the database, never through the gateway under test.
Every process is stopped in a `finally`; deadlines are failure bounds, never timing assertions.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import httpx
import pytest
from gql import GraphQLRequest
from gql.transport.exceptions import TransportQueryError
from pymongo.errors import PyMongoError

from domain.store.driver import Database, Document
from gateway.processes import DatabaseProcess
from tests.api.live import ws_client
from tests.api.provisioning import PROVISION, customer_input
from tests.e2e.test_gateway_process import Gateway
from tests.e2e.test_provisioning_processes import TERMINAL, Cluster, Tenant, fresh_cluster, onboard

pytestmark = pytest.mark.e2e

SUBSCRIBE = """
subscription($filter: EventFilter, $after: String) {
  provisioningEvents(filter: $filter, after: $after) {
    cursor entityType entityId customerId ownerOrgId fromStatus toStatus version
  }
}"""
HEAD = "{ eventsHead }"
CUSTOMERS_ONLY = {"entityTypes": ["CUSTOMER"]}
# With no engine faults, the whole life of a customer as its CUSTOMER events tell it.
HAPPY_CHAIN = [(None, "provisioning"), ("provisioning", "provisioned")]
WORKERS = {"GATEWAY_WORKERS": "2", "GATEWAY_ENGINE_LATENCY_MS": "20"}

CUSTOMERS = 10
DELIVERY_DEADLINE_S = 240.0  # every expected event must have reached the subscriber by then
PROVISION_RETRY_DEADLINE_S = 90.0  # a request must be accepted by then once the database is started again
IDLE_DEADLINE_S = 60.0
UNREADY_DEADLINE_S = 30.0
IDLE_HORIZON_S = 120.0  # a job due later than this is not work in flight
OUTAGE_S = 3.0  # how long the database stays down (the scenario, not a bound)
HTTP_TIMEOUT_S = 15.0
POLL_S = 0.1


# --- a subscription, followed in a task --------------------------------------------------------------------------


@dataclass
class Feed:
    """What one client received from `provisioningEvents`, in order, across any resumptions."""

    url: str
    token: str
    after: str
    received: list[dict[str, Any]] = field(default_factory=list)
    # The errors that ended a subscription (each followed by a new subscription from the cursor it names).
    endings: list[dict[str, Any]] = field(default_factory=list)
    subscriptions: int = 0  # how many subscriptions were started for this feed

    def statuses(self, customer_id: str) -> list[tuple[str | None, str]]:
        return [(e["fromStatus"], e["toStatus"]) for e in self.received if e["entityId"] == customer_id]

    def reached(self, customer_ids: Iterable[str], status: str = "provisioned") -> bool:
        wanted = set(customer_ids)
        done = {e["entityId"] for e in self.received if e["toStatus"] == status}
        terminal = {e["entityId"] for e in self.received if e["toStatus"] in TERMINAL and e["toStatus"] != status}
        assert not terminal & wanted, f"a customer ended in another terminal status: {self.received}"
        return wanted <= done


async def subscribe_once(feed: Feed, after: str) -> None:
    """One websocket subscription; runs until cancelled, or until the server ends it (then it raises)."""
    async with ws_client(feed.url, feed.token) as session:
        feed.subscriptions += 1
        variables = {"filter": CUSTOMERS_ONLY, "after": after}
        async for result in session.subscribe(GraphQLRequest(SUBSCRIBE, variable_values=variables)):
            feed.received.append(result["provisioningEvents"])
    raise AssertionError("the server completed a subscription that has no end")


async def follow(feed: Feed, *, resume: bool) -> None:
    """Follow the feed until cancelled; with `resume`, a subscription the server ends with an error carrying
    `extensions.code` and `extensions.cursor` is taken up again by a new one from that cursor."""
    after = feed.after
    retry_deadline: float | None = None
    while True:
        received_before = len(feed.received)
        try:
            await subscribe_once(feed, after)
        except TransportQueryError as ended:
            errors = ended.errors or []
            extensions = (errors[0].get("extensions") or {}) if errors else {}
            assert resume, f"the subscription ended with {errors}"
            assert "code" in extensions, f"a subscription ended with an error without extensions.code: {errors}"
            if "cursor" in extensions:
                feed.endings.append(errors[0])
                after = extensions["cursor"]
                retry_deadline = None
            else:
                # Only a new subscription that could not start yet (the database still away) may fail without a
                # cursor, before receiving anything: the client retries from the cursor it holds. A live one must
                # name its cursor.
                assert feed.endings and len(feed.received) == received_before, \
                    f"a subscription ended with an error without extensions.cursor: {errors}"
                loop = asyncio.get_running_loop()
                retry_deadline = retry_deadline or loop.time() + PROVISION_RETRY_DEADLINE_S
                assert loop.time() < retry_deadline, f"could not subscribe again from {after}: {errors}"
            await asyncio.sleep(0.5)


@contextlib.asynccontextmanager
async def following(feed: Feed, *, resume: bool = False) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(follow(feed, resume=resume), name=f"follow {feed.url}")
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def wait_for_feeds(condition: Callable[[], bool], tasks: list[asyncio.Task[None]], what: str,
                         within_s: float = DELIVERY_DEADLINE_S) -> None:
    """Poll until `condition` holds; a follower that failed fails the test at once with its own error."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_s
    while True:
        for task in tasks:
            if task.done():
                task.result()  # raises what ended it
                pytest.fail(f"a subscriber stopped before {what}")
        if condition():
            return
        assert loop.time() < deadline, f"not within {within_s:.0f} s: {what}"
        await asyncio.sleep(POLL_S)


# --- what the subscribers received, against what the database stores ---------------------------------------------


def as_stored(event: Document) -> tuple[Any, ...]:
    return event["entityId"], event["fromStatus"], event["toStatus"], event["version"]


def as_received(event: dict[str, Any]) -> tuple[Any, ...]:
    return event["entityId"], event["fromStatus"], event["toStatus"], event["version"]


async def stored_customer_events(db: Database, customer_ids: Iterable[str]) -> list[Document]:
    return await db.find("events", {"entityType": "CUSTOMER", "customerId": {"$in": sorted(customer_ids)}},
                         sort=[("seq", 1)])


def delivery_problems(received: list[dict[str, Any]], stored: list[Document]) -> list[str]:
    """No cursor twice, exactly the stored events in `seq` order, each customer's versions strictly increasing."""
    problems = []
    cursors = [e["cursor"] for e in received]
    if len(set(cursors)) != len(cursors):
        problems.append(f"duplicate cursors: {sorted(c for c in set(cursors) if cursors.count(c) > 1)}")
    if [as_received(e) for e in received] != [as_stored(e) for e in stored]:
        problems.append("received, in order:\n  " + "\n  ".join(map(str, map(as_received, received)))
                        + "\nstored, by seq:\n  " + "\n  ".join(map(str, map(as_stored, stored))))
    versions: dict[str, list[int]] = defaultdict(list)
    for event in received:
        versions[event["entityId"]].append(event["version"])
    for customer_id, seen in versions.items():
        if any(a >= b for a, b in pairwise(seen)):
            problems.append(f"{customer_id}: versions not strictly increasing: {seen}")
    return problems


async def events_head(gateway: Gateway, token: str) -> str:
    head: str = (await gateway.execute(token, HEAD))["eventsHead"]
    assert head
    return head


async def provision(gateway: Gateway, tenant: Tenant, external_id: str) -> str:
    data = await gateway.execute(tenant.token, PROVISION,
                                 {"input": customer_input(tenant.provisioning_id, external_id)})
    payload = data["provisionCustomer"]
    assert payload["errors"] == [], payload
    customer_id: str = payload["customer"]["id"]
    return customer_id


# --- (1) committed through one gateway, received by the subscribers of both --------------------------------------


@pytest.fixture
async def shared_cluster(mongo_uri: str, tmp_path: Path) -> AsyncIterator[Cluster]:
    async with fresh_cluster(mongo_uri, tmp_path) as cluster:
        yield cluster


async def test_r_evt_3_a_change_committed_through_one_gateway_reaches_subscribers_of_another(
        shared_cluster: Cluster) -> None:
    a = await shared_cluster.gateway(**WORKERS)
    b = await shared_cluster.gateway(**WORKERS)
    tenant = await onboard(a)
    head = await events_head(b, tenant.token)
    on_a = Feed(a.ws_url, tenant.token, head)
    on_b = Feed(b.ws_url, tenant.token, head)

    async with following(on_a) as follow_a, following(on_b) as follow_b:
        ids = await asyncio.gather(*(provision(a, tenant, f"E2E-EVT-{i:02d}") for i in range(CUSTOMERS)))
        assert len(set(ids)) == CUSTOMERS
        await wait_for_feeds(lambda: on_b.reached(ids) and on_a.reached(ids), [follow_a, follow_b],
                             f"every one of the {CUSTOMERS} customers provisioned, as both subscribers saw it")

    stored = await stored_customer_events(shared_cluster.db, ids)
    assert len(stored) == CUSTOMERS * len(HAPPY_CHAIN), [as_stored(e) for e in stored]
    problems = delivery_problems(on_b.received, stored)
    assert problems == [], "\n".join(problems)
    for customer_id in ids:
        assert on_b.statuses(customer_id) == HAPPY_CHAIN, on_b.statuses(customer_id)
    assert on_a.received == on_b.received, "the two gateways' subscribers received different sequences"
    assert on_a.subscriptions == on_b.subscriptions == 1


# --- (2) the database goes away and comes back: the subscription goes on -----------------------------------------


async def wait_until_idle(db: Database) -> None:
    """No job running or due soon (a recurring one scheduled far ahead does not count): nothing is being
    written when the database is killed."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + IDLE_DEADLINE_S
    while True:
        later = datetime.now(UTC) + timedelta(seconds=IDLE_HORIZON_S)
        busy = [j for j in await db.find("jobs", {}) if not (j["status"] == "ready" and j["runAt"] > later)]
        if not busy:
            return
        assert loop.time() < deadline, f"jobs still due after {IDLE_DEADLINE_S:.0f} s: {busy[:3]}"
        await asyncio.sleep(POLL_S)


async def wait_until_unready(gateway: Gateway) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + UNREADY_DEADLINE_S
    async with httpx.AsyncClient(base_url=gateway.url, timeout=HTTP_TIMEOUT_S) as http:
        while (response := await http.get("/readyz")).status_code == 200:
            assert loop.time() < deadline, f"/readyz still answers {response.json()} with the database killed"
            await asyncio.sleep(POLL_S)


async def provision_until_accepted(gateway: Gateway, tenant: Tenant, db: Database, external_id: str
                                   ) -> tuple[str, list[str]]:
    """Provision a customer, retrying while the database is away or recovering; the id and the failures seen.

    A request whose answer was lost may still have committed: before each retry the customer is looked up.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + PROVISION_RETRY_DEADLINE_S
    failures: list[str] = []
    body = {"query": PROVISION, "variables": {"input": customer_input(tenant.provisioning_id, external_id)}}
    async with httpx.AsyncClient(timeout=HTTP_TIMEOUT_S) as http:
        while True:
            try:
                response = await http.post(gateway.graphql_url, json=body,
                                           headers={"Authorization": f"Bearer {tenant.token}"})
                answer = response.json()
                payload = (answer.get("data") or {}).get("provisionCustomer") or {}
                if response.status_code == 200 and not answer.get("errors") and payload.get("errors") == [] \
                        and payload.get("customer"):
                    customer_id: str = payload["customer"]["id"]
                    return customer_id, failures
                failures.append(f"HTTP {response.status_code}: {str(answer)[:300]}")
            except (httpx.TransportError, ValueError) as exc:
                failures.append(repr(exc))
            with contextlib.suppress(PyMongoError):
                if found := await db.find("customers", {"externalId": external_id}):
                    return str(found[0]["_id"]), failures
            assert loop.time() < deadline, \
                f"not accepted within {PROVISION_RETRY_DEADLINE_S:.0f} s; last failures: {failures[-5:]}"
            await asyncio.sleep(1.0)


async def test_r_evt_3_subscriptions_survive_a_database_restart(own_cluster: tuple[Cluster, DatabaseProcess]) -> None:
    cluster, server = own_cluster
    gateway = await cluster.gateway(**WORKERS)
    tenant = await onboard(gateway)
    feed = Feed(gateway.ws_url, tenant.token, await events_head(gateway, tenant.token))

    async with following(feed, resume=True) as follower:
        x = await provision(gateway, tenant, "E2E-OUTAGE-X")
        await wait_for_feeds(lambda: feed.reached([x]), [follower], "customer X provisioned, as subscribed")
        await wait_until_idle(cluster.db)
        before_outage = len(feed.received)

        await server.kill()
        await wait_until_unready(gateway)  # the scenario holds: the gateway itself finds its database gone
        await asyncio.sleep(OUTAGE_S)
        await server.restart()  # on its port and storage

        y, failures = await provision_until_accepted(gateway, tenant, cluster.db, "E2E-OUTAGE-Y")
        await wait_for_feeds(lambda: feed.reached([y]), [follower], "customer Y provisioned, as subscribed")

    assert gateway.running, f"the gateway died with its database:\n{gateway.stderr[-3000:]}"
    assert feed.statuses(x) == HAPPY_CHAIN, feed.received
    assert feed.statuses(y) == HAPPY_CHAIN, feed.received
    assert [e["entityId"] for e in feed.received[:before_outage]] == [x, x], feed.received
    stored = await stored_customer_events(cluster.db, [x, y])
    problems = delivery_problems(feed.received, stored)
    assert problems == [], "\n".join(problems)

    if feed.endings:  # the accepted fallback: the subscription ended with a cursor and was resumed from it
        print(f"\n[outage] the subscription ended {len(feed.endings)} time(s) and was resumed from its cursor: "
              f"{[(e.get('message'), (e.get('extensions') or {}).get('code')) for e in feed.endings]}; "
              f"{feed.subscriptions} subscriptions; {len(failures)} provisioning attempts failed first")
    else:  # the preferred behaviour: the one subscription carried on across the outage
        assert feed.subscriptions == 1
        print(f"\n[outage] the same subscription received Y's events after the database restart; "
              f"{len(failures)} provisioning attempts failed first; database started {server.starts} times")
