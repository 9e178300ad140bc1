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

With --ramp, step 3 becomes a ramp (bench/support/ramp.py): the same mix at --ramp-start operations per second,
then x --ramp-factor each --step-seconds, until a step has an error or a p99 above --p99-ms (250); it prints each
step's latency, errors and the CPU of the gateway process, its database process and these clients, the highest rate
sustained, and what saturated first.

Errors counted: HTTP answers other than 200, top-level GraphQL errors, mutation payload errors (none is expected by
construction), transport failures; on the websockets, `error` or `complete` messages, `next` with errors, and a
socket closed by the server. Latency = request sent → whole answer read, per operation kind (p50/p99, ms); throughput
= operations answered ÷ the load's duration. Clients and server share this machine's cores.

    cd /work/main && .venv/bin/python -m bench.mixed_load --seconds 120
    cd /work/main && .venv/bin/python -m bench.mixed_load --ramp      # about 5-8 minutes
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import secrets
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository: `python bench/mixed_load.py` works too

from bench.support.cli import log, positive_int
from bench.support.data import bench_customer, graphql, token, us_template, wait_demo_settled
from bench.support.mixed_clients import PROVISION, Feed, Load, World, client, subscriber_socket
from bench.support.processes import TERM_GRACE_S, raise_open_files_limit, scratch, started
from bench.support.ramp import CpuMeter, Ramp, rates, run_ramp
from bench.support.ramp import figures as ramp_figures
from bench.support.ramp import report as ramp_report
from bench.support.stats import Figure, fmt, percentile, table
from gateway.processes import GatewayProcess

COMMAND = "python -m bench.mixed_load"
DEMO_CUSTOMERS = "{ customers(first: 50, filter: {includeSubPartners: true}) { edges { node { id } } } }"
POOL_DEADLINE_S = 180.0
DRAIN_DEADLINE_S = 120.0
QUIET_S = 1.0
START_DEADLINE_S = 300.0  # the gateway must serve by then (it seeds the demo first)


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
    ramp: Ramp | None = None  # with --ramp: its steps (`load` then holds none of the operations)

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
    secret = secrets.token_urlsafe(48)
    env = {"GATEWAY_JWT_SECRET": secret}  # defaults otherwise; no GATEWAY_MONGODB_URI
    if args.no_rate_limit:
        env["GATEWAY_RATE_LIMIT_PER_SECOND"] = "0"

    def bearer(subject: str) -> str:
        return token(secret, f"{subject}@mixed-load.local")

    with scratch("bench-mixed-load-", args.keep, result.notes) as base:
        log(f"mixed load: starting `gateway serve` on {base / 'data'}")
        gateway = GatewayProcess(base / "data", env=env, term_grace_s=TERM_GRACE_S)
        async with started(gateway, result.notes, START_DEADLINE_S, base), \
                httpx.AsyncClient(base_url=gateway.url, timeout=120.0, trust_env=False,
                                  headers={"authorization": f"Bearer {bearer('control')}"}) as control:
            await wait_demo_settled(control, result.notes)
            template = await us_template(control)
            demo_ids = [e["node"]["id"] for e in (await graphql(control, DEMO_CUSTOMERS))["customers"]["edges"]]
            feed = result.feed = Feed(World(provisioning_id=template["provisioningId"], node_ids=demo_ids))
            sockets: list[asyncio.Task[None]] = []
            try:
                await measure(gateway, control, feed, bearer, sockets, result)
            finally:  # before the gateway stops: its closing the sockets is no error
                feed.stopping = True
                for task in sockets:
                    task.cancel()
                await asyncio.gather(*sockets, return_exceptions=True)
    return result


async def measure(gateway: GatewayProcess, control: httpx.AsyncClient, feed: Feed, bearer: Callable[[str], str],
               sockets: list[asyncio.Task[None]], result: MixedLoad) -> None:
    """Steps 1 to 4 of the module's docstring; `sockets` gets the subscription sockets' tasks."""
    args, world = result.args, feed.world
    loop = asyncio.get_running_loop()
    log(f"mixed load: opening {args.sockets} websockets x {args.per_socket} subscriptions")
    for start in range(0, args.sockets, 25):
        futures: list[asyncio.Future[None]] = []
        for i in range(start, min(start + 25, args.sockets)):
            futures.append(loop.create_future())
            sockets.append(asyncio.create_task(subscriber_socket(
                gateway.ws_url, bearer(f"socket{i}"), i, args.per_socket, feed, futures[-1])))
        for outcome in await asyncio.gather(*futures, return_exceptions=True):
            if isinstance(outcome, BaseException):
                feed.errors[f"websocket did not open: {type(outcome).__name__}: {outcome}"[:160]] += 1
    await warm_up(control, world, feed, args, result)
    feed.recording = True
    received_before = feed.received
    started_at = time.monotonic()
    if args.ramp:
        await ramp_up(gateway, feed, bearer, result)
    else:
        log(f"mixed load: {args.rate:g} operations/s from {args.clients} clients for {args.seconds:g} s")
        until = started_at + args.seconds
        await asyncio.gather(*(client(gateway.url, bearer(f"client{c}"), world, result.load, args.rate / args.clients,
                                      c / args.rate, args.seed + c, until) for c in range(args.clients)))
    result.load.seconds = time.monotonic() - started_at
    result.events_during_load = feed.received - received_before
    log("mixed load: waiting for the queued work and its events")
    result.drained_seconds = await drain(world, feed)
    feed.recording = False
    compare(feed, result)


async def ramp_up(gateway: GatewayProcess, feed: Feed, bearer: Callable[[str], str], result: MixedLoad) -> None:
    """Step 3 as a ramp (bench/support/ramp.py), with each step's CPU per process."""
    args, world = result.args, feed.world
    ramp = result.ramp = Ramp(args.p99_ms)

    def pids() -> dict[str, list[int]]:
        return {"gateway": [gateway.pid], "database": gateway.database_pids(), "clients": [os.getpid()]}

    async def step(rate: float, clients: int, load: Load) -> None:
        started_at = time.monotonic()
        seed = args.seed + 1000 * len(ramp.steps)
        await asyncio.gather(*(client(gateway.url, bearer(f"client{c}"), world, load, rate / clients, c / rate,
                                      seed + c, started_at + args.step_seconds) for c in range(clients)))
        load.seconds = time.monotonic() - started_at

    await run_ramp(ramp, rates(args.ramp_start, args.ramp_factor, args.ramp_max), args.clients,
                   lambda: CpuMeter(pids), step, lambda: sum(feed.errors.values()), world.open_work, log)


async def warm_up(control: httpx.AsyncClient, world: World, feed: Feed, args: argparse.Namespace,
                  result: MixedLoad) -> None:
    """A pool of provisioned bench customers, every subscription live, then a quiet moment."""
    log(f"mixed load: {feed.subscriptions} subscriptions on {feed.sockets} sockets; provisioning a pool of "
        f"{args.pool} customers")
    for _ in range(args.pool):
        payload = await graphql(control, PROVISION, {"input": bench_customer(world.provisioning_id, 1,
                                                                              next(world.numbers))})
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
    if result.ramp is not None:
        return report_ramp(result, result.ramp)
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
    table(columns, rows)
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


def report_ramp(result: MixedLoad, ramp: Ramp) -> None:
    args, feed = result.args, result.feed
    print()
    print(f"Mixed load ramp: {args.step_seconds:g} s a step from {args.ramp_start:g} operations/s (x "
          f"{args.ramp_factor:g}), {feed.subscriptions if feed else 0} subscriptions open on "
          f"{feed.sockets if feed else 0} websockets")
    print(f"machine: {os.cpu_count()} cores, Python {platform.python_version()}; the gateway (`gateway serve`, "
          "defaults: 4 job workers, embedded SecantusDB in its own process) and these clients (this process) share "
          "them; rate limit: " + ("off" if args.no_rate_limit else "on at its defaults, one token per client"))
    ramp_report(ramp)
    if feed is not None:
        print(f"events received during the ramp: {result.events_during_load}; missed deliveries: {result.missed}; "
              f"duplicates: {result.duplicates}; drained {result.drained_seconds:.1f} s after it")
        for reason, count in feed.errors.most_common(10):
            print(f"  {count} x {reason}")
    for note in result.notes:
        print(f"  ! {note}" if not note.startswith("    ") else f"  {note}")


def figures(result: MixedLoad, command: str = COMMAND) -> list[Figure]:
    if result.ramp is not None:
        return [*ramp_figures(result.ramp, command),
                Figure("  missed / duplicate deliveries", f"{result.missed} / {result.duplicates}", "0 / 0", command)]
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
    parser.add_argument("--ramp", action="store_true",
                        help="raise the rate step by step until p99 passes --p99-ms or errors appear")
    parser.add_argument("--ramp-start", type=float, default=5.0, help="the first step's rate (default 5/s)")
    parser.add_argument("--ramp-factor", type=float, default=1.5, help="each step's rate over the last (default 1.5)")
    parser.add_argument("--ramp-max", type=float, default=400.0, help="no step above this rate (default 400/s)")
    parser.add_argument("--step-seconds", type=float, default=30.0, help="length of a ramp step (default 30)")
    parser.add_argument("--p99-ms", type=float, default=250.0, help="a step passes at this p99 or below (default 250)")


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
