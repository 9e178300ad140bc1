"""The gateway's own cost per resolved field on the dashboard query, against a bare Strawberry schema; Motor vs PyMongo.

One run, one process, one event loop:

* the embedded SecantusDB (a child process) on a temporary directory, the demo seeded into it and --extra more
  customers provisioned over the API (with subscribers, every job settled), so that `first: 50` is full;
* three servers, each under uvicorn on a loopback port, all in this process: ours with `driver=motor`, ours with
  `driver=pymongo` (both `create_app` on a `Runtime` with GATEWAY_WORKERS=0, so nothing but the request talks to the
  database; the per-token rate limit and every other default left on, the requests spread over --tokens tokens),
  and the stock baseline: a bare Strawberry schema in this file (stock `strawberry.asgi.GraphQL` view, types
  mirroring ours) serving, from memory, the `data` of ours' first answer;
* the same httpx client sends the dashboard query (bench.common.DASHBOARD) to each in turn, --warmup rounds and then
  --rounds measured ones, the order rotating every round so that none always goes first. Each round also sends
  `{ __typename }` to ours (motor) and to the stock server: the fixed cost of a request that resolves nothing.

Per request: e2e = client send → whole response read (time.perf_counter_ns); db = the wall time during which at
least one of the database commands that request caused was in flight (pymongo command monitoring: each command's
`duration_micros`, its round trip to the server as the driver sees it, placed before the moment it was reported;
the union of those intervals). The plain sum of the durations is printed too (db Σ): the DataLoaders send
commands concurrently, so the sum can exceed e2e and would make own time negative. own = e2e - db. The stock
server has no database: own = e2e. Every answer's `data` must equal
the first one's (ours, both drivers, and the stock server's); a difference stops the run.

The resolved-field count is the same for all three (the data is equal): every key of every object in `data` plus
every list item (bench.common.count_fields). Figures are medians (p50) unless marked p99; own µs/field = p50(own) ÷
fields. own-time ratio = ours' own µs/field ÷ the stock server's: the target is ≤ 1.0. The client runs on the same
loop and its work is inside every e2e, for all three alike.

    cd /work/main && .venv/bin/python -m bench.own_cost --rounds 100
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import logging
import os
import platform
import secrets
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from pathlib import Path
from typing import Any

import httpx
import strawberry
from pymongo.monitoring import CommandFailedEvent, CommandListener, CommandStartedEvent, CommandSucceededEvent
from starlette.applications import Starlette
from starlette.routing import Route
from strawberry.asgi import GraphQL

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as `python bench/own_cost.py`
    sys.path.insert(0, str(REPO))

from bench.common import DASHBOARD, Figure, count_fields, fmt, ratio, serving  # noqa: E402
from bench.provisioning import TEMPLATES, customer_request, log, percentile, positive_int  # noqa: E402
from gateway.app import create_app  # noqa: E402
from gateway.auth import issue_token  # noqa: E402
from gateway.demo import DEMO_PARTNER_ID, seed_demo  # noqa: E402
from gateway.embedded import EmbeddedDatabase  # noqa: E402
from gateway.runtime import Runtime  # noqa: E402
from gateway.settings import Settings  # noqa: E402

DATABASE = "bench_own_cost"
TRIVIAL = "{ __typename }"
PROVISION = """mutation($input: ProvisionCustomerInput!) {
  provisionCustomer(input: $input) { customer { id } errors { code message field } }
}"""
PROVISION_SUBSCRIBER = """mutation($input: ProvisionSubscriberInput!) {
  provisionSubscriber(input: $input) { subscriber { id } errors { code message field } }
}"""
COMMAND = "python -m bench.own_cost"


# --- database time ------------------------------------------------------------------------------------------------


class DatabaseTime(CommandListener):
    """The database commands since the last reset, each as the interval the driver waited for the server's reply.

    A request's commands overlap (DataLoaders batch concurrently), so their summed durations can exceed the
    request itself; `busy_us` is the union of the intervals: the wall time during which at least one command was
    in flight. Motor reports from its threads, PyMongo's async client from the event loop: hence the lock.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._intervals: list[tuple[int, int]] = []  # perf_counter_ns at send, at reply

    def reset(self) -> None:
        with self._lock:
            self._intervals = []

    def started(self, event: CommandStartedEvent) -> None:
        pass

    def succeeded(self, event: CommandSucceededEvent) -> None:
        self._add(event.duration_micros)

    def failed(self, event: CommandFailedEvent) -> None:
        self._add(event.duration_micros)

    def _add(self, micros: int) -> None:
        end = time.perf_counter_ns()
        with self._lock:
            self._intervals.append((end - micros * 1000, end))

    def read(self) -> tuple[float, float, int]:
        """(busy µs, summed µs, commands) since the last reset."""
        with self._lock:
            intervals = sorted(self._intervals)
        busy = 0
        reach = None  # the end of the merged run so far
        for start, end in intervals:
            if reach is None or start > reach:
                busy += end - start
                reach = end
            elif end > reach:
                busy += end - reach
                reach = end
        summed = sum(end - start for start, end in intervals)
        return busy / 1000, summed / 1000, len(intervals)


# --- the stock baseline: a bare Strawberry schema answering from memory ---------------------------------------------


@strawberry.enum(name="CustomerStatus")
class StockCustomerStatus(Enum):
    provisioning = "provisioning"
    pending_rpl_review = "pending_rpl_review"
    provisioned = "provisioned"
    provisioned_with_errors = "provisioned_with_errors"
    updating = "updating"
    deleting = "deleting"
    error = "error"


@strawberry.enum(name="OrgKind")
class StockOrgKind(Enum):
    PARTNER = "PARTNER"
    SUB_PARTNER = "SUB_PARTNER"


@strawberry.enum(name="PackageName")
class StockPackageName(Enum):
    common_area_calling = "common_area_calling"
    webex_calling = "webex_calling"
    webex_calling_standard = "webex_calling_standard"
    webex_voice = "webex_voice"
    webex_meetings = "webex_meetings"
    webex_suite = "webex_suite"
    cx_essentials = "cx_essentials"
    attendant_console = "attendant_console"
    cisco_calling_plan = "cisco_calling_plan"


@strawberry.enum(name="PackageStatus")
class StockPackageStatus(Enum):
    provisioning = "provisioning"
    provisioned = "provisioned"
    deleting = "deleting"
    error = "error"


@strawberry.type(name="Partner")
class StockPartner:
    id: strawberry.ID
    name: str
    kind: StockOrgKind


@strawberry.type(name="OnboardingTemplate")
class StockTemplate:
    id: strawberry.ID
    name: str
    country: str


@strawberry.type(name="CustomerPackage")
class StockPackage:
    name: StockPackageName
    status: StockPackageStatus
    limit: int | None
    assigned: int


@strawberry.type(name="SubscriberConnection")
class StockSubscriberConnection:
    total_count: int


@strawberry.type(name="Customer")
class StockCustomer:
    id: strawberry.ID
    external_id: str
    name: str
    status: StockCustomerStatus
    last_status_change: datetime
    owner: StockPartner
    template: StockTemplate
    packages: list[StockPackage]
    subscriber_count: strawberry.Private[int]

    @strawberry.field
    def subscribers(self, first: int | None = 50, after: str | None = None) -> StockSubscriberConnection:
        return StockSubscriberConnection(total_count=self.subscriber_count)


@strawberry.type(name="CustomerEdge")
class StockEdge:
    cursor: str
    node: StockCustomer


@strawberry.type(name="PageInfo")
class StockPageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type(name="CustomerConnection")
class StockConnection:
    total_count: int
    page_info: StockPageInfo
    edges: list[StockEdge]


@strawberry.input(name="CustomerFilter")
class StockCustomerFilter:
    include_sub_partners: bool | None = False


def stock_connection(data: dict[str, Any]) -> StockConnection:
    """The objects behind a dashboard answer's `customers`, so that Strawberry resolves them field by field."""
    customers = data["customers"]
    edges = []
    for edge in customers["edges"]:
        node = edge["node"]
        owner, template = node["owner"], node["template"]
        customer = StockCustomer(
            id=strawberry.ID(node["id"]), external_id=node["externalId"], name=node["name"],
            status=StockCustomerStatus(node["status"]),
            last_status_change=datetime.fromisoformat(node["lastStatusChange"]),
            owner=StockPartner(id=strawberry.ID(owner["id"]), name=owner["name"], kind=StockOrgKind(owner["kind"])),
            template=StockTemplate(id=strawberry.ID(template["id"]), name=template["name"],
                                   country=template["country"]),
            packages=[StockPackage(name=StockPackageName(p["name"]), status=StockPackageStatus(p["status"]),
                                   limit=p["limit"], assigned=p["assigned"]) for p in node["packages"]],
            subscriber_count=node["subscribers"]["totalCount"])
        edges.append(StockEdge(cursor=edge["cursor"], node=customer))
    info = customers["pageInfo"]
    return StockConnection(total_count=customers["totalCount"], edges=edges,
                           page_info=StockPageInfo(has_next_page=info["hasNextPage"], end_cursor=info["endCursor"]))


def stock_app(data: dict[str, Any]) -> Starlette:
    """Stock Strawberry on Starlette: the `customers` of `data`, whatever the arguments."""
    connection = stock_connection(data)

    @strawberry.type(name="Query")
    class StockQuery:
        @strawberry.field
        def customers(self, filter: StockCustomerFilter | None = None, first: int | None = 50,
                      after: str | None = None) -> StockConnection:
            return connection

    view: GraphQL[None, None] = GraphQL(strawberry.Schema(query=StockQuery))
    return Starlette(routes=[Route("/graphql", view, methods=["GET", "POST"])])


# --- the data -------------------------------------------------------------------------------------------------------


async def post(http: httpx.AsyncClient, url: str, token: str, query: str,
               variables: dict[str, Any] | None = None) -> dict[str, Any]:
    response = await http.post(url, json={"query": query, "variables": variables or {}},
                               headers={"authorization": f"Bearer {token}"})
    body: dict[str, Any] = response.json()
    if response.status_code != 200 or body.get("errors"):
        raise RuntimeError(f"HTTP {response.status_code}: {str(body)[:2000]}")
    data: dict[str, Any] = body["data"]
    return data


def settings_for(uri: str, data_dir: Path, secret: str, **overrides: Any) -> Settings:
    return Settings(mongodb_uri=uri, database=DATABASE, data_dir=data_dir, jwt_secret=secret, workers=0,
                    **overrides)


async def prepare(uri: str, data_dir: Path, secret: str, extra: int, subscribers: int) -> None:
    """The demo, plus `extra` customers with `subscribers` subscribers each, provisioned over the API and settled."""
    runtime = Runtime(settings_for(uri, data_dir, secret, engine_latency_ms=0, rate_limit_per_second=0))
    await runtime.start()
    try:
        await seed_demo(runtime.repos)
        token = issue_token(secret, subject="setup@bench.local", org=DEMO_PARTNER_ID, roles=["full_admin"],
                            ttl=timedelta(hours=1))
        transport = httpx.ASGITransport(app=create_app(runtime))
        async with httpx.AsyncClient(transport=transport, base_url="http://bench.local", timeout=120.0) as http:
            templates = [e["node"] for e in (await post(http, "/graphql", token, TEMPLATES))
                         ["onboardingTemplates"]["edges"]]
            template = next(t for t in templates if t["country"] == "US")
            for i in range(1, extra + 1):
                answer = (await post(http, "/graphql", token, PROVISION,
                                     {"input": customer_request(template["provisioningId"], 0, i)}))
                payload = answer["provisionCustomer"]
                if payload["errors"]:
                    raise RuntimeError(f"provisionCustomer refused: {payload['errors']}")
                for j in range(subscribers):
                    user = {"customerId": payload["customer"]["id"], "email": f"user{j}.c{i}@bench-customer.example",
                            "package": "webex_meetings", "firstName": "Bench", "lastName": f"User {i}-{j}"}
                    result = (await post(http, "/graphql", token, PROVISION_SUBSCRIBER,
                                         {"input": user}))["provisionSubscriber"]
                    if result["errors"]:
                        raise RuntimeError(f"provisionSubscriber refused: {result['errors']}")
        assert runtime.worker is not None
        await runtime.worker.run_until_idle()
    finally:
        await runtime.stop()


# --- measurement ------------------------------------------------------------------------------------------------------


@dataclass
class Variant:
    label: str
    url: str
    listener: DatabaseTime | None  # None: no database
    client_class: str = "-"  # the database client actually in use
    e2e_us: list[float] = field(default_factory=list)
    db_us: list[float] = field(default_factory=list)  # wall time with a command in flight
    db_sum_us: list[float] = field(default_factory=list)  # the commands' durations added up
    commands: list[int] = field(default_factory=list)
    trivial_us: list[float] = field(default_factory=list)

    @property
    def own_us(self) -> list[float]:
        return [e - d for e, d in zip(self.e2e_us, self.db_us, strict=True)]

    def p50(self, values: list[float]) -> float:
        return statistics.median(values) if values else float("nan")


@dataclass
class OwnCost:
    rounds: int
    warmup: int
    customers: int = 0
    fields: int = 0
    motor: Variant | None = None
    pymongo: Variant | None = None
    stock: Variant | None = None
    notes: list[str] = field(default_factory=list)

    def own_per_field(self, variant: Variant | None) -> float:
        if variant is None or not self.fields:
            return float("nan")
        return variant.p50(variant.own_us) / self.fields

    def own_ratio(self, variant: Variant | None) -> float:
        return ratio(self.own_per_field(variant), self.own_per_field(self.stock))

    def driver_ratio(self, pick: str) -> float:
        if self.motor is None or self.pymongo is None:
            return float("nan")

        def values(variant: Variant) -> list[float]:
            return {"e2e": variant.e2e_us, "db": variant.db_us, "own": variant.own_us}[pick]

        return ratio(self.pymongo.p50(values(self.pymongo)), self.motor.p50(values(self.motor)))


def client_class(runtime: Runtime) -> str:
    """The class of the driver's client behind the runtime's database (what the driver setting really chose)."""
    db = runtime.db
    client = getattr(db, "_client", None) if db is not None else None
    return "?" if client is None else f"{type(client).__module__}.{type(client).__qualname__}"


@contextlib.asynccontextmanager
async def our_server(uri: str, data_dir: Path, secret: str, driver: str) -> AsyncIterator[tuple[str, Runtime,
                                                                                                 DatabaseTime]]:
    listener = DatabaseTime()
    runtime = Runtime(settings_for(uri, data_dir, secret, driver=driver), listeners=[listener])
    async with serving(create_app(runtime), lifespan="on") as base:
        yield f"{base}/graphql", runtime, listener


@dataclass
class Timing:
    e2e_us: float
    db_us: float
    db_sum_us: float
    commands: int
    data: dict[str, Any]


async def timed(http: httpx.AsyncClient, url: str, token: str, query: str, listener: DatabaseTime | None) -> Timing:
    """One request, timed from before it is sent until its whole answer is read."""
    if listener is not None:
        listener.reset()
    started = time.perf_counter_ns()
    response = await http.post(url, json={"query": query}, headers={"authorization": f"Bearer {token}"})
    e2e = (time.perf_counter_ns() - started) / 1000
    busy, summed, commands = listener.read() if listener is not None else (0.0, 0.0, 0)
    body = response.json()
    if response.status_code != 200 or body.get("errors") or "data" not in body:
        raise RuntimeError(f"{url}: HTTP {response.status_code}: {str(body)[:2000]}")
    return Timing(e2e, busy, summed, commands, body["data"])


async def measure(args: argparse.Namespace) -> OwnCost:
    result = OwnCost(rounds=args.rounds, warmup=args.warmup)
    base = Path(tempfile.mkdtemp(prefix="bench-own-cost-"))
    secret = secrets.token_urlsafe(48)
    # The gateway's INFO logs (what `gateway serve` would print) go to a file: their cost is ours to pay.
    handler = logging.FileHandler(base / "gateway.log")
    root = logging.getLogger()
    previous_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    database = EmbeddedDatabase(base / "data")
    try:
        log("own cost: starting the embedded database")
        uri = await database.start()
        log(f"own cost: seeding the demo and provisioning {args.extra} more customers")
        await prepare(uri, base, secret, args.extra, args.subscribers)
        tokens = [issue_token(secret, subject=f"bench{i}@own-cost.local", org=DEMO_PARTNER_ID, roles=["full_admin"],
                              ttl=timedelta(hours=2)) for i in range(args.tokens)]
        async with (our_server(uri, base, secret, "motor") as (motor_url, motor_rt, motor_db),
                    our_server(uri, base, secret, "pymongo") as (pymongo_url, pymongo_rt, pymongo_db),
                    httpx.AsyncClient(timeout=120.0, trust_env=False) as http):
            result.motor = Variant("ours", motor_url, motor_db, client_class(motor_rt))
            result.pymongo = Variant("ours", pymongo_url, pymongo_db, client_class(pymongo_rt))
            if "pymongo" not in result.pymongo.client_class.split(".")[0]:
                result.notes.append(f"driver=pymongo is NOT in effect: its client is {result.pymongo.client_class}")
            reference = (await timed(http, motor_url, tokens[0], DASHBOARD, motor_db)).data
            result.customers = len(reference["customers"]["edges"])
            result.fields = count_fields(reference)
            if result.customers < 50:
                result.notes.append(f"only {result.customers} customers on the first page (wanted 50)")
            async with serving(stock_app(reference), lifespan="off") as stock_base:
                result.stock = Variant("stock", f"{stock_base}/graphql", None)
                await run_rounds(http, tokens, reference, [result.motor, result.pymongo, result.stock], args)
    finally:
        await database.stop()
        root.removeHandler(handler)
        root.setLevel(previous_level)
        handler.close()
        if args.keep:
            result.notes.append(f"kept {base}")
        else:
            shutil.rmtree(base, ignore_errors=True)
    return result


async def run_rounds(http: httpx.AsyncClient, tokens: list[str], reference: dict[str, Any], variants: list[Variant],
                     args: argparse.Namespace) -> None:
    token = itertools.cycle(tokens)
    motor, stock = variants[0], variants[-1]
    log(f"own cost: {args.warmup} warm-up and {args.rounds} measured rounds")
    for n in range(args.warmup + args.rounds):
        measured = n >= args.warmup
        shift = n % len(variants)
        for variant in variants[shift:] + variants[:shift]:
            timing = await timed(http, variant.url, next(token), DASHBOARD, variant.listener)
            if timing.data != reference:
                raise RuntimeError(f"{variant.label} ({variant.client_class}) answered other data than the first "
                                   "answer: the comparison would be unfair")
            if measured:
                variant.e2e_us.append(timing.e2e_us)
                variant.db_us.append(timing.db_us)
                variant.db_sum_us.append(timing.db_sum_us)
                variant.commands.append(timing.commands)
        for variant in (motor, stock):
            timing = await timed(http, variant.url, next(token), TRIVIAL, variant.listener)
            if measured:
                variant.trivial_us.append(timing.e2e_us)


# --- report ---------------------------------------------------------------------------------------------------------


def report(result: OwnCost) -> None:
    print()
    print(f"Own cost of the dashboard query: {result.customers} customers, {result.fields} resolved fields per answer; "
          f"{result.rounds} measured rounds after {result.warmup} warm-up, interleaved")
    print(f"machine: {os.cpu_count()} cores, Python {platform.python_version()}; client and the three servers share "
          "one asyncio loop;")
    print("  ours: create_app + Runtime, GATEWAY_WORKERS=0, embedded SecantusDB (another process), defaults otherwise;")
    print("  stock: bare Strawberry (strawberry.asgi.GraphQL), same types and answer, from memory; both on uvicorn")
    print("times: µs, p50 unless marked; db = wall time with a database command in flight (pymongo command "
          "monitoring: the union of")
    print("  the commands' round trips; db Σ = their durations added up, > db when they overlap); own = e2e - db; "
          "trivial = `{ __typename }` e2e")
    columns = ["server", "client", "e2e p50", "e2e p99", "db p50", "db Σ p50", "own p50", "own p99", "cmds",
               "own µs/field", "own ratio", "trivial p50"]
    rows = []
    for variant in (result.motor, result.pymongo, result.stock):
        if variant is None:
            continue
        rows.append([variant.label, variant.client_class.rsplit(".", 1)[-1], fmt(variant.p50(variant.e2e_us), 0),
                     fmt(percentile(variant.e2e_us, 0.99), 0), fmt(variant.p50(variant.db_us), 0),
                     fmt(variant.p50(variant.db_sum_us), 0),
                     fmt(variant.p50(variant.own_us), 0), fmt(percentile(variant.own_us, 0.99), 0),
                     fmt(variant.p50([float(c) for c in variant.commands]), 0),
                     fmt(result.own_per_field(variant), 2), fmt(result.own_ratio(variant), 2),
                     fmt(variant.p50(variant.trivial_us), 0) if variant.trivial_us else "-"])
    table(columns, rows)
    print()
    print(f"own-time ratio = ours ÷ stock (own µs per resolved field): motor {fmt(result.own_ratio(result.motor), 2)}, "
          f"pymongo {fmt(result.own_ratio(result.pymongo), 2)}  (target ≤ 1.0)")
    print(f"drivers, pymongo ÷ motor (p50): e2e {fmt(result.driver_ratio('e2e'), 2)}, "
          f"db {fmt(result.driver_ratio('db'), 2)}, own {fmt(result.driver_ratio('own'), 2)}")
    for variant in (result.motor, result.pymongo):
        if variant is not None:
            print(f"  {variant.label} client: {variant.client_class}")
    for variant in (result.motor, result.pymongo):
        if variant is not None and variant.commands and min(variant.commands) != max(variant.commands):
            print(f"  ! {variant.label} ({variant.client_class.rsplit('.', 1)[-1]}): commands per request varied "
                  f"({min(variant.commands)}-{max(variant.commands)}): something else used the database meanwhile")
    for note in result.notes:
        print(f"  ! {note}")


def table(columns: list[str], rows: list[list[str]]) -> None:
    widths = [max([len(c), *(len(r[i]) for r in rows)]) for i, c in enumerate(columns)]
    print("  ".join(c.rjust(w) for c, w in zip(columns, widths, strict=True)))
    for row in rows:
        print("  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)))


def figures(result: OwnCost, command: str = COMMAND) -> list[Figure]:
    """The summary rows: own-time ratio, the figures behind it, and the driver comparison."""
    motor, pymongo, stock = result.motor, result.pymongo, result.stock
    rows = [Figure("own-time ratio (ours motor ÷ stock, per field)", fmt(result.own_ratio(motor), 2), "≤ 1.0", command)]
    if motor is not None and stock is not None:
        rows += [
            Figure("  ours (motor): e2e / db / own p50", f"{fmt(motor.p50(motor.e2e_us) / 1000, 2)} / "
                   f"{fmt(motor.p50(motor.db_us) / 1000, 2)} / {fmt(motor.p50(motor.own_us) / 1000, 2)} ms", "",
                   command),
            Figure("  stock: e2e = own p50", f"{fmt(stock.p50(stock.e2e_us) / 1000, 2)} ms", "", command),
            Figure("  own µs per resolved field: ours / stock",
                   f"{fmt(result.own_per_field(motor), 2)} / {fmt(result.own_per_field(stock), 2)} "
                   f"({result.fields} fields)", "", command),
        ]
    rows.append(Figure("own-time ratio (ours pymongo ÷ stock, per field)", fmt(result.own_ratio(pymongo), 2), "≤ 1.0",
                       command))
    if pymongo is not None:
        rows.append(Figure("  ours (pymongo): e2e / db / own p50",
                           f"{fmt(pymongo.p50(pymongo.e2e_us) / 1000, 2)} / {fmt(pymongo.p50(pymongo.db_us) / 1000, 2)}"
                           f" / {fmt(pymongo.p50(pymongo.own_us) / 1000, 2)} ms", "", command))
    rows += [
        Figure("driver ratio pymongo ÷ motor: e2e p50", fmt(result.driver_ratio("e2e"), 2), "", command),
        Figure("driver ratio pymongo ÷ motor: db p50", fmt(result.driver_ratio("db"), 2), "", command),
    ]
    return rows


# --- command line -------------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=COMMAND, description=(__doc__ or "").split("\n\n")[0])
    add_arguments(parser)
    return parser.parse_args(argv)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rounds", type=positive_int, default=100, help="measured rounds (default 100)")
    parser.add_argument("--warmup", type=int, default=20, help="rounds before measuring (default 20)")
    parser.add_argument("--extra", type=int, default=25,
                        help="customers provisioned on top of the demo's 30 (default 25)")
    parser.add_argument("--subscribers", type=int, default=2, help="subscribers of each extra customer (default 2)")
    parser.add_argument("--tokens", type=positive_int, default=8,
                        help="bearer tokens the requests rotate over, so the per-token rate limit stays on (default 8)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (logs, data)")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    result = asyncio.run(measure(args))
    report(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
