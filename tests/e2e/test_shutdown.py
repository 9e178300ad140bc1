"""End to end: a `gateway serve` process stopped with SIGTERM (or SIGINT, Ctrl-C) shuts down gracefully.

In order: it stops accepting connections, ends every websocket with 1001 (going away: clients reconnect to
another process and resume from their cursor), lets the HTTP requests in flight finish, hands the leases of the
jobs it was running back, and exits with status 0.

The gateways run on a fresh database of the session's SecantusDB server; what is stored is read with a direct
client, never through the gateway under test. Deadlines are failure bounds, never timing assertions.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from pymongo.errors import PyMongoError
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from domain.store.driver import Database, Document, Session
from domain.store.repositories.events import COUNTERS, EVENT_COUNTER_ID
from tests.api.provisioning import PROVISION, customer_input
from tests.e2e.test_gateway_process import Gateway
from tests.e2e.test_provisioning_processes import Cluster, Tenant, fresh_cluster, onboard

pytestmark = pytest.mark.e2e

TRANSPORT = "graphql-transport-ws"
LEGACY = "graphql-ws"
EVENTS = "subscription { provisioningEvents(filter: {entityTypes: [CUSTOMER]}) { cursor entityId toStatus } }"
GOING_AWAY = 1001
WRITE_CONFLICT = 112

API_ONLY = {"GATEWAY_WORKERS": "0"}
DEADLINE_S = 30.0  # for a message, a closed socket, a refused connection, a request held in its transaction
EXIT_DEADLINE_S = 60.0  # a stopped gateway must have exited by then
SETTLED_DEADLINE_S = 90.0
HTTP_TIMEOUT_S = 60.0
POLL_S = 0.05


@pytest.fixture
async def cluster(mongo_uri: str, tmp_path: Path) -> AsyncIterator[Cluster]:
    async with fresh_cluster(mongo_uri, tmp_path) as fresh:
        yield fresh


# --- helpers ---------------------------------------------------------------------------------------------------------


def terminate(gateway: Gateway, sig: signal.Signals = signal.SIGTERM) -> None:
    gateway.send_signal(sig)


async def exited_cleanly(gateway: Gateway) -> None:
    """The process ends by itself with status 0 after its graceful shutdown."""
    code = await gateway.wait(EXIT_DEADLINE_S)
    assert code == 0, gateway.stderr[-3000:]
    assert "Application shutdown complete." in gateway.stderr


async def provision(http: httpx.AsyncClient, gateway: Gateway, tenant: Tenant, external_id: str) -> httpx.Response:
    return await http.post(gateway.graphql_url, headers={"Authorization": f"Bearer {tenant.token}"},
                           json={"query": PROVISION,
                                 "variables": {"input": customer_input(tenant.provisioning_id, external_id)}})


def accepted(response: httpx.Response) -> dict[str, Any]:
    """The customer of a provisioning request that was answered 200 and accepted."""
    assert response.status_code == 200, response.text
    body = response.json()
    assert not body.get("errors"), body
    payload = body["data"]["provisionCustomer"]
    assert payload["errors"] == [], payload
    customer: dict[str, Any] = payload["customer"]
    return customer


async def refused(gateway: Gateway) -> None:
    """Wait until a new connection to the gateway's port is refused."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DEADLINE_S
    async with httpx.AsyncClient(base_url=gateway.url, timeout=5.0) as http:
        while True:
            try:
                await http.get("/healthz")
            except httpx.ConnectError:
                return
            assert loop.time() < deadline, "the stopping gateway still accepts new connections"
            await asyncio.sleep(POLL_S)


async def receive(ws: ClientConnection) -> dict[str, Any]:
    """The next protocol message other than a keep-alive."""
    while True:
        message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), DEADLINE_S))
        if message["type"] not in ("ping", "ka"):
            return message


async def close_code(ws: ClientConnection) -> int:
    """Read until the server closes the socket (a normal close ends the reading, another one raises); its close code."""
    with contextlib.suppress(ConnectionClosed):
        async with asyncio.timeout(DEADLINE_S):
            async for _ in ws:  # whatever the server still sends before its close frame
                pass
    assert ws.protocol.close_rcvd is not None, "the server did not send a close frame"
    return ws.protocol.close_rcvd.code


async def subscribed(ws: ClientConnection, protocol: str, token: str) -> None:
    await ws.send(json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}))
    assert (await receive(ws))["type"] == "connection_ack"
    start = "subscribe" if protocol == TRANSPORT else "start"
    await ws.send(json.dumps({"id": "events", "type": start, "payload": {"query": EVENTS}}))


# --- a request held inside its transaction -----------------------------------------------------------------------


class Rollback(Exception):
    """Raised to end a transaction of the test's own by aborting it."""


@asynccontextmanager
async def event_counter_held(db: Database) -> AsyncIterator[None]:
    """Hold the outbox's sequence counter in an open transaction of our own, aborted on leaving.

    Every transaction that records an event writes that counter last, just before its commit: while it is held,
    such a transaction conflicts there and is retried whole by the gateway, so a request stays inside its
    transaction, its other writes made but not committed, until the counter is released.
    """
    try:
        async with db.transaction() as session:
            await db.collection(COUNTERS).update_one({"_id": EVENT_COUNTER_ID}, {"$set": {"heldBy": "a test"}},
                                                     session=session)
            yield
            raise Rollback
    except Rollback:
        pass


async def conflicts(db: Database, write: Callable[[Session], Awaitable[object]]) -> bool:
    """Whether `write(session)`, made in a transaction of ours that is always aborted, conflicts with an uncommitted
    write of another transaction."""
    try:
        async with db.transaction() as session:
            await write(session)
            raise Rollback
    except Rollback:
        return False
    except PyMongoError as exc:
        if getattr(exc, "code", None) == WRITE_CONFLICT:
            return True
        raise


async def customer_insert_pending(db: Database, owner: str, external_id: str) -> bool:
    """Whether another transaction holds an uncommitted insert of this customer (owner, externalId is unique):
    our own insert of it, in a transaction that is always aborted, conflicts with it then."""
    probe = {"_id": f"probe-{uuid.uuid4().hex[:8]}", "ownerOrgId": owner, "externalId": external_id}
    return await conflicts(db, lambda session: db.collection("customers").insert_one(probe, session=session))


async def held_in_transaction(db: Database, tenant: Tenant, external_id: str, request: asyncio.Task[Any]) -> None:
    """Wait until the request for `external_id` is inside its transaction (its customer written, uncommitted)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DEADLINE_S
    while not await customer_insert_pending(db, tenant.partner_id, external_id):
        assert not request.done(), f"the request ended before it was seen in its transaction: {request.result()}"
        assert loop.time() < deadline, "the request was not seen inside its transaction"
        await asyncio.sleep(POLL_S)


# --- jobs --------------------------------------------------------------------------------------------------------


async def job_of(db: Database, customer_id: str) -> Document | None:
    found = await db.find("jobs", {"entityId": customer_id})
    assert len(found) <= 1, found
    return found[0] if found else None


async def running_job(db: Database, customer_id: str) -> Document:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DEADLINE_S
    while (job := await job_of(db, customer_id)) is None or job["status"] != "running":
        assert loop.time() < deadline, f"the customer's job was not leased: {job}"
        await asyncio.sleep(POLL_S)
    return job


async def provisioned(db: Database, customer_id: str) -> Document:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + SETTLED_DEADLINE_S
    while True:
        customer = (await db.find("customers", {"_id": customer_id}))[0]
        if customer["status"] == "provisioned" and await job_of(db, customer_id) is None:
            return customer
        assert loop.time() < deadline, f"not provisioned: {customer['status']}, job {await job_of(db, customer_id)}"
        await asyncio.sleep(POLL_S * 4)


# --- tests -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["sigterm", "sigint"])
async def test_a_stop_signal_ends_the_websockets_of_both_protocols_with_1001_going_away(
        cluster: Cluster, sig: signal.Signals) -> None:
    gateway = await cluster.gateway(**API_ONLY)
    tenant = await onboard(gateway)
    url = gateway.ws_url
    async with connect(url, subprotocols=[Subprotocol(TRANSPORT)]) as current, \
            connect(url, subprotocols=[Subprotocol(LEGACY)]) as legacy:
        await subscribed(current, TRANSPORT, tenant.token)
        await subscribed(legacy, LEGACY, tenant.token)
        # Both subscriptions are live: a change committed now reaches them.
        async with httpx.AsyncClient(timeout=HTTP_TIMEOUT_S) as http:
            customer = accepted(await provision(http, gateway, tenant, "SHUTDOWN-WS-1"))
        for ws, kind in ((current, "next"), (legacy, "data")):
            message = await receive(ws)
            assert message["type"] == kind, message
            event = message["payload"]["data"]["provisioningEvents"]
            assert (event["entityId"], event["toStatus"]) == (customer["id"], "provisioning"), event
            assert event["cursor"], event

        terminate(gateway, sig)
        assert await close_code(current) == GOING_AWAY
        assert await close_code(legacy) == GOING_AWAY
    await exited_cleanly(gateway)
    assert "closed 2 websockets with 1001" in gateway.stderr


async def test_sigterm_lets_a_request_in_flight_finish_and_refuses_new_connections(cluster: Cluster) -> None:
    # A grace longer than the default 10 s: the request is held until the test has seen new connections refused,
    # which on a loaded CI machine once took longer than 10 s, and the stopping gateway then cut the request off.
    gateway = await cluster.gateway(**API_ONLY, GATEWAY_SHUTDOWN_GRACE_SECONDS="30")
    tenant = await onboard(gateway)
    async with httpx.AsyncClient(timeout=HTTP_TIMEOUT_S) as http:
        accepted(await provision(http, gateway, tenant, "SHUTDOWN-HTTP-0"))  # the event counter exists now
        async with event_counter_held(cluster.db):
            request = asyncio.create_task(provision(http, gateway, tenant, "SHUTDOWN-HTTP-1"))
            try:
                await held_in_transaction(cluster.db, tenant, "SHUTDOWN-HTTP-1", request)
                terminate(gateway)
                await refused(gateway)
                assert not request.done(), "the request in flight was ended by the shutdown"
            except BaseException:
                request.cancel()
                raise
        # Released: the request commits and is answered, and only then does the process exit.
        customer = accepted(await request)
    assert customer["externalId"] == "SHUTDOWN-HTTP-1" and customer["status"] == "provisioning", customer
    await exited_cleanly(gateway)
    stored = await cluster.db.find("customers", {"_id": customer["id"]})
    assert [c["externalId"] for c in stored] == ["SHUTDOWN-HTTP-1"]
    assert await job_of(cluster.db, customer["id"]) is not None, "the accepted request's job was not stored"


async def test_sigterm_hands_back_the_leases_of_running_jobs_at_once(cluster: Cluster) -> None:
    # A minute per Webex-side step keeps the job running when the gateway stops; a ten-minute lease would keep
    # it from any other worker for that long, had the stopping gateway not handed it back.
    first = await cluster.gateway(GATEWAY_WORKERS="1", GATEWAY_ENGINE_LATENCY_MS="60000",
                                  GATEWAY_JOB_LEASE_SECONDS="600")
    tenant = await onboard(first)
    async with httpx.AsyncClient(timeout=HTTP_TIMEOUT_S) as http:
        customer = accepted(await provision(http, first, tenant, "SHUTDOWN-JOB-1"))
    leased = await running_job(cluster.db, customer["id"])
    assert leased["leaseOwner"], leased

    terminate(first)
    await exited_cleanly(first)
    released = await job_of(cluster.db, customer["id"])
    assert released is not None, "the job was lost"
    assert (released["status"], released["leaseOwner"], released["leaseUntil"]) == ("ready", None, None), released
    assert (await cluster.db.find("customers", {"_id": customer["id"]}))[0]["status"] == "provisioning"

    # Another gateway takes the job up at once, long before the lease would have expired.
    await cluster.gateway(GATEWAY_WORKERS="2", GATEWAY_ENGINE_LATENCY_MS="20", GATEWAY_JOB_LEASE_SECONDS="600")
    done = await provisioned(cluster.db, customer["id"])
    assert done["status"] == "provisioned"
