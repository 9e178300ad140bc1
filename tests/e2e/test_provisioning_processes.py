"""End to end: provisioning through real `gateway serve` processes that share one database.

Every gateway here runs against the session's SecantusDB server (`mongo_uri`) with a database of its
test's own, so a process starts quickly and can be killed without taking the data with it. State is
read for the assertions with a direct Motor client on that database, never through the gateway under
test. Processes are started and stopped with gateway.processes; the fixture below stops every one of
them in a `finally`. Deadlines are failure bounds, never timing assertions.
"""

from __future__ import annotations

import asyncio
import signal
import socket
import uuid
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import httpx
import pytest

from domain.store.driver import Database, Document
from domain.workflows.maintenance import PURGE_JOB
from gateway.auth import issue_token
from gateway.processes import Processes
from tests.api.provisioning import CUSTOMER, PROVISION, PROVISION_SUBSCRIBER, customer_input, subscriber_input
from tests.conftest import JWT_SECRET
from tests.e2e.test_gateway_process import Gateway

pytestmark = pytest.mark.e2e

LEASE_SECONDS = "3"  # a killed process's leases expire soon, so another process takes its jobs over
SETTLE_DEADLINE_S = 240.0  # all submitted work must be terminal by then
PROVISIONED_DEADLINE_S = 60.0  # one customer must be provisioned by then
POLL_S = 0.2
DROP_DEADLINE_S = 60.0
HTTP_TIMEOUT_S = 60.0

TERMINAL = ("provisioned", "provisioned_with_errors", "error")
# With no engine faults configured, this is the whole life of a customer and of each of its packages.
HAPPY_CHAIN = [(None, "provisioning"), ("provisioning", "provisioned")]
PACKAGES = ["webex_calling", "webex_meetings"]

CREATE_PARTNER = """
mutation($input: CreatePartnerInput!) {
  createPartner(input: $input) { partner { id } errors { code message field } }
}"""
CREATE_TEMPLATE = """
mutation($input: CreateOnboardingTemplateInput!) {
  createOnboardingTemplate(input: $input) { template { id provisioningId } errors { code message field } }
}"""


# --- the environment of a test -------------------------------------------------------------------------------------


def bearer(org: str | None, role: str) -> str:
    return issue_token(JWT_SECRET, subject="e2e@example.com", org=org, roles=[role], ttl=timedelta(hours=2))


def identity(gateway: Gateway) -> str:
    """What the events' `worker` field holds for work this gateway committed (`host:pid`)."""
    return f"{socket.gethostname()}:{gateway.pid}"


@dataclass(frozen=True)
class Tenant:
    """A partner created through the API, with a token of its full_admin and one of its templates."""

    partner_id: str
    token: str
    provisioning_id: str


@dataclass
class Cluster:
    """Gateway processes on one fresh database of the shared server, and a direct client for assertions."""

    mongo_uri: str
    database: str
    db: Database
    processes: Processes
    root: Path
    started: int = field(default=0, init=False)

    async def gateway(self, **env: str) -> Gateway:
        """`gateway serve --no-demo` on this cluster's database, ready to serve."""
        self.started += 1
        data_dir = self.root / f"gateway-{self.started}"
        data_dir.mkdir()
        variables = {
            "GATEWAY_MONGODB_URI": self.mongo_uri,
            "GATEWAY_DATABASE": self.database,
            "GATEWAY_JWT_SECRET": JWT_SECRET,
            "GATEWAY_JOB_LEASE_SECONDS": LEASE_SECONDS,
            **env,
        }
        return await self.processes.start(Gateway(data_dir, "--no-demo", env=variables))

    async def customers(self) -> list[Document]:
        return await self.db.find("customers", {}, sort=[("_id", 1)])

    async def work_left(self) -> list[Document]:
        """Jobs other than the recurring housekeeping (the events' retention purge), running ones first."""
        return await self.db.find("jobs", {"_id": {"$ne": PURGE_JOB}}, sort=[("status", -1), ("runAt", 1)])

    async def wait_until_settled(self, expected: Iterable[str]) -> list[Document]:
        """Wait until every expected customer exists, every customer is terminal and no job is left."""
        wanted = set(expected)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + SETTLE_DEADLINE_S
        while True:
            customers = await self.customers()
            jobs = await self.work_left()
            missing = wanted - {c["_id"] for c in customers}
            unsettled = Counter(c["status"] for c in customers if c["status"] not in TERMINAL)
            if not missing and not unsettled and not jobs:
                return customers
            if loop.time() > deadline:
                left = [f"{j['_id']} {j['status']} lease {j.get('leaseOwner')} until {j.get('leaseUntil')}"
                        for j in jobs[:5]]
                pytest.fail(f"not settled within {SETTLE_DEADLINE_S:.0f} s: {len(missing)} accepted customers missing, "
                            f"unsettled {dict(unsettled)}, {len(jobs)} jobs left, e.g.:\n" + "\n".join(left))
            await asyncio.sleep(POLL_S)


@asynccontextmanager
async def fresh_cluster(mongo_uri: str, tmp_path: Path) -> AsyncIterator[Cluster]:
    """Gateways on a fresh database of the session's server; all stopped, then the database dropped."""
    processes = Processes()
    database = f"e2e_{uuid.uuid4().hex[:12]}"
    db = Database(mongo_uri, database)
    try:
        yield Cluster(mongo_uri, database, db, processes, tmp_path)
    finally:
        try:
            await processes.close()  # every gateway this test started, before its database goes
        finally:
            await drop(db)


@pytest.fixture
async def cluster(mongo_uri: str, tmp_path: Path) -> AsyncIterator[Cluster]:
    async with fresh_cluster(mongo_uri, tmp_path) as fresh:
        yield fresh


async def drop(db: Database) -> None:
    """Drop a test's database, within a bound.

    A transaction left open by a killed process holds its writes until the server reaps it, and
    SecantusDB reaps expired transactions only when some transaction command arrives: one empty
    transaction first, so that the drop is not blocked behind such a leftover (cleanup only; the
    test's assertions are made by then).
    """
    try:
        async def nothing(session: Any) -> None:
            await db.collection("jobs").find_one({}, session=session)

        await asyncio.wait_for(db.run_transaction(nothing), DROP_DEADLINE_S)
        await asyncio.wait_for(db.drop(), DROP_DEADLINE_S)
    except TimeoutError:
        pytest.fail(f"the test database {db.name} could not be dropped within {DROP_DEADLINE_S:.0f} s")
    finally:
        await db.close()


async def onboard(gateway: Gateway) -> Tenant:
    """A new partner (as the platform admin) and a US template of its own (as the partner's admin)."""
    suffix = uuid.uuid4().hex[:8]
    data = await gateway.execute(bearer(None, "platform_admin"), CREATE_PARTNER,
                                 {"input": {"name": f"E2E Telecom {suffix}", "subscriptionId": f"Sub-E2E-{suffix}"}})
    assert data["createPartner"]["errors"] == [], data
    partner_id: str = data["createPartner"]["partner"]["id"]
    token = bearer(partner_id, "full_admin")
    data = await gateway.execute(token, CREATE_TEMPLATE,
                                 {"input": {"name": "E2E Americas", "country": "US", "language": "en_US"}})
    assert data["createOnboardingTemplate"]["errors"] == [], data
    return Tenant(partner_id, token, data["createOnboardingTemplate"]["template"]["provisioningId"])


async def post(http: httpx.AsyncClient, gateway: Gateway, token: str, query: str,
               variables: dict[str, Any]) -> dict[str, Any]:
    """One GraphQL request over plain HTTP that must be answered without top-level errors; returns `data`."""
    response = await http.post(gateway.graphql_url, json={"query": query, "variables": variables},
                               headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert not body.get("errors"), body
    data: dict[str, Any] = body["data"]
    return data


async def wait_until_provisioned(gateway: Gateway, token: str, customer_id: str) -> None:
    """Poll the customer through the API until it is `provisioned`; any other terminal status fails at once."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + PROVISIONED_DEADLINE_S
    while True:
        customer = (await gateway.execute(token, CUSTOMER, {"id": customer_id}))["customer"]
        if customer["status"] == "provisioned":
            return
        assert customer["status"] not in TERMINAL, customer
        assert loop.time() < deadline, f"not provisioned within {PROVISIONED_DEADLINE_S:.0f} s: {customer}"
        await asyncio.sleep(POLL_S)


# --- the history of each customer in the events outbox -------------------------------------------------------------


def chain_problems(entity: str, history: list[Document], status: str) -> list[str]:
    """What is wrong with one entity's events (in seq order): each change once, a gapless chain to `status`."""
    problems = []
    pairs = [(e["fromStatus"], e["toStatus"]) for e in history]
    repeated = [pair for pair, n in Counter(pairs).items() if n > 1]
    if repeated:
        problems.append(f"{entity}: transitions committed more than once: {repeated} in {pairs}")
    seqs = [e["seq"] for e in history]
    if any(a >= b for a, b in pairwise(seqs)):
        problems.append(f"{entity}: seq not strictly increasing: {seqs}")
    versions = [e["version"] for e in history]
    if any(a >= b for a, b in pairwise(versions)):
        problems.append(f"{entity}: version not strictly increasing: {versions}")
    froms = [None, *[to for _, to in pairs[:-1]]]
    if not pairs or [f for f, _ in pairs] != froms or pairs[-1][1] != status:
        problems.append(f"{entity}: {pairs} is not a chain from nothing to its status `{status}`")
    return problems


async def histories(db: Database, customers: list[Document]) -> dict[str, list[Document]]:
    """Every event, by entity (a customer or a customer's package), in seq order; checks what all events share."""
    events = await db.find("events", {}, sort=[("seq", 1)])
    seqs = [e["seq"] for e in events]
    assert len(set(seqs)) == len(seqs), "two events share a sequence number"
    ids = {c["_id"] for c in customers}
    by_entity: dict[str, list[Document]] = defaultdict(list)
    for event in events:
        if event["entityType"] == "ONBOARDING_TEMPLATE":  # the test's own templates, created before any customer
            continue
        assert event["entityType"] in ("CUSTOMER", "CUSTOMER_PACKAGE"), event
        assert event["customerId"] in ids, f"an event of a customer that does not exist: {event}"
        by_entity[f"{event['entityType']} {event['entityId']}"].append(event)
    return by_entity


def happy_history_problems(by_entity: dict[str, list[Document]], customers: list[Document]) -> list[str]:
    """Each customer and each of its packages went null→provisioning→provisioned, each change exactly once."""
    problems = []
    entities = set()
    for customer in customers:
        cid = customer["_id"]
        if customer["status"] != "provisioned":
            problems.append(f"customer {cid} ({customer['externalId']}) is `{customer['status']}`, "
                            "though no fault was injected")
        assert [p["name"] for p in customer["packages"]] == PACKAGES, customer
        subjects = [(f"CUSTOMER {cid}", customer["status"])]
        subjects += [(f"CUSTOMER_PACKAGE {cid}:{p['name']}", p["status"]) for p in customer["packages"]]
        for entity, status in subjects:
            entities.add(entity)
            history = by_entity.get(entity, [])
            problems += chain_problems(entity, history, status)
            pairs = [(e["fromStatus"], e["toStatus"]) for e in history]
            if pairs != HAPPY_CHAIN:
                problems.append(f"{entity}: {pairs} instead of {HAPPY_CHAIN}")
    strays = sorted(set(by_entity) - entities)
    if strays:
        problems.append(f"events of entities that are not a customer or one of its packages: {strays[:10]}")
    return problems


def terminal_events(by_entity: dict[str, list[Document]], customers: list[Document]) -> dict[str, Document]:
    """Each customer's event into its terminal status (exactly one is checked by the history checks)."""
    found = {}
    for customer in customers:
        last = by_entity[f"CUSTOMER {customer['_id']}"][-1]
        assert last["fromStatus"] == "provisioning" and last["toStatus"] in TERMINAL, last
        found[customer["_id"]] = last
    return found


def report(problems: list[str]) -> str:
    return f"{len(problems)} problems:\n" + "\n".join(problems[:40])


# --- (a) one email, twenty requests at once ------------------------------------------------------------------------

SUBSCRIBER_REQUESTS = 20


async def test_concurrent_subscribers_with_one_email_create_exactly_one(cluster: Cluster) -> None:
    gateway = await cluster.gateway(GATEWAY_WORKERS="2", GATEWAY_ENGINE_LATENCY_MS="20")
    tenant = await onboard(gateway)
    created = (await gateway.execute(tenant.token, PROVISION,
                                     {"input": customer_input(tenant.provisioning_id, "E2E-EMAIL-1")}))
    assert created["provisionCustomer"]["errors"] == [], created
    customer_id: str = created["provisionCustomer"]["customer"]["id"]
    await wait_until_provisioned(gateway, tenant.token, customer_id)

    email = "pat.morgan@springfield.example"
    requests = [subscriber_input(customer_id, email, extension=str(3001 + i)) for i in range(SUBSCRIBER_REQUESTS)]
    async with httpx.AsyncClient(timeout=HTTP_TIMEOUT_S,
                                 limits=httpx.Limits(max_connections=SUBSCRIBER_REQUESTS)) as http:
        answers = await asyncio.gather(*(
            post(http, gateway, tenant.token, PROVISION_SUBSCRIBER, {"input": data}) for data in requests))
    payloads = [answer["provisionSubscriber"] for answer in answers]

    winners = [p for p in payloads if p["subscriber"] is not None]
    losers = [p for p in payloads if p["subscriber"] is None]
    assert len(winners) == 1, payloads
    assert winners[0]["errors"] == [], winners[0]
    subscriber = winners[0]["subscriber"]
    assert subscriber["email"] == email and subscriber["customer"]["id"] == customer_id, subscriber
    assert subscriber["isAdmin"] is True, "the only subscriber of the customer is its admin (R-SUB-2)"
    assert len(losers) == SUBSCRIBER_REQUESTS - 1
    for payload in losers:
        assert [(e["code"], e["field"]) for e in payload["errors"]] == [("EMAIL_IN_USE", ["input", "email"])], payload

    stored = await cluster.db.find("subscribers", {})
    assert [(s["_id"], s["email"]) for s in stored] == [(subscriber["id"], email)], stored
    customer = (await cluster.db.find("customers", {"_id": customer_id}))[0]
    assert customer["adminSubscriberId"] == subscriber["id"], customer
    subscriber_events = await cluster.db.find("events", {"entityType": "SUBSCRIBER"}, sort=[("seq", 1)])
    assert {e["entityId"] for e in subscriber_events} == {subscriber["id"]}, subscriber_events


# --- (b) SIGKILL in the middle of a flood: the work survives, each change once -------------------------------------

FLOOD = 100
KILL_AFTER = 50  # accepted customers: half the flood, so the kill lands with work in flight
FLOOD_CONCURRENCY = 10


@dataclass
class Flood:
    """What a flood of provisioning requests got back: accepted customers, and requests the kill cut off."""

    accepted: dict[str, str] = field(default_factory=dict)  # customer id -> externalId
    cut_off: list[str] = field(default_factory=list)  # externalIds whose request got no answer
    unexpected: list[str] = field(default_factory=list)  # answers that were neither (must stay empty)
    answered: set[str] = field(default_factory=set)  # externalIds that got any answer

    @property
    def done(self) -> int:
        return len(self.answered) + len(self.cut_off)


async def flood(gateway: Gateway, tenant: Tenant, external_ids: list[str], outcome: Flood) -> None:
    slots = asyncio.Semaphore(FLOOD_CONCURRENCY)

    async def one(http: httpx.AsyncClient, external_id: str) -> None:
        async with slots:
            try:
                response = await http.post(
                    gateway.graphql_url, headers={"Authorization": f"Bearer {tenant.token}"},
                    json={"query": PROVISION, "variables": {"input": customer_input(tenant.provisioning_id,
                                                                                     external_id)}})
            except httpx.TransportError:
                outcome.cut_off.append(external_id)
                return
            outcome.answered.add(external_id)
            try:
                body = response.json()
            except ValueError:
                outcome.unexpected.append(f"{external_id}: HTTP {response.status_code} {response.text[:300]}")
                return
            payload = (body.get("data") or {}).get("provisionCustomer") or {}
            customer = payload.get("customer")
            if response.status_code == 200 and not body.get("errors") and payload.get("errors") == [] and customer:
                assert customer["externalId"] == external_id and customer["status"] == "provisioning", customer
                outcome.accepted[customer["id"]] = external_id
            else:
                outcome.unexpected.append(f"{external_id}: HTTP {response.status_code} {body}")

    async with httpx.AsyncClient(timeout=HTTP_TIMEOUT_S) as http:
        await asyncio.gather(*(one(http, external_id) for external_id in external_ids))


async def test_work_accepted_before_a_sigkill_is_finished_by_the_next_gateway_exactly_once(cluster: Cluster) -> None:
    # A transaction the kill leaves open is ended by the next gateway once the first's heartbeat is 5 s old
    # (domain.store.sessions), not after the server's 60 s.
    first = await cluster.gateway(GATEWAY_WORKERS="4", GATEWAY_ENGINE_LATENCY_MS="50",
                                  GATEWAY_SESSION_STALE_SECONDS="5")
    tenant = await onboard(first)
    external_ids = [f"E2E-KILL-{i:03d}" for i in range(FLOOD)]
    outcome = Flood()
    submitting = asyncio.create_task(flood(first, tenant, external_ids, outcome))
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + SETTLE_DEADLINE_S
        while len(outcome.accepted) < KILL_AFTER and not submitting.done():
            assert loop.time() < deadline, f"only {len(outcome.accepted)} customers accepted; {outcome.unexpected[:5]}"
            await asyncio.sleep(0.01)
        done_at_kill = outcome.done
        first.kill()
        assert await first.wait() == -signal.SIGKILL
    finally:
        await asyncio.gather(submitting, return_exceptions=True)
    submitting.result()  # an assertion inside the flood fails the test here

    # The scenario held: the kill came in the middle of the submissions, with work in flight.
    assert outcome.unexpected == []
    assert done_at_kill < FLOOD, "every request had been answered before the kill"
    assert len(outcome.accepted) >= KILL_AFTER
    in_flight_at_kill = await cluster.db.find("customers", {"status": {"$nin": list(TERMINAL)}})
    assert in_flight_at_kill, "nothing was in flight when the gateway was killed"
    leased_at_kill = await cluster.db.find("jobs", {"status": "running"})

    second = await cluster.gateway(GATEWAY_WORKERS="4", GATEWAY_ENGINE_LATENCY_MS="50",
                                   GATEWAY_SESSION_STALE_SECONDS="5")
    customers = await cluster.wait_until_settled(outcome.accepted)

    # Every accepted customer is there and terminal; any other one is a request whose answer the kill cut off.
    by_id = {c["_id"]: c for c in customers}
    for customer_id, external_id in outcome.accepted.items():
        assert by_id[customer_id]["externalId"] == external_id
        assert by_id[customer_id]["status"] in TERMINAL
    unanswered = [c for c in customers if c["_id"] not in outcome.accepted]
    assert all(c["externalId"] in outcome.cut_off for c in unanswered), \
        [c["externalId"] for c in unanswered if c["externalId"] not in outcome.cut_off]
    assert all(c["status"] in TERMINAL for c in unanswered)
    assert len({c["externalId"] for c in customers}) == len(customers), "an externalId was provisioned twice"

    by_entity = await histories(cluster.db, customers)
    problems = happy_history_problems(by_entity, customers)
    assert problems == [], report(problems)
    created_by = {by_entity[f"CUSTOMER {c['_id']}"][0]["worker"] for c in customers}
    assert created_by == {identity(first)}, created_by
    finished_by = Counter(e["worker"] for e in terminal_events(by_entity, customers).values())
    assert set(finished_by) <= {identity(first), identity(second)}, finished_by
    assert await cluster.work_left() == []

    print(f"\n[kill] {len(outcome.accepted)} accepted, {len(outcome.cut_off)} cut off by the kill, "
          f"{len(unanswered)} of those committed anyway; {len(in_flight_at_kill)} customers in flight and "
          f"{len(leased_at_kill)} jobs leased at the kill; finished by first/second: "
          f"{finished_by[identity(first)]}/{finished_by[identity(second)]}")


# --- (c) two gateways with workers on one database: the work is shared, each change once ---------------------------

SHARED = 60


async def test_two_gateways_share_the_queue_and_commit_each_change_once(cluster: Cluster) -> None:
    env = {"GATEWAY_WORKERS": "2", "GATEWAY_ENGINE_LATENCY_MS": "20"}
    gateways = [await cluster.gateway(**env), await cluster.gateway(**env)]
    tenant = await onboard(gateways[0])
    slots = asyncio.Semaphore(8)

    async def submit(i: int) -> tuple[str, Gateway]:
        gateway = gateways[i % 2]
        async with slots:  # the real `gql` client, one session per request
            data = await gateway.execute(tenant.token, PROVISION,
                                         {"input": customer_input(tenant.provisioning_id, f"E2E-PAIR-{i:02d}")})
        payload = data["provisionCustomer"]
        assert payload["errors"] == [], payload
        customer_id: str = payload["customer"]["id"]
        return customer_id, gateway

    submitted = dict(await asyncio.gather(*(submit(i) for i in range(SHARED))))
    assert len(submitted) == SHARED
    customers = await cluster.wait_until_settled(submitted)
    assert sorted(c["_id"] for c in customers) == sorted(submitted)

    by_entity = await histories(cluster.db, customers)
    problems = happy_history_problems(by_entity, customers)
    assert problems == [], report(problems)
    for customer in customers:  # the creation is committed by the process that answered the request
        created = by_entity[f"CUSTOMER {customer['_id']}"][0]
        assert created["worker"] == identity(submitted[customer["_id"]]), created
    finished_by = Counter(e["worker"] for e in terminal_events(by_entity, customers).values())
    assert set(finished_by) == {identity(g) for g in gateways}, finished_by
    assert await cluster.work_left() == []
    print(f"\n[pair] finished by each gateway: {dict(finished_by)}")
