"""Fan-out of one committed change to N websocket subscribers: this gateway against a naive broadcast server.

For every size N (default 100 and 1000) two servers are measured, one after the other, each from nothing:

* ours: `python -m gateway serve` on a fresh temporary data directory (demo data seeded, its embedded
  SecantusDB started as a child process) with GATEWAY_WORKERS=0, so that a `provisionCustomer` mutation
  commits exactly one CUSTOMER event and nothing else runs. Subscribers with the same selection and scope
  share one execution and one JSON encoding of each event (resolvers.events.sharing);
* naive: a tiny Strawberry app defined in this file (stock `strawberry.asgi.GraphQL` view on uvicorn, run as
  `python -m bench.fanout --serve-naive PORT`). `Subscription.provisioningEvents` is a plain async generator
  per subscriber reading its own unbounded asyncio.Queue; POST /publish puts one event object into every
  queue, and every subscriber executes and serialises its own result (`customer` comes from a dict).

N clients (raw `websockets`, graphql-transport-ws, one task each, in this process) send `connection_init`
with the demo partner's bearer token and subscribe to the same document. Warm-up changes are committed until
every client has received one (which proves it is live). Then --rounds single changes are committed one at a
time; for each, every client's receive time is recorded. Figures:

* commit→recv: receive time - the moment the mutation's (or publish's) HTTP response arrived here. The change
  is committed by then; a client may be handed the event before the response is read, so values can be
  negative: nothing is clamped. send→recv: receive time - the moment the request was sent. Pooled over rounds.
* memory per socket: the server process's VmRSS after all N are subscribed (and the warm-up delivered) minus
  before the first of them connected, ÷ N. Only the server's own pid: ours' database is another process.
* spread: per round, the last client's receive - the first client's (the fan-out alone, without the commit
  path); the median over rounds. Each round is also printed: request time and first/median/last client.
* server CPU per round: utime+stime of the server process (/proc, 10 ms ticks) over the rounds ÷ rounds.

Clients and servers share the machine's cores, so client-side work shows up in the latencies. Nothing here
asserts anything about timing: it prints tables. Every process it starts runs in a session of its own and is
stopped in a `finally`; temporary directories are removed.

    cd /work/main && .venv/bin/python -m bench.fanout --sizes 100,1000,5000
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import platform
import resource
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import Enum
from pathlib import Path
from typing import Any

import httpx
import strawberry
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from strawberry.asgi import GraphQL
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import WebSocketException
from websockets.typing import Subprotocol

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as `python bench/fanout.py`
    sys.path.insert(0, str(REPO))

from bench.provisioning import (  # noqa: E402
    PROVISION,
    TEMPLATES,
    free_port,
    graphql,
    log,
    log_tail,
    percentile,
    positive_int,
    problems_in_log,
    sizes,
    stop_databases,
    stop_group,
)
from gateway.auth import issue_token  # noqa: E402
from gateway.demo import DEMO_PARTNER_ID  # noqa: E402

SUBSCRIPTION = """subscription {
  provisioningEvents(filter: {entityTypes: [CUSTOMER]}) {
    cursor entityType entityId customerId fromStatus toStatus version occurredAt customer { id name status }
  }
}"""
PROTOCOL = Subprotocol("graphql-transport-ws")
PONG = json.dumps({"type": "pong"})
SUBSCRIBE = json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIPTION}})
START_DEADLINE_S = 300.0  # a server must answer /readyz by then (ours seeds the demo data first)
SETTLE_S = 1.0  # quiet time before a memory reading
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


# --- the naive broadcast server (runs in its own process: --serve-naive PORT) --------------------------------------


@strawberry.enum(name="EntityType")
class NaiveEntityType(Enum):
    CUSTOMER = "CUSTOMER"
    CUSTOMER_PACKAGE = "CUSTOMER_PACKAGE"
    SUBSCRIBER = "SUBSCRIBER"
    BILLING_REPORT = "BILLING_REPORT"
    SUB_PARTNER = "SUB_PARTNER"


@strawberry.enum(name="CustomerStatus")
class NaiveCustomerStatus(Enum):
    provisioning = "provisioning"
    pending_rpl_review = "pending_rpl_review"
    provisioned = "provisioned"
    provisioned_with_errors = "provisioned_with_errors"
    updating = "updating"
    deleting = "deleting"
    error = "error"


@strawberry.type(name="Customer")
class NaiveCustomer:
    id: strawberry.ID
    name: str
    status: NaiveCustomerStatus


@strawberry.type(name="ProvisioningError")
class NaiveError:
    code: str
    message: str


@strawberry.input(name="EventFilter")
class NaiveEventFilter:
    entity_types: list[NaiveEntityType] | None = None
    customer_ids: list[strawberry.ID] | None = None
    to_statuses: list[str] | None = None
    sub_partner_org_id: strawberry.ID | None = None
    include_sub_partners: bool | None = False


@strawberry.type(name="ProvisioningEvent")
class NaiveEvent:
    cursor: str
    entity_type: NaiveEntityType
    entity_id: strawberry.ID
    customer_id: strawberry.ID | None
    owner_org_id: strawberry.ID
    from_status: str | None
    to_status: str
    version: int
    errors: list[NaiveError]
    reason: str | None
    occurred_at: datetime

    @strawberry.field
    def customer(self) -> NaiveCustomer | None:
        return NAIVE_CUSTOMERS.get(str(self.customer_id)) if self.customer_id else None


NAIVE_CUSTOMERS: dict[str, NaiveCustomer] = {}
NAIVE_QUEUES: list[asyncio.Queue[NaiveEvent]] = []  # one per subscriber, unbounded
NAIVE_SEQ = itertools.count(1)


@strawberry.type(name="Query")
class NaiveQuery:
    @strawberry.field
    def subscribers(self) -> int:
        return len(NAIVE_QUEUES)


@strawberry.type(name="Subscription")
class NaiveSubscription:
    @strawberry.subscription
    async def provisioning_events(self, filter: NaiveEventFilter | None = None,
                                  after: str | None = None) -> AsyncGenerator[NaiveEvent, None]:
        wanted = set(filter.entity_types) if filter is not None and filter.entity_types else None
        queue: asyncio.Queue[NaiveEvent] = asyncio.Queue()
        NAIVE_QUEUES.append(queue)
        try:
            while True:
                event = await queue.get()
                if wanted is None or event.entity_type in wanted:
                    yield event
        finally:
            NAIVE_QUEUES.remove(queue)


async def naive_publish(request: Request) -> JSONResponse:
    """One event for a new customer ({"customerId", "name"}), put into every subscriber's queue."""
    body = await request.json()
    customer = NaiveCustomer(id=strawberry.ID(body["customerId"]), name=body["name"],
                             status=NaiveCustomerStatus.provisioning)
    NAIVE_CUSTOMERS[str(customer.id)] = customer
    seq = next(NAIVE_SEQ)
    event = NaiveEvent(cursor=f"naive:{seq:012d}", entity_type=NaiveEntityType.CUSTOMER, entity_id=customer.id,
                       customer_id=customer.id, owner_org_id=strawberry.ID(DEMO_PARTNER_ID), from_status=None,
                       to_status="provisioning", version=1, errors=[], reason=None, occurred_at=datetime.now(UTC))
    for queue in NAIVE_QUEUES:
        queue.put_nowait(event)
    return JSONResponse({"entityId": str(customer.id), "subscribers": len(NAIVE_QUEUES)})


async def naive_ready(_: Request) -> JSONResponse:
    return JSONResponse({"status": "ready"})


def naive_app() -> Starlette:
    schema = strawberry.Schema(query=NaiveQuery, subscription=NaiveSubscription)
    view: GraphQL[None, None] = GraphQL(schema)
    return Starlette(routes=[
        Route("/graphql", view, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", view),
        Route("/publish", naive_publish, methods=["POST"]),
        Route("/readyz", naive_ready, methods=["GET"]),
    ])


def serve_naive(port: int) -> int:
    # As `gateway serve` runs: uvicorn's defaults, log level info (it too logs every websocket), served from
    # inside asyncio.run, so on the standard library's event loop (uvicorn.run would pick uvloop).
    config = uvicorn.Config(naive_app(), host="127.0.0.1", port=port, log_level="info", lifespan="off")
    server = uvicorn.Server(config)
    asyncio.run(server.serve())
    return 0 if server.started else 1


# --- processes ----------------------------------------------------------------------------------------------------


def raise_open_files_limit() -> tuple[int, int]:
    """Soft RLIMIT_NOFILE up to the hard limit, in this process and so in every child it starts."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)


def _child_limits() -> None:
    """In the child, before exec: the open-files limit as high as it may go (also inherited; this makes sure)."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def start_process(argv: list[str], env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    with log_path.open("ab") as out:  # the child keeps its own descriptor
        return subprocess.Popen(argv, cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=_child_limits)


def proc_status(pid: int, key: str) -> int | None:
    """A `kB` figure of /proc/<pid>/status (VmRSS, VmHWM), in KiB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def cpu_seconds(pid: int) -> float | None:
    """utime + stime of a process (its own threads, not its children)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # fields 14 and 15 of stat(5)


def open_files_limit(pid: int) -> str:
    try:
        for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
            if line.startswith("Max open files"):
                soft, hard = line.split()[3:5]
                return f"{soft}/{hard}"
    except (OSError, ValueError):
        pass
    return "?"


async def wait_ready(client: httpx.AsyncClient, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + START_DEADLINE_S
    while True:
        if process.poll() is not None:
            tail = await asyncio.to_thread(log_tail, log_path)
            raise RuntimeError(f"the server exited at start-up (code {process.returncode}):\n{tail}")
        with contextlib.suppress(httpx.HTTPError):
            if (await client.get("/readyz")).status_code == 200:
                return
        if time.monotonic() > deadline:
            raise RuntimeError(f"the server did not answer /readyz within {START_DEADLINE_S:.0f} s; see {log_path}")
        await asyncio.sleep(0.2)


# --- the clients --------------------------------------------------------------------------------------------------


class Fleet:
    """N websocket clients in this process, one task each; receive times of events by entity id."""

    def __init__(self, url: str, token: str, args: argparse.Namespace) -> None:
        self.url = url
        self.init = json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}})
        self.args = args
        self.tasks: list[asyncio.Task[None]] = []
        self.sockets: list[ClientConnection] = []
        self.subscribed = 0  # connected, acknowledged, subscribe sent
        self.live = 0  # received at least one event
        self.target = 0  # `live` to wait for
        self.all_live = asyncio.Event()
        self.times: defaultdict[str, list[float]] = defaultdict(list)
        self.complete: dict[str, asyncio.Event] = {}
        self.failures: Counter[str] = Counter()  # connections that did not get as far as subscribing
        self.messages: Counter[str] = Counter()  # other messages received (error, complete, ...)
        self.pings = 0
        self.closed_early = 0
        self.stopping = False

    def _done(self, key: str) -> asyncio.Event:
        event = self.complete.get(key)
        if event is None:
            event = self.complete[key] = asyncio.Event()
            if len(self.times[key]) >= self.target:
                event.set()
        return event

    def _record(self, key: str, at: float) -> None:
        arrivals = self.times[key]
        arrivals.append(at)
        if len(arrivals) >= self.target and key in self.complete:
            self.complete[key].set()

    async def _client(self, ready: asyncio.Future[None]) -> None:
        subscribed = False
        try:
            async with connect(self.url, subprotocols=[PROTOCOL], compression="deflate" if self.args.deflate else None,
                               open_timeout=self.args.open_timeout, ping_interval=None, ping_timeout=None,
                               close_timeout=2, proxy=None) as ws:
                self.sockets.append(ws)
                await ws.send(self.init)
                while True:
                    kind = json.loads(await ws.recv()).get("type")
                    if kind == "connection_ack":
                        break
                    if kind == "ping":
                        await ws.send(PONG)
                        continue
                    raise RuntimeError(f"{kind!r} before connection_ack")
                await ws.send(SUBSCRIBE)
                self.subscribed += 1
                ready.set_result(None)
                subscribed = True
                seen = False
                async for raw in ws:
                    at = time.perf_counter()
                    message = json.loads(raw)
                    kind = message.get("type")
                    if kind == "next":
                        event = ((message.get("payload") or {}).get("data") or {}).get("provisioningEvents")
                        if not event:
                            self.messages[f"next without an event: {str(message)[:200]}"] += 1
                            continue
                        self._record(event["entityId"], at)
                        if not seen:
                            seen = True
                            self.live += 1
                            if self.live >= self.target:
                                self.all_live.set()
                    elif kind == "ping":
                        self.pings += 1
                        await ws.send(PONG)
                    else:
                        self.messages[f"{kind}: {str(message.get('payload'))[:200]}"] += 1
        except (OSError, TimeoutError, WebSocketException, RuntimeError, ValueError) as exc:
            if not ready.done():
                ready.set_exception(exc)
                return
            if not self.stopping:
                self.messages[f"client ended: {type(exc).__name__}: {exc}"[:200]] += 1
        finally:
            if subscribed and not self.stopping:
                self.closed_early += 1
            if not ready.done():
                ready.set_exception(RuntimeError("client task ended before subscribing"))

    async def open(self, n: int) -> None:
        """Open n clients, `--batch` at a time; each batch is connected, acknowledged and subscribed before the next."""
        loop = asyncio.get_running_loop()
        for start in range(0, n, self.args.batch):
            futures: list[asyncio.Future[None]] = [loop.create_future()
                                                   for _ in range(min(self.args.batch, n - start))]
            self.tasks += [asyncio.create_task(self._client(f)) for f in futures]
            for outcome in await asyncio.gather(*futures, return_exceptions=True):
                if isinstance(outcome, BaseException):
                    self.failures[f"{type(outcome).__name__}: {outcome}"[:200]] += 1
        self.target = self.subscribed
        if self.live >= self.target:
            self.all_live.set()

    async def wait_for(self, key: str, seconds: float) -> bool:
        """Until every live client has received the event of `key` (True), or `seconds` have passed (False)."""
        try:
            await asyncio.wait_for(self._done(key).wait(), seconds)
            return True
        except TimeoutError:
            return False

    async def close(self) -> None:
        self.stopping = True
        if self.sockets:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.gather(*(ws.close() for ws in self.sockets),
                                                      return_exceptions=True), 30)
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


# --- one server, N clients ----------------------------------------------------------------------------------------


Commit = Callable[[], Awaitable[tuple[str, float, float]]]  # -> (entity id, sent at, response at)


@dataclass
class Side:
    label: str
    n: int
    subscribed: int = 0
    live: int = 0
    open_seconds: float = float("nan")
    warmups: int = 0
    rss_before_kb: int | None = None
    rss_after_kb: int | None = None
    rss_end_kb: int | None = None
    cpu_per_round_ms: float | None = None
    commit_ms: list[float] = field(default_factory=list)  # receive - response arrived
    send_ms: list[float] = field(default_factory=list)  # receive - request sent
    request_ms: list[float] = field(default_factory=list)  # response arrived - request sent
    rounds: list[tuple[float, float, float, float]] = field(default_factory=list)  # per round, ms: request,
    # and commit→recv of the first client, the median one and the last one
    missing: int = 0  # deliveries not seen within --round-timeout
    pings: int = 0
    limits: str = "?"
    notes: list[str] = field(default_factory=list)

    @property
    def spread_ms(self) -> float:
        """Median over rounds of last client - first client: the fan-out itself, without the commit path."""
        return percentile([last - first for _, first, _, last in self.rounds], 0.5)

    @property
    def kb_per_socket(self) -> float:
        if self.rss_before_kb is None or self.rss_after_kb is None or not self.subscribed:
            return float("nan")
        return (self.rss_after_kb - self.rss_before_kb) / self.subscribed


async def drive(side: Side, pid: int, ws_url: str, token: str, commit: Commit, args: argparse.Namespace) -> None:
    """Prime, measure memory, open N clients, warm up until all are live, then the measured rounds."""
    side.limits = open_files_limit(pid)
    # One client first, through a whole delivery: what the first websocket and subscription load once
    # (imports, caches) is then not counted against the N sockets.
    primer = Fleet(ws_url, token, args)
    try:
        await primer.open(1)
        if primer.subscribed != 1:
            raise RuntimeError(f"the first client could not subscribe: {dict(primer.failures)}")
        deadline = time.monotonic() + args.live_timeout
        while not primer.all_live.is_set() and time.monotonic() < deadline:
            await commit()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(primer.all_live.wait(), 5.0)
        if not primer.all_live.is_set():
            raise RuntimeError("the first client never received an event")
    finally:
        await primer.close()
    await asyncio.sleep(SETTLE_S)
    side.rss_before_kb = proc_status(pid, "VmRSS")

    fleet = Fleet(ws_url, token, args)
    try:
        log(f"  {side.label}: opening {side.n} websockets ({args.batch} at a time)")
        started = time.perf_counter()
        await fleet.open(side.n)
        side.open_seconds = time.perf_counter() - started
        side.subscribed = fleet.subscribed
        if fleet.failures:
            side.notes.append(f"{side.n - fleet.subscribed} of {side.n} clients did not subscribe:")
            side.notes += [f"    {count} x {reason}" for reason, count in fleet.failures.most_common(5)]
        if not fleet.subscribed:
            raise RuntimeError("no client subscribed")
        log(f"  {side.label}: {fleet.subscribed} subscribed in {side.open_seconds:.1f} s; warming up")
        # A client is live once it has received an event. One whose subscription was not registered yet when a
        # warm-up change was committed waits for the next one, committed once no client has become live for
        # --warmup-wait seconds.
        deadline = time.monotonic() + args.live_timeout
        while not fleet.all_live.is_set() and time.monotonic() < deadline:
            await commit()
            side.warmups += 1
            while not fleet.all_live.is_set() and time.monotonic() < deadline:
                before = fleet.live
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(fleet.all_live.wait(), args.warmup_wait)
                if fleet.live == before:
                    break
        side.live = fleet.live
        if fleet.live < fleet.subscribed:
            side.notes.append(f"only {fleet.live} of {fleet.subscribed} subscribed clients received a warm-up "
                              f"event within {args.live_timeout:.0f} s; the rounds wait for those")
            fleet.target = fleet.live
        await asyncio.sleep(SETTLE_S)
        side.rss_after_kb = proc_status(pid, "VmRSS")
        log(f"  {side.label}: {fleet.live} live after {side.warmups} warm-up change(s); {args.rounds} rounds")

        cpu_start = cpu_seconds(pid)
        for _ in range(args.rounds):
            key, sent, answered = await commit()
            if not await fleet.wait_for(key, args.round_timeout):
                side.notes.append(f"a round timed out: {len(fleet.times[key])} of {fleet.target} received "
                                  f"within {args.round_timeout:.0f} s")
            arrivals = fleet.times[key]
            side.missing += max(fleet.target - len(arrivals), 0)
            side.request_ms.append((answered - sent) * 1000)
            side.commit_ms += [(at - answered) * 1000 for at in arrivals]
            side.send_ms += [(at - sent) * 1000 for at in arrivals]
            if arrivals:
                side.rounds.append(((answered - sent) * 1000, (min(arrivals) - answered) * 1000,
                                    (percentile(arrivals, 0.5) - answered) * 1000, (max(arrivals) - answered) * 1000))
            await asyncio.sleep(args.pause)
        cpu_end = cpu_seconds(pid)
        if cpu_start is not None and cpu_end is not None:
            side.cpu_per_round_ms = (cpu_end - cpu_start) / args.rounds * 1000
        side.rss_end_kb = proc_status(pid, "VmRSS")
        side.pings = fleet.pings
        side.notes += [f"{count} x {reason}" for reason, count in fleet.messages.most_common(5)]
        if fleet.closed_early:
            side.notes.append(f"{fleet.closed_early} client(s) were closed by the server")
    finally:
        await fleet.close()


async def run_ours(side: Side, args: argparse.Namespace) -> None:
    base = Path(tempfile.mkdtemp(prefix=f"bench-fanout-{side.n}-"))
    data_dir, log_path = base / "data", base / "gateway.log"
    secret = secrets.token_urlsafe(48)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}  # no GATEWAY_MONGODB_URI
    env.update(GATEWAY_DATA_DIR=str(data_dir), GATEWAY_PORT=str(port), GATEWAY_JWT_SECRET=secret,
               GATEWAY_WORKERS="0", PYTHONUNBUFFERED="1")
    if args.keepalive is not None:
        env["GATEWAY_WS_KEEPALIVE_SECONDS"] = str(args.keepalive)
    token = issue_token(secret, subject="bench@fanout.local", org=DEMO_PARTNER_ID, roles=["full_admin"],
                        ttl=timedelta(hours=2))
    process: subprocess.Popen[bytes] | None = None
    try:
        log(f"N={side.n}: ours: starting `gateway serve` on {data_dir}")
        process = start_process([sys.executable, "-m", "gateway", "serve"], env, log_path)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=120.0, trust_env=False,
                                     headers={"Authorization": f"Bearer {token}"}) as http:
            await wait_ready(http, process, log_path)
            templates = [e["node"] for e in (await graphql(http, TEMPLATES))["onboardingTemplates"]["edges"]]
            template = next((t for t in templates if t["country"] == "US"), None)
            if template is None:
                raise RuntimeError(f"no US template visible to the demo partner: {templates}")
            numbers = itertools.count(1)

            async def commit() -> tuple[str, float, float]:
                i = next(numbers)
                variables = {"input": customer_input(template["provisioningId"], f"FANOUT-{side.n}-{i:04d}")}
                sent = time.perf_counter()
                response = await http.post("/graphql", json={"query": PROVISION, "variables": variables})
                answered = time.perf_counter()
                body = response.json()
                payload = (body.get("data") or {}).get("provisionCustomer")
                if response.status_code != 200 or body.get("errors") or not payload or payload["errors"]:
                    raise RuntimeError(f"provisionCustomer refused (HTTP {response.status_code}): {body}")
                return str(payload["customer"]["id"]), sent, answered

            await drive(side, process.pid, f"ws://127.0.0.1:{port}/graphql", token, commit, args)
    finally:
        if process is not None:
            if (note := await asyncio.to_thread(stop_group, process)) is not None:
                side.notes.append(f"gateway {note}")
        side.notes += await asyncio.to_thread(stop_databases, data_dir)
        side.notes += problems_in_log(log_path, "gateway output")
        side.notes += problems_in_log(data_dir / "secantusd.log", "database log")
        if args.keep:
            side.notes.append(f"kept {base}")
        else:
            shutil.rmtree(base, ignore_errors=True)


async def run_naive(side: Side, args: argparse.Namespace) -> None:
    base = Path(tempfile.mkdtemp(prefix=f"bench-fanout-naive-{side.n}-"))
    log_path = base / "naive.log"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    env["PYTHONUNBUFFERED"] = "1"
    process: subprocess.Popen[bytes] | None = None
    try:
        log(f"N={side.n}: naive: starting the broadcast server")
        process = start_process([sys.executable, "-m", "bench.fanout", "--serve-naive", str(port)], env, log_path)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=120.0, trust_env=False) as http:
            await wait_ready(http, process, log_path)
            numbers = itertools.count(1)

            async def commit() -> tuple[str, float, float]:
                i = next(numbers)
                body = {"customerId": str(uuid.uuid4()), "name": f"Springfield Plumbing FANOUT-{side.n}-{i:04d}"}
                sent = time.perf_counter()
                response = await http.post("/publish", json=body)
                answered = time.perf_counter()
                response.raise_for_status()
                return str(response.json()["entityId"]), sent, answered

            await drive(side, process.pid, f"ws://127.0.0.1:{port}/graphql", "naive-accepts-any-token", commit, args)
    finally:
        if process is not None:
            if (note := await asyncio.to_thread(stop_group, process)) is not None:
                side.notes.append(f"naive server {note}")
        side.notes += problems_in_log(log_path, "naive server output")
        if args.keep:
            side.notes.append(f"kept {base}")
        else:
            shutil.rmtree(base, ignore_errors=True)


def customer_input(provisioning_id: str, external_id: str) -> dict[str, Any]:
    """A valid request (as tests/api/provisioning.py builds it): calling and meetings, a calling location in the US."""
    address = {"addressLine1": "1 Main Street", "city": "Springfield", "stateOrProvince": "IL",
               "zipOrPostalCode": "62701", "country": "US"}
    return {
        "provisioningId": provisioning_id,
        "externalId": external_id,
        "packages": ["webex_calling", "webex_meetings"],
        "address": address,
        "customerInfo": {"name": f"Springfield Plumbing {external_id}", "primaryEmail": "it@springfield.example",
                         "language": "en"},
        "provisioningParameters": {
            "callingLocation": {"name": "HQ", "address": address, "timezone": "America/Chicago", "language": "en_US"},
            "meetingsTimezone": "America/Chicago",
        },
    }


# --- report -------------------------------------------------------------------------------------------------------


def fmt(value: float | None, digits: int = 1) -> str:
    return "n/a" if value is None or value != value else f"{value:.{digits}f}"


def ratio(ours: float | None, naive: float | None) -> str:
    if ours is None or naive is None or ours != ours or naive != naive or naive <= 0 or ours < 0:
        return "n/a"
    return f"{ours / naive:.2f}"


def mib(kb: int | None) -> str:
    return "n/a" if kb is None else f"{kb / 1024:.1f}"


def table(columns: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(columns)]
    print("  ".join(c.rjust(w) for c, w in zip(columns, widths, strict=True)))
    for row in rows:
        print("  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)))


def header(args: argparse.Namespace, nofile: tuple[int, int], loop: str) -> None:
    keepalive = f"{args.keepalive:g} s" if args.keepalive is not None else "15 s (its default)"
    print()
    print("Fan-out of one committed change to N websocket subscribers (same document, same token)")
    print(f"machine: {os.cpu_count()} cores (os.cpu_count), Python {platform.python_version()}, "
          f"{platform.system()} {platform.release()}; client loop: {loop}; open files here: {nofile[0]}/{nofile[1]}")
    print("  The N clients run in this process and compete with the server (and ours' database) for those cores:")
    print("  client-side work (reading N frames, json.loads) is inside every latency below.")
    print("ours:  `python -m gateway serve`, GATEWAY_WORKERS=0, embedded SecantusDB (a separate process: not in "
          f"RSS/CPU); server pings every {keepalive}, answered")
    print("both servers: uvicorn defaults, log level info, on the standard asyncio loop (asyncio.run)")
    print("naive: stock strawberry.asgi.GraphQL on uvicorn, one async generator + unbounded asyncio.Queue per "
          "subscriber,")
    print("       each subscriber executes and serialises its own result; `customer` from an in-memory dict "
          "(no database)")
    print(f"clients: raw websockets, graphql-transport-ws, compression {'deflate' if args.deflate else 'off'}, "
          f"{args.batch} connecting at a time; {args.rounds} measured rounds of one change each, pooled")
    print("commit→recv = client receive - the moment the mutation's (publish's) HTTP response arrived here: the change "
          "is committed by then;")
    print("  negative = the event reached the client before the response was read (not clamped). "
          "send→recv = receive - request sent.")
    print("KB/socket = (server VmRSS with all N subscribed and a warm-up delivered - VmRSS before the first of them) "
          "÷ N;")
    print("  one client went through a whole delivery before the 'before' reading. CPU ms/round = server utime+stime "
          "(10 ms ticks).")
    print("req = request sent → response; spread = median over rounds of (last client's receive - first client's): "
          "the fan-out alone.")


def side_row(side: Side) -> list[str]:
    return [side.label, f"{side.live}/{side.n}",
            fmt(percentile(side.commit_ms, 0.5)), fmt(percentile(side.commit_ms, 0.99)),
            fmt(max(side.commit_ms) if side.commit_ms else None),
            fmt(percentile(side.send_ms, 0.5)), fmt(percentile(side.send_ms, 0.99)),
            fmt(max(side.send_ms) if side.send_ms else None),
            fmt(percentile(side.request_ms, 0.5)), fmt(side.spread_ms), str(side.missing),
            mib(side.rss_before_kb), mib(side.rss_after_kb), mib(side.rss_end_kb),
            fmt(side.kb_per_socket), fmt(side.cpu_per_round_ms, 0), fmt(side.open_seconds), str(side.warmups)]


def report(results: list[tuple[Side, Side]], args: argparse.Namespace, nofile: tuple[int, int], loop: str) -> None:
    header(args, nofile, loop)
    columns = ["server", "live", "c→r p50", "c→r p99", "c→r max", "s→r p50", "s→r p99", "s→r max", "req p50",
               "spread", "missing", "RSS0 MiB", "RSS1 MiB", "RSSend MiB", "KB/socket", "CPU ms/round", "open s",
               "warm-ups"]
    for ours, naive in results:
        print()
        print(f"N={ours.n}: latencies in ms over {args.rounds} rounds x live clients; open files limit of the "
              f"servers (soft/hard): ours {ours.limits}, naive {naive.limits}")
        rows = [side_row(ours), side_row(naive)]
        ratios = ["ours ÷ naive", "", ratio(percentile(ours.commit_ms, 0.5), percentile(naive.commit_ms, 0.5)),
                  ratio(percentile(ours.commit_ms, 0.99), percentile(naive.commit_ms, 0.99)), "",
                  ratio(percentile(ours.send_ms, 0.5), percentile(naive.send_ms, 0.5)),
                  ratio(percentile(ours.send_ms, 0.99), percentile(naive.send_ms, 0.99)), "", "",
                  ratio(ours.spread_ms, naive.spread_ms), "", "", "", "",
                  ratio(ours.kb_per_socket, naive.kb_per_socket), ratio(ours.cpu_per_round_ms, naive.cpu_per_round_ms),
                  "", ""]
        table(columns, [*rows, ratios])
        for side in (ours, naive):
            if side.rounds:
                print(f"  {side.label}: rounds, ms (request | commit→recv first/p50/last client): "
                      + ", ".join(f"{fmt(r)} | {fmt(a)}/{fmt(m)}/{fmt(z)}" for r, a, m, z in side.rounds))
                print(f"  {side.label}: server pings answered by the clients: {side.pings}")
            for note in side.notes:
                print(f"  ! {side.label}: {note}" if not note.startswith("    ") else f"  {note}")

    print()
    print("Summary (ms; ratio = ours ÷ naive; n/a where ours is negative, naive ≤ 0, or a figure is missing)")
    rows = []
    for ours, naive in results:
        o50, n50 = percentile(ours.commit_ms, 0.5), percentile(naive.commit_ms, 0.5)
        o99, n99 = percentile(ours.commit_ms, 0.99), percentile(naive.commit_ms, 0.99)
        s50, t50 = percentile(ours.send_ms, 0.5), percentile(naive.send_ms, 0.5)
        s99, t99 = percentile(ours.send_ms, 0.99), percentile(naive.send_ms, 0.99)
        rows.append([str(ours.n), fmt(o50), fmt(n50), ratio(o50, n50), fmt(o99), fmt(n99), ratio(o99, n99),
                     fmt(s50), fmt(t50), ratio(s50, t50), fmt(s99), fmt(t99), ratio(s99, t99),
                     fmt(ours.spread_ms), fmt(naive.spread_ms), ratio(ours.spread_ms, naive.spread_ms),
                     fmt(ours.kb_per_socket), fmt(naive.kb_per_socket), ratio(ours.kb_per_socket, naive.kb_per_socket),
                     fmt(ours.cpu_per_round_ms, 0), fmt(naive.cpu_per_round_ms, 0),
                     ratio(ours.cpu_per_round_ms, naive.cpu_per_round_ms)])
    table(["N", "c→r p50 ours", "naive", "ratio", "c→r p99 ours", "naive", "ratio",
           "s→r p50 ours", "naive", "ratio", "s→r p99 ours", "naive", "ratio", "spread ours", "naive", "ratio",
           "KB/sock ours", "naive", "ratio", "CPU ms/rnd ours", "naive", "ratio"], rows)


# --- command line -------------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.fanout", description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--sizes", type=sizes, default=[100, 1000], help="subscribers per run (default 100,1000)")
    parser.add_argument("--rounds", type=positive_int, default=5, help="measured changes per size (default 5)")
    parser.add_argument("--batch", type=positive_int, default=200, help="clients connecting at once (default 200)")
    parser.add_argument("--pause", type=float, default=0.5, help="seconds between rounds (default 0.5)")
    parser.add_argument("--open-timeout", type=float, default=120.0, help="websocket handshake timeout (default 120)")
    parser.add_argument("--warmup-wait", type=float, default=2.0,
                        help="another warm-up change is committed when no client has become live for this long "
                             "(default 2)")
    parser.add_argument("--live-timeout", type=float, default=300.0,
                        help="give up warming up after this long (default 300)")
    parser.add_argument("--round-timeout", type=float, default=120.0,
                        help="seconds a round waits for every client (default 120)")
    parser.add_argument("--keepalive", type=float, help="GATEWAY_WS_KEEPALIVE_SECONDS for ours (default: its own)")
    parser.add_argument("--deflate", action="store_true", help="let clients negotiate permessage-deflate")
    parser.add_argument("--only", choices=["ours", "naive"], help="measure one server only")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directories (logs, data)")
    parser.add_argument("--serve-naive", type=int, metavar="PORT", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


async def amain(args: argparse.Namespace) -> list[tuple[Side, Side]]:
    results = []
    for n in args.sizes:
        pair = (Side("ours", n), Side("naive", n))
        results.append(pair)
        for side, run in zip(pair, (run_ours, run_naive), strict=True):
            if args.only is not None and side.label != args.only:
                side.notes.append("not measured (--only)")
                continue
            try:
                await run(side, args)
            except (RuntimeError, OSError, httpx.HTTPError, KeyError, TypeError, ValueError) as exc:
                # Reported with the others; the processes are already stopped (the run's finally).
                side.notes.insert(0, f"FAILED: {type(exc).__name__}: {exc}"[:2000])
                log(f"N={n}: {side.label} failed: {exc}")
    return results


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.serve_naive is not None:
        return serve_naive(args.serve_naive)
    nofile = raise_open_files_limit()
    needed = max(args.sizes) + 200
    if nofile[0] < needed:
        log(f"open files limit {nofile[0]} is below the {needed} the largest size needs; expect connect failures")
    try:
        import uvloop
    except ImportError:
        results = asyncio.run(amain(args))
        loop = "asyncio"
    else:
        results = uvloop.run(amain(args))
        loop = "uvloop"
    report(results, args, nofile, loop)
    return 0


if __name__ == "__main__":
    sys.exit(main())
