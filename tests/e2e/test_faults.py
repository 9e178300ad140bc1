"""End to end: faults with real processes — the database killed under load, a gateway killed mid-request.

Each test runs its own SecantusDB process (`DatabaseProcess`, started again on the same port and storage
after a SIGKILL) and `gateway serve` processes pointed at it with GATEWAY_MONGODB_URI. What is stored is read
with a direct client, never through the gateway under test. Deadlines are failure bounds, never timing
assertions; the figures printed are observations.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from pymongo.errors import PyMongoError

from domain.store.driver import DRIVERS, Database, Document, Driver
from domain.workflows.maintenance import PURGE_JOB
from gateway.processes import DatabaseProcess
from tests.api.provisioning import DELETE, PROVISION, PROVISION_SUBSCRIBER, customer_input, subscriber_input
from tests.e2e.test_event_processes import (
    Feed,
    delivery_problems,
    events_head,
    following,
    stored_customer_events,
    wait_for_feeds,
)
from tests.e2e.test_gateway_process import Gateway
from tests.e2e.test_provisioning_processes import TERMINAL, Cluster, Tenant, onboard
from tests.e2e.test_shutdown import (
    accepted,
    conflicts,
    event_counter_held,
    held_in_transaction,
    provision,
)

pytestmark = pytest.mark.e2e

WORKERS = {"GATEWAY_WORKERS": "2", "GATEWAY_ENGINE_LATENCY_MS": "20"}
SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
GRAPHQL_RESPONSE = "application/graphql-response+json"
# Two root fields: when one fails, graphql-core cancels the other one inside the driver. Before the workaround in
# domain/store/driver.py (make_pymongo_condition_waits_cancellation_safe), such a cancellation left PyMongo's async
# client deadlocked after the outage on Python 3.11 in about one run in two.
LOAD_QUERY = "{ customers(first: 20) { edges { node { id status } } } eventsHead }"

CLIENTS = 4  # clients sending requests at once
ACCEPTED_BEFORE_KILL = 8  # customers acknowledged before the database is killed
OUTAGE_S = 9.0  # how long the database stays down (the scenario, not a bound)
REQUEST_BOUND_S = 20.0  # no request may take longer, the database up or down
RECOVERY_DEADLINE_S = 15.0  # a query and a mutation must succeed again by then after the restart
READY_DEADLINE_S = 30.0
SETTLE_DEADLINE_S = 120.0
HELD_DEADLINE_S = 30.0
SUBSCRIBERS = 20
POLL_S = 0.05


def since(t0: float) -> float:
    return asyncio.get_running_loop().time() - t0


# --- (1) the database killed and restarted under load --------------------------------------------------------------


@dataclass
class Outcome:
    kind: str  # "query" or "mutation"
    external_id: str | None
    started: float
    seconds: float
    result: str  # "ok", SERVICE_UNAVAILABLE, or what else came back (which fails the test)
    customer_id: str | None = None


@dataclass
class Load:
    """Clients sending queries and provisioning requests in turn, and everything they got back."""

    gateway: Gateway
    tenant: Tenant
    outcomes: list[Outcome] = field(default_factory=list)
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    def accepted(self) -> dict[str, str]:
        return {o.customer_id: o.external_id for o in self.outcomes if o.customer_id and o.external_id}

    def since(self, t0: float) -> str:
        """The outcomes of the requests sent from `t0` on (for a failure's message)."""
        return "\n".join(f"{o.kind} after {o.started - t0:.1f} s took {o.seconds:.1f} s: {o.result[:200]}"
                         for o in self.outcomes if o.started >= t0)

    def unexpected(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.result not in ("ok", SERVICE_UNAVAILABLE)]

    def results(self, kind: str, t0: float, t1: float) -> Counter[str]:
        return Counter(o.result for o in self.outcomes if o.kind == kind and t0 <= o.started < t1)

    async def run(self) -> None:
        limits = httpx.Limits(max_connections=CLIENTS)
        async with httpx.AsyncClient(timeout=REQUEST_BOUND_S * 2, limits=limits) as http:
            await asyncio.gather(*(self._client(http, n) for n in range(CLIENTS)))

    async def probe(self) -> None:
        """A query and a mutation sent at once, e.g. just after the database went down. The clients' own requests
        may all be waiting on the database then; their next ones, sent when those are refused, can be late enough
        in the outage to be answered after the restart: these are not."""
        headers = {"Authorization": f"Bearer {self.tenant.token}"}
        async with httpx.AsyncClient(timeout=REQUEST_BOUND_S * 2) as http:
            external_id = f"FAULT-probe-{len(self.outcomes):04d}"
            await asyncio.gather(
                self._send(http, headers, "query", None, {"query": LOAD_QUERY}),
                self._send(http, headers, "mutation", external_id, {"query": PROVISION, "variables": {
                    "input": customer_input(self.tenant.provisioning_id, external_id)}}))

    async def _client(self, http: httpx.AsyncClient, n: int) -> None:
        # Half the clients ask for the GraphQL-over-HTTP media type, half for plain JSON.
        headers = {"Authorization": f"Bearer {self.tenant.token}",
                   "Accept": GRAPHQL_RESPONSE if n % 2 else "application/json"}
        # Half the clients start with a mutation, the others with a query: when every request is answered at once,
        # clients in step would all be waiting on a query when the database goes down (5 s to be refused) and send
        # their next mutation too late in the outage to be refused before the restart.
        turn = n % 2
        while not self.stop.is_set():
            turn += 1
            if turn % 2:
                await self._send(http, headers, "query", None, {"query": LOAD_QUERY})
            else:
                external_id = f"FAULT-{n}-{turn:04d}"
                await self._send(http, headers, "mutation", external_id, {"query": PROVISION, "variables": {
                    "input": customer_input(self.tenant.provisioning_id, external_id)}})
            await asyncio.sleep(0.1)

    async def _send(self, http: httpx.AsyncClient, headers: dict[str, str], kind: str, external_id: str | None,
                    body: dict[str, Any]) -> None:
        loop = asyncio.get_running_loop()
        started = loop.time()
        customer_id = None
        try:
            result, customer_id = classify(await http.post(self.gateway.graphql_url, json=body, headers=headers))
        except httpx.HTTPError as exc:
            result = f"no answer: {exc!r}"
        self.outcomes.append(Outcome(kind, external_id, started, loop.time() - started, result, customer_id))


def classify(response: httpx.Response) -> tuple[str, str | None]:
    """"ok" (with the customer's id for an accepted provisioning request), SERVICE_UNAVAILABLE (a JSON answer
    whose every error has that code, never a 5xx), or a description of anything else."""
    if not response.headers.get("content-type", "").startswith(("application/json", GRAPHQL_RESPONSE)):
        return f"HTTP {response.status_code} {response.headers.get('content-type')}: {response.text[:200]}", None
    body = response.json()
    errors = body.get("errors") or []
    if errors:
        codes = {(e.get("extensions") or {}).get("code") for e in errors}
        if codes == {SERVICE_UNAVAILABLE} and response.status_code < 500:
            return SERVICE_UNAVAILABLE, None
        return f"HTTP {response.status_code}: {str(body)[:300]}", None
    if response.status_code != 200:
        return f"HTTP {response.status_code}: {str(body)[:300]}", None
    payload = body["data"].get("provisionCustomer")
    if payload is None:
        return "ok", None
    if payload["errors"] or not payload["customer"]:
        return f"refused: {payload['errors']}", None
    return "ok", str(payload["customer"]["id"])


@dataclass
class Readiness:
    """/readyz, polled: the answers seen, with the time each was asked."""

    gateway: Gateway
    seen: list[tuple[float, int]] = field(default_factory=list)

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        async with httpx.AsyncClient(base_url=self.gateway.url, timeout=REQUEST_BOUND_S) as http:
            while True:
                asked = loop.time()
                response = await http.get("/readyz")
                self.seen.append((asked, response.status_code))
                await asyncio.sleep(0.25)

    def between(self, t0: float, t1: float) -> set[int]:
        return {status for asked, status in self.seen if t0 <= asked < t1}


async def until(condition: Callable[[], bool], what: str, within_s: float, *tasks: asyncio.Task[Any],
                explain: Callable[[], str] = str) -> None:
    """Poll `condition()` until it holds; a background task that failed fails the test with its own error.

    `explain()` adds what is known to the failure.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_s
    while not condition():
        for task in tasks:
            if task.done():
                task.result()
                pytest.fail(f"{task.get_name()} stopped before {what}")
        assert loop.time() < deadline, f"not within {within_s:.0f} s: {what}\n{explain()}"
        await asyncio.sleep(POLL_S)


async def settled(cluster: Cluster, customer_ids: set[str]) -> list[Document]:
    """Wait until those customers exist and are terminal, and no job other than the recurring purge is left."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + SETTLE_DEADLINE_S
    while True:
        customers = await cluster.db.find("customers", {"_id": {"$in": sorted(customer_ids)}})
        jobs = await cluster.db.find("jobs", {"_id": {"$ne": PURGE_JOB}})
        if len(customers) == len(customer_ids) and all(c["status"] in TERMINAL for c in customers) and not jobs:
            return customers
        assert loop.time() < deadline, (
            f"not settled within {SETTLE_DEADLINE_S:.0f} s: {len(customer_ids) - len(customers)} accepted customers "
            f"missing, statuses {Counter(c['status'] for c in customers)}, jobs left {jobs[:3]}")
        await asyncio.sleep(0.2)


# On the default driver only: Motor (an optional extra since it reached end of life) recovered from outages every
# time, and the integration tier still runs every driver test on it; this is where PyMongo's deadlock showed.
@pytest.mark.parametrize("driver", [d for d in DRIVERS if d == "pymongo"])
async def test_requests_fail_clearly_while_the_database_is_down_and_recover_without_a_gateway_restart(
        own_cluster: tuple[Cluster, DatabaseProcess], driver: Driver) -> None:
    cluster, server = own_cluster
    gateway = await cluster.gateway(**WORKERS, GATEWAY_DRIVER=driver, GATEWAY_JOB_LEASE_SECONDS="30")
    tenant = await onboard(gateway)
    feed = Feed(gateway.ws_url, tenant.token, await events_head(gateway, tenant.token))
    load = Load(gateway, tenant)
    readiness = Readiness(gateway)
    loop = asyncio.get_running_loop()

    async with following(feed, resume=True) as follower:
        loading = asyncio.create_task(load.run(), name="the load")
        polling = asyncio.create_task(readiness.run(), name="the /readyz poller")
        probing: asyncio.Task[None] | None = None
        try:
            await until(lambda: len(load.accepted()) >= ACCEPTED_BEFORE_KILL,
                        f"{ACCEPTED_BEFORE_KILL} customers accepted", READY_DEADLINE_S, loading, polling, follower)
            killed_at = loop.time()
            await server.kill()
            probing = asyncio.create_task(load.probe(), name="a query and a mutation while it is down")
            await until(lambda: 503 in readiness.between(killed_at, loop.time()), "/readyz answers 503",
                        READY_DEADLINE_S, loading, polling)
            await asyncio.sleep(max(0.0, OUTAGE_S - since(killed_at)))
            restarted_at = loop.time()
            await server.restart()
            started_at = loop.time()

            def recovered(kind: str) -> bool:
                return load.results(kind, started_at, loop.time())["ok"] > 0

            await until(lambda: recovered("query") and recovered("mutation"),
                        "a query and a mutation succeed again", RECOVERY_DEADLINE_S, loading, polling,
                        explain=lambda: load.since(started_at) + "\n" + gateway.stderr[-5000:])
            recovery_s = since(started_at)
            await until(lambda: 200 in readiness.between(started_at, loop.time()), "/readyz answers 200 again",
                        READY_DEADLINE_S, loading, polling)
        finally:
            load.stop.set()
            polling.cancel()
            if probing is not None:
                await asyncio.wait([probing], timeout=REQUEST_BOUND_S)
            # The requests still out finish (the database is back) or are given up once past the bound.
            await asyncio.wait([loading], timeout=REQUEST_BOUND_S)
            loading.cancel()
            await asyncio.gather(loading, polling, return_exceptions=True)
        loading.result()
        assert probing is not None
        probing.result()

        # The gateway process served throughout: never restarted, and every answer was one a client can act on.
        assert gateway.running, gateway.stderr[-3000:]
        assert load.unexpected() == [], "\n".join(map(str, load.unexpected()[:10])) + gateway.stderr[-8000:]
        slowest = max(o.seconds for o in load.outcomes)
        assert slowest < REQUEST_BOUND_S, f"a request took {slowest:.1f} s"
        during = (killed_at, restarted_at)
        for kind in ("query", "mutation"):
            assert load.results(kind, *during)[SERVICE_UNAVAILABLE] > 0, f"no {kind} was refused while it was down"

        # Every acknowledged mutation has its effects, a refused one has none, and every accepted job finishes.
        accepted_ids = load.accepted()
        refused = {o.external_id for o in load.outcomes if o.kind == "mutation" and o.result == SERVICE_UNAVAILABLE}
        customers = await settled(cluster, set(accepted_ids))
        settled_s = since(started_at)
        assert Counter(c["status"] for c in customers) == {"provisioned": len(accepted_ids)}
        assert {c["_id"]: c["externalId"] for c in customers} == accepted_ids
        stored = await cluster.db.find("customers", {})
        assert {c["externalId"] for c in stored} & refused == set(), "a request refused as unavailable wrote"
        assert len(stored) == len(customers), [c["externalId"] for c in stored if c["_id"] not in accepted_ids]

        # The subscription opened before the outage saw every one of them provisioned, in order, each once.
        await wait_for_feeds(lambda: feed.reached(accepted_ids), [follower], "every accepted customer, as subscribed")
    events = await stored_customer_events(cluster.db, accepted_ids)
    problems = delivery_problems(feed.received, events)
    assert problems == [], "\n".join(problems)

    failing = [o for o in load.outcomes if o.result == SERVICE_UNAVAILABLE]
    print(f"\n[database outage, {driver}] {len(load.outcomes)} requests, {len(accepted_ids)} customers accepted and "
          "provisioned; "
          f"down {restarted_at - killed_at:.1f} s; {len(failing)} answered {SERVICE_UNAVAILABLE} "
          f"(queries {load.results('query', *during)[SERVICE_UNAVAILABLE]}, "
          f"mutations {load.results('mutation', *during)[SERVICE_UNAVAILABLE]}), "
          f"each within {max(o.seconds for o in failing):.1f} s (median "
          f"{sorted(o.seconds for o in failing)[len(failing) // 2]:.1f} s); slowest request {slowest:.1f} s; "
          f"a query and a mutation succeeded {recovery_s:.1f} s after the database was started again, every job "
          f"had finished {settled_s:.1f} s after; "
          f"the subscription ended {len(feed.endings)} time(s) "
          f"({[(e.get('extensions') or {}).get('code') for e in feed.endings]}), {feed.subscriptions} subscriptions")


SHORT_DB_TIMEOUT = {"GATEWAY_WORKERS": "0", "GATEWAY_DB_TIMEOUT_MS": "1000"}
HELD_OUTAGE_S = 20.0  # the database stays down this long; a request must have been answered well before
HELD_BOUND_S = 12.0  # with a one-second database timeout


async def test_a_mutation_caught_inside_its_transaction_by_the_outage_is_answered_unavailable_within_a_bound(
        own_cluster: tuple[Cluster, DatabaseProcess]) -> None:
    cluster, server = own_cluster
    gateway = await cluster.gateway(**SHORT_DB_TIMEOUT)
    tenant = await onboard(gateway)
    loop = asyncio.get_running_loop()
    async with httpx.AsyncClient(timeout=HELD_OUTAGE_S * 3) as http:
        accepted(await provision(http, gateway, tenant, "HELD-0"))  # the event counter exists now
        try:
            async with event_counter_held(cluster.db):
                request = asyncio.create_task(provision(http, gateway, tenant, "HELD-1"))
                await held_in_transaction(cluster.db, tenant, "HELD-1", request)
                await server.kill()  # our hold goes with it
                killed_at = loop.time()
        except PyMongoError:
            pass
        try:
            answered, _ = await asyncio.wait([request], timeout=HELD_OUTAGE_S)
            waited_s = since(killed_at)
            if not answered:
                await server.restart()
            response = await request
        finally:
            request.cancel()
    assert answered, f"the request was still unanswered after {waited_s:.0f} s of outage; once the database was " \
                     f"back it got: HTTP {response.status_code} {response.text[:200]}"
    assert waited_s < HELD_BOUND_S, f"answered after {waited_s:.1f} s"
    assert classify(response)[0] == SERVICE_UNAVAILABLE, response.text
    await server.restart()
    assert await cluster.db.find("customers", {"externalId": "HELD-1"}) == [], "a refused request wrote"


# --- (2) a gateway killed in the middle of a multi-document mutation -----------------------------------------------


async def customer_update_pending(db: Database, customer_id: str) -> bool:
    """Whether another transaction holds an uncommitted write of this customer's document: an update of it, in a
    transaction of ours that is always aborted, conflicts with it then."""
    return await conflicts(db, lambda session: db.collection("customers").update_one(
        {"_id": customer_id}, {"$set": {"probe": True}}, session=session))


async def footprint(db: Database, customer_id: str) -> dict[str, list[Document]]:
    """Everything stored about one customer: itself, its subscribers, locations, jobs and events."""
    return {
        "customers": await db.find("customers", {"_id": customer_id}),
        "subscribers": await db.find("subscribers", {"customerId": customer_id}, sort=[("_id", 1)]),
        "locations": await db.find("locations", {"customerId": customer_id}, sort=[("_id", 1)]),
        "jobs": await db.find("jobs", {"entityId": customer_id}, sort=[("_id", 1)]),
        "events": await db.find("events", {"customerId": customer_id}, sort=[("seq", 1)]),
    }


async def post(http: httpx.AsyncClient, gateway: Gateway, token: str, query: str, variables: dict[str, Any]
               ) -> httpx.Response:
    return await http.post(gateway.graphql_url, json={"query": query, "variables": variables},
                           headers={"Authorization": f"Bearer {token}"})


async def test_a_gateway_killed_inside_a_multi_document_mutation_leaves_none_of_it_and_its_queued_jobs_finish(
        own_cluster: tuple[Cluster, DatabaseProcess]) -> None:
    cluster, _ = own_cluster
    setup = await cluster.gateway(**WORKERS)
    tenant = await onboard(setup)
    async with httpx.AsyncClient(timeout=REQUEST_BOUND_S * 2, limits=httpx.Limits(max_connections=5)) as http:
        # A customer with subscribers: deleting it writes the customer, every subscriber, its jobs and an event for
        # each of them, all in one transaction.
        customer = accepted(await post(http, setup, tenant.token, PROVISION,
                                       {"input": customer_input(tenant.provisioning_id, "KILL-DELETE")}))
        await settled(cluster, {customer["id"]})
        answers = await asyncio.gather(*(
            post(http, setup, tenant.token, PROVISION_SUBSCRIBER, {"input": subscriber_input(
                customer["id"], f"user{i:02d}@springfield.example", extension=str(2001 + i))})
            for i in range(SUBSCRIBERS)))
        for answer in answers:
            assert answer.status_code == 200 and answer.json()["data"]["provisionSubscriber"]["errors"] == [], \
                answer.text
        await settled(cluster, {customer["id"]})
        await setup.stop()
        before = await footprint(cluster.db, customer["id"])
        assert len(before["subscribers"]) == SUBSCRIBERS

        # The gateway to be killed runs no jobs: the one it accepts stays queued until the next gateway runs it.
        first = await cluster.gateway(GATEWAY_WORKERS="0")
        queued = accepted(await post(http, first, tenant.token, PROVISION,
                                     {"input": customer_input(tenant.provisioning_id, "KILL-QUEUED")}))
        async with event_counter_held(cluster.db):
            deleting = asyncio.create_task(post(http, first, tenant.token, DELETE, {"id": customer["id"]}))
            try:
                loop = asyncio.get_running_loop()
                deadline = loop.time() + HELD_DEADLINE_S
                while not await customer_update_pending(cluster.db, customer["id"]):
                    assert not deleting.done(), f"the deletion ended before the kill: {deleting.result().text}"
                    assert loop.time() < deadline, "the deletion was not seen inside its transaction"
                    await asyncio.sleep(0.01)
                first.kill()
                assert await first.wait() < 0
                # The scenario held: the process died with the deletion's transaction open on the server.
                assert await customer_update_pending(cluster.db, customer["id"]), \
                    "the gateway was not killed inside the deletion's transaction"
            finally:
                cut_off = await asyncio.gather(deleting, return_exceptions=True)
        assert isinstance(cut_off[0], httpx.TransportError), f"the deletion was answered: {cut_off[0]!r}"

    # None of the deletion is visible: the customer, its subscribers, jobs and events are as they were before.
    assert await footprint(cluster.db, customer["id"]) == before
    assert (await footprint(cluster.db, queued["id"]))["customers"][0]["status"] == "provisioning"

    # The next gateway runs the job the killed one had accepted.
    await cluster.gateway(**WORKERS)
    done = await settled(cluster, {queued["id"]})
    assert [c["status"] for c in done] == ["provisioned"]
    assert await footprint(cluster.db, customer["id"]) == before
