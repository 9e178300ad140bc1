"""A mixed load on a real gateway process: queries and mutations at a steady rate while 500 subscriptions stay open.

The script starts `python -m gateway serve` on a fresh temporary data directory (the demo seeded, its embedded
SecantusDB a child process, every setting at its default: 4 job workers, 30 ms per Webex-side step, the per-token
rate limit on), waits for the demo's queued work to finish, then:

1. opens --sockets websockets (graphql-transport-ws), each with its own bearer token (the rate limit counts per
   token) and --per-socket `provisioningEvents` subscriptions, five filter/selection variants in turn (everything;
   customers with the customer's current state; customers and subscribers; anything reaching `provisioned`;
   packages): 50 x 10 = 500 by default, under GATEWAY_WS_MAX_SUBSCRIPTIONS (25 per socket);
2. provisions --pool customers until every subscription has received an event and the pool is provisioned, then
   waits for a quiet second, so that every event from now on is due to every subscription whose filter matches it;
3. for --seconds (default 120), --clients HTTP clients (each its own token) send --rate operations per second in all,
   each at its own fixed schedule (a late one is sent at once; nothing is skipped), drawn at random with these
   weights: the dashboard query 20, `node` lookups 20, filtered customer lists 20, a subscriber list 10,
   provisionCustomer 10, provisionSubscriber (webex_meetings, on a bench customer) 10, updateCustomer (toggling
   the attendant_console add-on of a provisioned bench customer, which the subscriptions report back) 10.
   Mutations are built so that none can be refused: an update only goes to a customer the subscriptions last saw
   `provisioned`, with no update of ours in flight;
4. waits until nothing is left provisioning or updating and the events stop, then compares what the subscriptions
   received: subscriptions with the same filter must have received the same events (missed = events another
   subscription of the same filter got and this one did not; duplicates = an event received twice).

Errors counted: HTTP answers other than 200, top-level GraphQL errors, mutation payload errors (none is expected by
construction), transport failures; on the websockets, `error` or `complete` messages, `next` with errors, and a
socket closed by the server. Latency = request sent → whole answer read, per operation kind (p50/p99, ms); throughput
= operations answered ÷ the load's duration. Clients and server share this machine's cores.

    cd /work/main && .venv/bin/python -m bench.mixed_load --seconds 120
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import platform
import random
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, WebSocketException
from websockets.typing import Subprotocol

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as `python bench/mixed_load.py`
    sys.path.insert(0, str(REPO))

from bench.common import DASHBOARD, Figure, fmt  # noqa: E402
from bench.fanout import raise_open_files_limit, start_process, wait_ready  # noqa: E402
from bench.provisioning import (  # noqa: E402
    TEMPLATES,
    Run,
    customer_request,
    free_port,
    graphql,
    log,
    percentile,
    positive_int,
    problems_in_log,
    stop_databases,
    stop_group,
    wait_demo_settled,
)
from gateway.auth import issue_token  # noqa: E402
from gateway.demo import DEMO_PARTNER_ID  # noqa: E402

COMMAND = "python -m bench.mixed_load"
PROTOCOL = Subprotocol("graphql-transport-ws")
PONG = json.dumps({"type": "pong"})
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
DEMO_CUSTOMERS = "{ customers(first: 50, filter: {includeSubPartners: true}) { edges { node { id } } } }"
POOL_DEADLINE_S = 180.0
DRAIN_DEADLINE_S = 120.0
QUIET_S = 1.0


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
            await ws.send(json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}))
            while (kind := json.loads(await ws.recv()).get("type")) != "connection_ack":
                if kind != "ping":
                    raise RuntimeError(f"{kind!r} before connection_ack")
                await ws.send(PONG)
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
        request = customer_request(world.provisioning_id, 1, next(world.numbers))
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


# --- the run --------------------------------------------------------------------------------------------------------


@dataclass
class MixedLoad:
    args: argparse.Namespace
    load: Load = field(default_factory=Load)
    feed: Feed | None = None
    events_during_load: int = 0
    missed: int = 0
    duplicates: int = 0
    drained_seconds: float = float("nan")
    group_events: dict[str, tuple[int, int]] = field(default_factory=dict)  # variant -> (subscriptions, events)
    notes: list[str] = field(default_factory=list)

    @property
    def operations(self) -> int:
        return sum(len(v) for v in self.load.latencies_ms.values())

    @property
    def errors(self) -> int:
        feed_errors = sum(self.feed.errors.values()) if self.feed is not None else 0
        return sum(self.load.errors.values()) + feed_errors

    @property
    def all_ms(self) -> list[float]:
        return [x for v in self.load.latencies_ms.values() for x in v]


async def run(args: argparse.Namespace) -> MixedLoad:
    result = MixedLoad(args)
    base = Path(tempfile.mkdtemp(prefix="bench-mixed-load-"))
    data_dir, log_path = base / "data", base / "gateway.log"
    secret = secrets.token_urlsafe(48)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}  # defaults; no GATEWAY_MONGODB_URI
    env.update(GATEWAY_DATA_DIR=str(data_dir), GATEWAY_PORT=str(port), GATEWAY_JWT_SECRET=secret, PYTHONUNBUFFERED="1")
    if args.no_rate_limit:
        env["GATEWAY_RATE_LIMIT_PER_SECOND"] = "0"

    def token(subject: str) -> str:
        return issue_token(secret, subject=f"{subject}@mixed-load.local", org=DEMO_PARTNER_ID, roles=["full_admin"],
                           ttl=timedelta(hours=2))

    process: subprocess.Popen[bytes] | None = None
    tasks: list[asyncio.Task[None]] = []
    feed: Feed | None = None
    try:
        log(f"mixed load: starting `gateway serve` on {data_dir}")
        process = start_process([sys.executable, "-m", "gateway", "serve"], env, log_path)
        base_url = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=base_url, timeout=120.0, trust_env=False,
                                     headers={"authorization": f"Bearer {token('control')}"}) as control:
            await wait_ready(control, process, log_path)
            settle = Run(0)
            await wait_demo_settled(control, settle)
            result.notes += settle.notes
            templates = [e["node"] for e in (await graphql(control, TEMPLATES))["onboardingTemplates"]["edges"]]
            demo_ids = [e["node"]["id"] for e in (await graphql(control, DEMO_CUSTOMERS))["customers"]["edges"]]
            world = World(provisioning_id=next(t for t in templates if t["country"] == "US")["provisioningId"],
                          node_ids=demo_ids)
            feed = result.feed = Feed(world)
            loop = asyncio.get_running_loop()
            log(f"mixed load: opening {args.sockets} websockets x {args.per_socket} subscriptions")
            for start in range(0, args.sockets, 25):
                futures: list[asyncio.Future[None]] = []
                for i in range(start, min(start + 25, args.sockets)):
                    futures.append(loop.create_future())
                    tasks.append(asyncio.create_task(subscriber_socket(
                        f"ws://127.0.0.1:{port}/graphql", token(f"socket{i}"), i, args.per_socket, feed, futures[-1])))
                for outcome in await asyncio.gather(*futures, return_exceptions=True):
                    if isinstance(outcome, BaseException):
                        feed.errors[f"websocket did not open: {type(outcome).__name__}: {outcome}"[:160]] += 1
            await warm_up(control, world, feed, args, result)
            log(f"mixed load: {args.rate:g} operations/s from {args.clients} clients for {args.seconds:g} s")
            feed.recording = True
            received_before = feed.received
            started = time.monotonic()
            until = started + args.seconds
            await asyncio.gather(*(client(base_url, token(f"client{c}"), world, result.load, args.rate / args.clients,
                                          c / args.rate, args.seed + c, until) for c in range(args.clients)))
            result.load.seconds = time.monotonic() - started
            result.events_during_load = feed.received - received_before
            log("mixed load: waiting for the queued work and its events")
            result.drained_seconds = await drain(world, feed)
            feed.recording = False
            compare(feed, result)
    finally:
        if feed is not None:
            feed.stopping = True
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if process is not None and (note := await asyncio.to_thread(stop_group, process)) is not None:
            result.notes.append(f"gateway {note}")
        result.notes += await asyncio.to_thread(stop_databases, data_dir)
        result.notes += problems_in_log(log_path, "gateway output")
        if args.keep:
            result.notes.append(f"kept {base}")
        else:
            shutil.rmtree(base, ignore_errors=True)
    return result


async def warm_up(control: httpx.AsyncClient, world: World, feed: Feed, args: argparse.Namespace,
                  result: MixedLoad) -> None:
    """A pool of provisioned bench customers, every subscription live, then a quiet moment."""
    log(f"mixed load: {feed.subscriptions} subscriptions on {feed.sockets} sockets; provisioning a pool of "
        f"{args.pool} customers")
    for _ in range(args.pool):
        payload = (await graphql(control, PROVISION, {"input": customer_request(world.provisioning_id, 1,
                                                                                  next(world.numbers))}))
        customer = payload["provisionCustomer"]["customer"]
        world.status[customer["id"]] = (customer["version"], customer["status"])
        world.node_ids.append(customer["id"])
    deadline = time.monotonic() + POOL_DEADLINE_S

    def warming() -> bool:
        return (len(feed.live) < feed.subscriptions or len(world.ready()) < args.pool) and time.monotonic() < deadline

    while warming():  # noqa: ASYNC110 - a condition over many sockets, polled
        await asyncio.sleep(0.2)
    if len(feed.live) < feed.subscriptions:
        result.notes.append(f"only {len(feed.live)} of {feed.subscriptions} subscriptions received an event in the "
                            "warm-up")
    if len(world.ready()) < args.pool:
        result.notes.append(f"only {len(world.ready())} of the {args.pool} pool customers were provisioned in time")
    while time.monotonic() - feed.last_event_at < QUIET_S and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.1)  # waiting for the absence of events: nothing to be woken by


async def drain(world: World, feed: Feed) -> float:
    """Until no bench customer is provisioning or updating and no event came for a quiet second; seconds taken."""
    started = time.monotonic()
    deadline = started + DRAIN_DEADLINE_S

    def busy() -> bool:
        return world.open_work() > 0 or time.monotonic() - feed.last_event_at < QUIET_S

    while busy() and time.monotonic() < deadline:  # noqa: ASYNC110 - waits for the absence of events
        await asyncio.sleep(0.2)
    return time.monotonic() - started


def compare(feed: Feed, result: MixedLoad) -> None:
    """Subscriptions with the same filter must have received the same events, each once."""
    groups: defaultdict[str, list[tuple[int, str]]] = defaultdict(list)
    for key, name in feed.variants.items():
        groups[name].append(key)
    for name, keys in groups.items():
        union: set[str] = set()
        for key in keys:
            union.update(feed.recorded.get(key, []))
        for key in keys:
            cursors = feed.recorded.get(key, [])
            result.duplicates += len(cursors) - len(set(cursors))
            result.missed += len(union) - len(set(cursors))
        result.group_events[name] = (len(keys), len(union))


# --- report ---------------------------------------------------------------------------------------------------------


def report(result: MixedLoad) -> None:
    args, load, feed = result.args, result.load, result.feed
    print()
    print(f"Mixed load: {args.seconds:g} s at {args.rate:g} operations/s from {args.clients} clients, "
          f"{feed.subscriptions if feed else 0} subscriptions open on {feed.sockets if feed else 0} websockets")
    print(f"machine: {os.cpu_count()} cores, Python {platform.python_version()}; the gateway (`gateway serve`, "
          "defaults: 4 job workers, embedded SecantusDB) and these clients share them")
    limit = "off (GATEWAY_RATE_LIMIT_PER_SECOND=0)" if args.no_rate_limit else \
        f"on at its defaults, one token per client and per websocket ({args.clients} + {args.sockets})"
    print(f"rate limit: {limit}; operations sent late (client still busy with its previous one): {load.late}")
    columns = ["operation", "count", "p50 ms", "p99 ms", "max ms"]
    rows = [[kind, str(len(v)), fmt(percentile(v, 0.5)), fmt(percentile(v, 0.99)), fmt(max(v))]
            for kind, v in sorted(load.latencies_ms.items())]
    every = result.all_ms
    rows.append(["all", str(len(every)), fmt(percentile(every, 0.5)), fmt(percentile(every, 0.99)),
                 fmt(max(every) if every else float("nan"))])
    widths = [max([len(c), *(len(r[i]) for r in rows)]) for i, c in enumerate(columns)]
    print("  ".join(c.rjust(w) for c, w in zip(columns, widths, strict=True)))
    for row in rows:
        print("  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)))
    throughput = result.operations / load.seconds if load.seconds else float("nan")
    print(f"throughput: {fmt(throughput, 2)} operations/s answered ({result.operations} in {load.seconds:.1f} s)")
    if feed is not None:
        print(f"events received: {result.events_during_load} during the load "
              f"({fmt(result.events_during_load / load.seconds if load.seconds else float('nan'), 0)}/s over all "
              f"subscriptions), {feed.received} in all; server pings answered: {feed.pings}")
        print("  distinct events per filter (subscriptions): " + ", ".join(
            f"{name} {events} ({subs})" for name, (subs, events) in result.group_events.items()))
        print(f"  missed deliveries: {result.missed}; duplicates: {result.duplicates}; "
              f"drained {result.drained_seconds:.1f} s after the load")
    print(f"errors: {result.errors}")
    for reason, count in load.errors.most_common(10):
        print(f"  {count} x {reason}")
    if feed is not None:
        for reason, count in feed.errors.most_common(10):
            print(f"  {count} x {reason}")
    for note in result.notes:
        print(f"  ! {note}" if not note.startswith("    ") else f"  {note}")


def figures(result: MixedLoad, command: str = COMMAND) -> list[Figure]:
    every = result.all_ms
    subs = result.feed.subscriptions if result.feed is not None else 0
    seconds = result.load.seconds
    rows = [
        Figure(f"mixed load: errors ({result.args.seconds:g} s, {subs} subscriptions)", str(result.errors), "0",
               command),
        Figure("  all operations: p50 / p99", f"{fmt(percentile(every, 0.5))} / {fmt(percentile(every, 0.99))} ms",
               "", command),
    ]
    rows += [Figure(f"  {kind}: p50 / p99 (n={len(v)})", f"{fmt(percentile(v, 0.5))} / {fmt(percentile(v, 0.99))} ms",
                    "", command) for kind, v in sorted(result.load.latencies_ms.items())]
    events_per_s = result.events_during_load / seconds if seconds else float("nan")
    rows += [
        Figure("  throughput", f"{fmt(result.operations / seconds if seconds else float('nan'), 2)} ops/s "
               f"(asked {result.args.rate:g})", "", command),
        Figure("  events received during the load", f"{result.events_during_load} ({fmt(events_per_s, 0)}/s)", "",
               command),
        Figure("  missed / duplicate deliveries", f"{result.missed} / {result.duplicates}", "0 / 0", command),
    ]
    return rows


# --- command line -------------------------------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seconds", type=float, default=120.0, help="length of the load (default 120)")
    parser.add_argument("--rate", type=float, default=5.0, help="operations per second, all clients (default 5)")
    parser.add_argument("--clients", type=positive_int, default=4, help="concurrent HTTP clients (default 4)")
    parser.add_argument("--sockets", type=positive_int, default=50, help="websockets (default 50)")
    parser.add_argument("--per-socket", type=positive_int, default=10, help="subscriptions per websocket (default 10)")
    parser.add_argument("--pool", type=positive_int, default=6,
                        help="customers provisioned before the load (default 6)")
    parser.add_argument("--seed", type=int, default=20261122, help="random seed of the operation mix")
    parser.add_argument("--no-rate-limit", action="store_true",
                        help="run the gateway with GATEWAY_RATE_LIMIT_PER_SECOND=0")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (logs, data)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=COMMAND, description=(__doc__ or "").split("\n\n")[0])
    add_arguments(parser)
    args = parser.parse_args(argv)
    raise_open_files_limit()
    result = asyncio.run(run(args))
    report(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
