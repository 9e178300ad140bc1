"""The mixed load's clients (bench.mixed_load): websocket subscriptions of five variants (`Feed`), HTTP clients
sending an operation mix at a steady rate (`client`), and what they know of the gateway's data, from the answers
and from the events (`World`).

Mutations are built so that none can be refused: an update only goes to a customer last seen `provisioned`, with
no update of ours in flight.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, WebSocketException

from bench.support.data import DASHBOARD, bench_customer
from bench.support.fleet import PONG, PROTOCOL, acknowledged

EVENT_FIELDS = "cursor entityType entityId customerId toStatus version"
VARIANTS = [  # (name, subscription document)
    ("all", f"subscription {{ provisioningEvents {{ {EVENT_FIELDS} }} }}"),
    ("customers", "subscription { provisioningEvents(filter: {entityTypes: [CUSTOMER]}) "
                  f"{{ {EVENT_FIELDS} fromStatus customer {{ id name status }} }} }}"),
    ("customers+subscribers", "subscription { provisioningEvents(filter: {entityTypes: [CUSTOMER, SUBSCRIBER]}) "
                              f"{{ {EVENT_FIELDS} subscriber {{ id email status }} }} }}"),
    ("to provisioned", 'subscription { provisioningEvents(filter: {toStatuses: ["provisioned"]}) '
                       f"{{ {EVENT_FIELDS} occurredAt }} }}"),
    ("packages", "subscription { provisioningEvents(filter: {entityTypes: [CUSTOMER_PACKAGE]}) "
                 f"{{ {EVENT_FIELDS} }} }}"),
]
SETTLED = ("provisioned", "provisioned_with_errors")
NODE = """query($id: ID!) { node(id: $id) { id
  ... on Customer { name status version packages { name status assigned } owner { name } }
  ... on Subscriber { email subscriberStatus: status package customer { id name } } } }"""
CUSTOMER_LISTS = [
    '{ customers(first: 20, filter: {status: [provisioned]}, orderBy: NAME_ASC) '
    '{ totalCount edges { node { id name status } } } }',
    '{ customers(first: 20, filter: {nameContains: "Bench"}) { edges { node { id name status version } } '
    'pageInfo { hasNextPage endCursor } } }',
    '{ customers(first: 25, filter: {includeSubPartners: true, status: [provisioning, updating, deleting]}) '
    '{ totalCount edges { node { id name status owner { name } } } } }',
    '{ customers(first: 10, orderBy: LAST_STATUS_CHANGE_DESC) { edges { node { id name lastStatusChange '
    'template { name } } } } }',
]
SUBSCRIBER_LIST = """{ subscribers(first: 20, filter: {package: webex_meetings}, orderBy: LAST_STATUS_CHANGE_DESC) {
  edges { node { id email status customer { id name } } } } }"""
PROVISION = """mutation($input: ProvisionCustomerInput!) {
  provisionCustomer(input: $input) { customer { id status version } errors { code message field } } }"""
PROVISION_SUBSCRIBER = """mutation($input: ProvisionSubscriberInput!) {
  provisionSubscriber(input: $input) { subscriber { id status } errors { code message field } } }"""
UPDATE = """mutation($id: ID!, $input: UpdateCustomerInput!) {
  updateCustomer(id: $id, input: $input) { customer { id status version } errors { code message field } } }"""
BASE_PACKAGES = ["webex_calling", "webex_meetings"]
WEIGHTS = {"dashboard": 20, "node": 20, "customer list": 20, "subscriber list": 10, "provisionCustomer": 10,
           "provisionSubscriber": 10, "updateCustomer": 10}


# --- what the clients know about the gateway's data (from answers and from the events) -----------------------------


@dataclass
class World:
    provisioning_id: str
    node_ids: list[str]  # customers and subscribers to look up
    status: dict[str, tuple[int, str]] = field(default_factory=dict)  # bench customer id -> (version, status)
    updating: set[str] = field(default_factory=set)  # bench customers with an update of ours in flight
    addons: dict[str, bool] = field(default_factory=dict)  # bench customer id -> has attendant_console
    numbers: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def seen(self, customer_id: str, version: int, status: str) -> None:
        if customer_id in self.status and version > self.status[customer_id][0]:
            self.status[customer_id] = (version, status)

    def ready(self) -> list[str]:
        return [c for c, (_, s) in self.status.items() if s in SETTLED and c not in self.updating]

    def open_work(self) -> int:
        return sum(1 for _, s in self.status.values() if s not in SETTLED)


# --- the subscriptions ----------------------------------------------------------------------------------------------


@dataclass
class Feed:
    """Every subscription's events: counts always, the set of cursors while `recording`."""

    world: World
    sockets: int = 0
    subscriptions: int = 0
    variants: dict[tuple[int, str], str] = field(default_factory=dict)  # (socket, subscription id) -> variant
    live: set[tuple[int, str]] = field(default_factory=set)  # subscriptions with an event received
    received: int = 0
    last_event_at: float = 0.0
    recording: bool = False
    recorded: defaultdict[tuple[int, str], list[str]] = field(default_factory=lambda: defaultdict(list))
    errors: Counter[str] = field(default_factory=Counter)
    stopping: bool = False
    pings: int = 0

    def deliver(self, key: tuple[int, str], event: dict[str, Any]) -> None:
        self.received += 1
        self.last_event_at = time.monotonic()
        self.live.add(key)
        if self.recording:
            self.recorded[key].append(event["cursor"])
        if event["entityType"] == "CUSTOMER":
            self.world.seen(event["entityId"], event["version"], event["toStatus"])


async def subscriber_socket(url: str, token: str, index: int, per_socket: int, feed: Feed,
                            opened: asyncio.Future[None]) -> None:
    """One websocket with `per_socket` subscriptions (variants in turn); runs until cancelled or closed."""
    try:
        async with connect(url, subprotocols=[PROTOCOL], open_timeout=60, ping_interval=None, close_timeout=2,
                           max_size=None, proxy=None) as ws:
            await acknowledged(ws, token)
            for n in range(per_socket):
                name, query = VARIANTS[(index * per_socket + n) % len(VARIANTS)]
                await ws.send(json.dumps({"id": str(n), "type": "subscribe", "payload": {"query": query}}))
                feed.variants[(index, str(n))] = name
            feed.sockets += 1
            feed.subscriptions += per_socket
            opened.set_result(None)
            await read(ws, index, feed)
    except (OSError, TimeoutError, WebSocketException, RuntimeError, ValueError) as exc:
        if not opened.done():
            opened.set_exception(exc)
        elif not feed.stopping:
            feed.errors[f"websocket {type(exc).__name__}: {exc}"[:160]] += 1


async def read(ws: ClientConnection, index: int, feed: Feed) -> None:
    try:
        async for raw in ws:
            message = json.loads(raw)
            kind = message.get("type")
            if kind == "next":
                payload = message.get("payload") or {}
                event = (payload.get("data") or {}).get("provisioningEvents")
                if payload.get("errors") or not event:
                    feed.errors[f"websocket next with errors: {str(payload.get('errors'))[:120]}"] += 1
                else:
                    feed.deliver((index, message["id"]), event)
            elif kind == "ping":
                feed.pings += 1
                await ws.send(PONG)
            elif kind != "pong":
                feed.errors[f"websocket {kind}: {str(message.get('payload'))[:120]}"] += 1
    except ConnectionClosed as exc:
        if not feed.stopping:
            feed.errors[f"websocket closed by the server: {exc.rcvd.code if exc.rcvd else '-'}"] += 1
        return
    if not feed.stopping:
        feed.errors["websocket closed by the server"] += 1


# --- the operations -------------------------------------------------------------------------------------------------


@dataclass
class Load:
    latencies_ms: defaultdict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: Counter[str] = field(default_factory=Counter)
    late: int = 0  # operations sent after their scheduled time (the previous one of that client was still running)
    seconds: float = 0.0


async def call(http: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None
               ) -> tuple[float, httpx.Response]:
    started = time.perf_counter()
    response = await http.post("/graphql", json={"query": query, "variables": variables or {}})
    return (time.perf_counter() - started) * 1000, response


async def one(http: httpx.AsyncClient, world: World, rng: random.Random, kind: str, load: Load) -> None:
    """One operation of `kind`: sent, timed, and checked."""
    query, variables, payload_field = request_for(kind, world, rng)
    if query is None:
        kind, (query, variables, payload_field) = "dashboard", (DASHBOARD, None, None)  # nothing to mutate yet
    try:
        elapsed, response = await call(http, query, variables)
    except httpx.HTTPError as exc:
        load.errors[f"{kind}: {type(exc).__name__}: {exc}"[:160]] += 1
        return
    finally:
        if payload_field == "updateCustomer" and variables is not None:
            world.updating.discard(variables["id"])
    load.latencies_ms[kind].append(elapsed)
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code != 200:
        load.errors[f"{kind}: HTTP {response.status_code} {str(body)[:120]}"] += 1
        return
    if body.get("errors"):
        first = body["errors"][0]
        load.errors[f"{kind}: {(first.get('extensions') or {}).get('code')}: {first.get('message')}"[:160]] += 1
        return
    if payload_field is not None:
        payload = body["data"][payload_field]
        if payload["errors"]:
            load.errors[f"{kind}: payload errors {[e['code'] for e in payload['errors']]}"] += 1
            return
        remember(world, payload_field, payload, variables or {})


def request_for(kind: str, world: World, rng: random.Random) -> tuple[str | None, dict[str, Any] | None, str | None]:
    """(document, variables, the mutation's payload field) for one operation; no document when it cannot be built."""
    if kind == "dashboard":
        return DASHBOARD, None, None
    if kind == "node":
        return NODE, {"id": rng.choice(world.node_ids)}, None
    if kind == "customer list":
        return rng.choice(CUSTOMER_LISTS), None, None
    if kind == "subscriber list":
        return SUBSCRIBER_LIST, None, None
    if kind == "provisionCustomer":
        request = bench_customer(world.provisioning_id, 1, next(world.numbers))
        return PROVISION, {"input": request}, "provisionCustomer"
    if kind == "provisionSubscriber":
        customers = [c for c, (_, s) in world.status.items() if s not in ("deleting", "error")]
        if not customers:
            return None, None, None
        n = next(world.numbers)
        user = {"customerId": rng.choice(customers), "email": f"load{n}@bench-customer.example",
                "package": "webex_meetings", "firstName": "Load", "lastName": f"User {n}"}
        return PROVISION_SUBSCRIBER, {"input": user}, "provisionSubscriber"
    assert kind == "updateCustomer", kind
    ready = world.ready()
    if not ready:
        return None, None, None
    customer_id = rng.choice(ready)
    world.updating.add(customer_id)  # until its answer: no second update of ours can race it
    with_addon = not world.addons.get(customer_id, False)
    packages = [*BASE_PACKAGES, "attendant_console"] if with_addon else BASE_PACKAGES
    return UPDATE, {"id": customer_id, "input": {"packages": packages}}, "updateCustomer"


def remember(world: World, payload_field: str, payload: dict[str, Any], variables: dict[str, Any]) -> None:
    if payload_field == "provisionSubscriber":
        world.node_ids.append(payload["subscriber"]["id"])
        return
    customer = payload["customer"]
    if payload_field == "provisionCustomer":
        world.status.setdefault(customer["id"], (0, customer["status"]))
        world.node_ids.append(customer["id"])
    else:
        world.addons[customer["id"]] = "attendant_console" in variables["input"]["packages"]
    # The events may have moved it on already: only a newer version counts.
    version, _ = world.status.get(customer["id"], (0, ""))
    if customer["version"] > version:
        world.status[customer["id"]] = (customer["version"], customer["status"])


async def client(base_url: str, token: str, world: World, load: Load, rate: float, offset: float, seed: int,
                 until: float) -> None:
    """Operations at `rate` per second on a fixed schedule starting `offset` seconds from now, until `until`."""
    rng = random.Random(seed)
    kinds, weights = list(WEIGHTS), list(WEIGHTS.values())
    async with httpx.AsyncClient(base_url=base_url, timeout=60.0, trust_env=False,
                                 headers={"authorization": f"Bearer {token}"}) as http:
        due = time.monotonic() + offset
        while due < until:
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            elif wait < -0.001:
                load.late += 1
            await one(http, world, rng, rng.choices(kinds, weights)[0], load)
            due += 1 / rate


