"""The gateway's own cost per resolved field on the dashboard query, against a bare Strawberry schema; Motor vs PyMongo.

One run, one process, one event loop:

* the embedded SecantusDB (a child process) on a temporary directory, the demo seeded into it and --extra more
  customers provisioned over the API (with subscribers, every job settled), so that `first: 50` is full;
* four servers, each under uvicorn on a loopback port, all in this process: ours with `driver=motor`, ours with
  `driver=pymongo`, ours with `driver=pymongo` and GATEWAY_EXECUTION_PLANS=false (what the execution plans save)
  (all `create_app` on a `Runtime` with GATEWAY_WORKERS=0, so nothing but the request talks to the
  database; the per-token rate limit and every other default left on, the requests spread over --tokens tokens),
  and the stock baseline: a bare Strawberry schema (bench.support.stock: the stock `strawberry.asgi.GraphQL`
  view, types mirroring ours) serving, from memory, the `data` of ours' first answer;
* the same httpx client sends the dashboard query (bench.support.data.DASHBOARD) to each in turn, --warmup rounds
  and then --rounds measured ones, the order rotating every round so that none always goes first. Each round also
  sends `{ __typename }` to ours (motor) and to the stock server: the fixed cost of a request that resolves nothing.

Per request: e2e = client send → whole response read (time.perf_counter_ns); db = the wall time during which at
least one of the database commands that request caused was in flight (pymongo command monitoring: each command's
`duration_micros`, its round trip to the server as the driver sees it, placed before the moment it was reported;
the union of those intervals). The plain sum of the durations is printed too (db Σ): the DataLoaders send
commands concurrently, so the sum can exceed e2e and would make own time negative. own = e2e - db. The stock
server has no database: own = e2e. Every answer's `data` must equal
the first one's (ours, both drivers, and the stock server's); a difference stops the run.

The resolved-field count is the same for all three (the data is equal): every key of every object in `data` plus
every list item (bench.support.data.count_fields). Figures are medians (p50) unless marked p99; own µs/field =
p50(own) ÷ fields. own-time ratio = ours' own µs/field ÷ the stock server's: the target is ≤ 1.0. The client runs
on the same loop and its work is inside every e2e, for all three alike.

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
import statistics
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository: `python bench/own_cost.py` works too

from bench.support.cli import log, positive_int
from bench.support.data import DASHBOARD, bench_customer, count_fields, graphql, token, us_template
from bench.support.processes import scratch, serving
from bench.support.stats import DatabaseTime, Figure, fmt, percentile, ratio, table
from bench.support.stock import stock_app
from gateway.app import create_app
from gateway.demo import seed_demo
from gateway.processes import DatabaseProcess
from gateway.runtime import Runtime
from gateway.settings import Settings

DATABASE = "bench_own_cost"
TRIVIAL = "{ __typename }"
PROVISION = """mutation($input: ProvisionCustomerInput!) {
  provisionCustomer(input: $input) { customer { id } errors { code message field } }
}"""
PROVISION_SUBSCRIBER = """mutation($input: ProvisionSubscriberInput!) {
  provisionSubscriber(input: $input) { subscriber { id } errors { code message field } }
}"""
COMMAND = "python -m bench.own_cost"


# --- the data -------------------------------------------------------------------------------------------------------


def settings_for(uri: str, data_dir: Path, secret: str, **overrides: Any) -> Settings:
    return Settings(mongodb_uri=uri, database=DATABASE, data_dir=data_dir, jwt_secret=secret, workers=0,
                    **overrides)


async def prepare(uri: str, data_dir: Path, secret: str, extra: int, subscribers: int) -> None:
    """The demo, plus `extra` customers with `subscribers` subscribers each, provisioned over the API and settled."""
    runtime = Runtime(settings_for(uri, data_dir, secret, engine_latency_ms=0, rate_limit_per_second=0))
    await runtime.start()
    try:
        await seed_demo(runtime.repos)
        transport = httpx.ASGITransport(app=create_app(runtime))
        headers = {"authorization": f"Bearer {token(secret, 'setup@bench.local', hours=1)}"}
        async with httpx.AsyncClient(transport=transport, base_url="http://bench.local", timeout=120.0,
                                     headers=headers) as http:
            template = await us_template(http)
            for i in range(1, extra + 1):
                answer = await graphql(http, PROVISION, {"input": bench_customer(template["provisioningId"], 0, i)})
                payload = answer["provisionCustomer"]
                if payload["errors"]:
                    raise RuntimeError(f"provisionCustomer refused: {payload['errors']}")
                for j in range(subscribers):
                    user = {"customerId": payload["customer"]["id"], "email": f"user{j}.c{i}@bench-customer.example",
                            "package": "webex_meetings", "firstName": "Bench", "lastName": f"User {i}-{j}"}
                    result = (await graphql(http, PROVISION_SUBSCRIBER, {"input": user}))["provisionSubscriber"]
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
    cpu_us: list[float] = field(default_factory=list)  # this process's CPU during the request (client included)
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
    unplanned: Variant | None = None  # ours on pymongo with GATEWAY_EXECUTION_PLANS=false: what the plans save
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
async def our_server(uri: str, data_dir: Path, secret: str, driver: str, plans: bool = True
                     ) -> AsyncIterator[tuple[str, Runtime, DatabaseTime]]:
    listener = DatabaseTime()
    runtime = Runtime(settings_for(uri, data_dir, secret, driver=driver, execution_plans=plans),
                      listeners=[listener])
    async with serving(create_app(runtime), lifespan="on") as base:
        yield f"{base}/graphql", runtime, listener


@dataclass
class Timing:
    e2e_us: float
    db_us: float
    db_sum_us: float
    cpu_us: float
    commands: int
    data: dict[str, Any]


async def timed(http: httpx.AsyncClient, url: str, token: str, query: str, listener: DatabaseTime | None) -> Timing:
    """One request, timed from before it is sent until its whole answer is read."""
    if listener is not None:
        listener.reset()
    cpu_started = time.process_time_ns()
    started = time.perf_counter_ns()
    response = await http.post(url, json={"query": query}, headers={"authorization": f"Bearer {token}"})
    e2e = (time.perf_counter_ns() - started) / 1000
    cpu = (time.process_time_ns() - cpu_started) / 1000
    busy, summed, commands = listener.read() if listener is not None else (0.0, 0.0, 0)
    body = response.json()
    if response.status_code != 200 or body.get("errors") or "data" not in body:
        raise RuntimeError(f"{url}: HTTP {response.status_code}: {str(body)[:2000]}")
    return Timing(e2e, busy, summed, cpu, commands, body["data"])


@contextlib.contextmanager
def logging_to(path: Path) -> Iterator[None]:
    """INFO logs (what `gateway serve` would print) to a file: their cost is ours to pay."""
    handler = logging.FileHandler(path)
    root = logging.getLogger()
    previous_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(previous_level)
        handler.close()


async def measure(args: argparse.Namespace) -> OwnCost:
    result = OwnCost(rounds=args.rounds, warmup=args.warmup)
    secret = secrets.token_urlsafe(48)
    with scratch("bench-own-cost-", args.keep, result.notes) as base, logging_to(base / "gateway.log"):
        log("own cost: starting the embedded database")
        async with DatabaseProcess(base / "data") as database:
            log(f"own cost: seeding the demo and provisioning {args.extra} more customers")
            await prepare(database.url, base, secret, args.extra, args.subscribers)
            tokens = [token(secret, f"bench{i}@own-cost.local") for i in range(args.tokens)]
            async with (our_server(database.url, base, secret, "motor") as (motor_url, motor_rt, motor_db),
                        our_server(database.url, base, secret, "pymongo") as (pymongo_url, pymongo_rt, pymongo_db),
                        our_server(database.url, base, secret, "pymongo", plans=False) as (bare_url, _, bare_db),
                        httpx.AsyncClient(timeout=120.0, trust_env=False) as http):
                result.motor = Variant("ours", motor_url, motor_db, client_class(motor_rt))
                result.pymongo = Variant("ours", pymongo_url, pymongo_db, client_class(pymongo_rt))
                result.unplanned = Variant("ours, plans off", bare_url, bare_db, client_class(pymongo_rt))
                if "pymongo" not in result.pymongo.client_class.split(".")[0]:
                    result.notes.append(f"driver=pymongo is NOT in effect: its client is {result.pymongo.client_class}")
                reference = (await timed(http, motor_url, tokens[0], DASHBOARD, motor_db)).data
                result.customers = len(reference["customers"]["edges"])
                result.fields = count_fields(reference)
                if result.customers < 50:
                    result.notes.append(f"only {result.customers} customers on the first page (wanted 50)")
                async with serving(stock_app(reference), lifespan="off") as stock_base:
                    result.stock = Variant("stock", f"{stock_base}/graphql", None)
                    await run_rounds(http, tokens, reference,
                                     [result.motor, result.pymongo, result.unplanned, result.stock], args)
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
                variant.cpu_us.append(timing.cpu_us)
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
    print(f"machine: {os.cpu_count()} cores, Python {platform.python_version()}; client and the four servers share "
          "one asyncio loop;")
    print("  ours: create_app + Runtime, GATEWAY_WORKERS=0, embedded SecantusDB (another process), defaults otherwise;")
    print("  stock: bare Strawberry (strawberry.asgi.GraphQL), same types and answer, from memory; both on uvicorn")
    print("times: µs, p50 unless marked; db = wall time with a database command in flight (pymongo command "
          "monitoring: the union of")
    print("  the commands' round trips; db Σ = their durations added up, > db when they overlap); own = e2e - db; "
          "trivial = `{ __typename }` e2e;")
    print("  cpu = this process's CPU time during the request (the client's and Motor's threads included; the "
          "database's not): own time")
    print("  excludes the work done while a command is in flight, cpu does not")
    columns = ["server", "client", "e2e p50", "e2e p99", "db p50", "db Σ p50", "own p50", "own p99", "cpu p50", "cmds",
               "own µs/field", "own ratio", "cpu ratio", "trivial p50"]
    rows = []
    for variant in (result.motor, result.pymongo, result.unplanned, result.stock):
        if variant is None:
            continue
        rows.append([variant.label, variant.client_class.rsplit(".", 1)[-1], fmt(variant.p50(variant.e2e_us), 0),
                     fmt(percentile(variant.e2e_us, 0.99), 0), fmt(variant.p50(variant.db_us), 0),
                     fmt(variant.p50(variant.db_sum_us), 0),
                     fmt(variant.p50(variant.own_us), 0), fmt(percentile(variant.own_us, 0.99), 0),
                     fmt(variant.p50(variant.cpu_us), 0),
                     fmt(variant.p50([float(c) for c in variant.commands]), 0),
                     fmt(result.own_per_field(variant), 2), fmt(result.own_ratio(variant), 2),
                     fmt(ratio(variant.p50(variant.cpu_us), result.stock.p50(result.stock.cpu_us)), 2)
                     if result.stock is not None else "-",
                     fmt(variant.p50(variant.trivial_us), 0) if variant.trivial_us else "-"])
    table(columns, rows)
    print()
    print(f"own-time ratio = ours ÷ stock (own µs per resolved field): motor {fmt(result.own_ratio(result.motor), 2)}, "
          f"pymongo {fmt(result.own_ratio(result.pymongo), 2)}  (target ≤ 1.0)")
    print(f"execution plans (GATEWAY_EXECUTION_PLANS), pymongo: own µs/field with ÷ without = "
          f"{fmt(ratio(result.own_per_field(result.pymongo), result.own_per_field(result.unplanned)), 2)}; "
          f"without plans the own-time ratio would be {fmt(result.own_ratio(result.unplanned), 2)}")
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
    if motor is not None and pymongo is not None and stock is not None:
        stock_cpu = stock.p50(stock.cpu_us)
        rows.append(Figure("CPU per request ÷ stock's (process, client included): motor / pymongo",
                           f"{fmt(ratio(motor.p50(motor.cpu_us), stock_cpu), 2)} / "
                           f"{fmt(ratio(pymongo.p50(pymongo.cpu_us), stock_cpu), 2)}", "", command))
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
