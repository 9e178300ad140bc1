"""Fan-out of one committed change to N websocket subscribers: this gateway against a naive broadcast server.

For every size N (default 1000 and 5000) these servers are measured, one after the other, each from nothing:

* ours: `python -m gateway serve` on a fresh temporary data directory (demo data seeded, its embedded
  SecantusDB started as a child process) with GATEWAY_WORKERS=0, so that a `provisionCustomer` mutation
  commits exactly one CUSTOMER event and nothing else runs. Idle subscribers that asked the same thing of the
  same events ride (domain.store.event_hub): one of them runs the event, the others are sent its frame;
* naive: a tiny Strawberry app (bench.support.stock: the stock `strawberry.asgi.GraphQL` view on uvicorn, run as
  `python -m bench.fanout --serve-naive PORT`). `Subscription.provisioningEvents` is a plain async generator
  per subscriber reading its own unbounded asyncio.Queue; POST /publish puts one event object into every
  queue, and every subscriber executes and serialises its own result (`customer` comes from a dict);
* ours x2 (at the sizes of --two-gateways, default 5000): two `gateway serve` on one SecantusDB of the bench's
  own, the clients alternating between them (R-EVT-3: each gateway follows the change stream itself);
* before (with --baseline TREE): ours, with the gateway of another checkout, for a before/after in one run.

N clients (raw `websockets`, graphql-transport-ws, one task each, in this process: never the servers') send
`connection_init` with a token of their own (a subject each, so each has its own rate-limit bucket, as a fleet
of users would; --one-caller gives them all the mutation caller's) and subscribe to the same document. Warm-up
changes are committed until every client has received one (which proves it is live). Then --rounds single
changes are committed one at a time; for each, every client's receive time is recorded. Figures:

* commit→recv: receive time - the moment the mutation's (or publish's) HTTP response arrived here. The change
  is committed by then; a client may be handed the event before the response is read, so values can be
  negative: nothing is clamped. send→recv: receive time - the moment the request was sent. Pooled over rounds.
* memory per socket: the server process's VmRSS after all N are subscribed (and the warm-up delivered) minus
  before the first of them connected, ÷ N. Only the servers' own pids: ours' database is another process.
* spread: per round, the last client's receive - the first client's (the fan-out alone, without the commit
  path); the median over rounds. Each round is also printed: request time and first/median/last client.
* server CPU per round: utime+stime of the server process(es) (/proc, 10 ms ticks) over the rounds ÷ rounds;
  µs/delivery: that ÷ live subscribers (the commit's own work included).

Clients and servers share the machine's cores, so client-side work shows up in the latencies. Nothing here
asserts anything about timing: it prints tables. Every process it starts runs in a session of its own and is
stopped in a `finally`; temporary directories are removed. --profile DIR runs ours under cProfile.

    cd /work/main && .venv/bin/python -m bench.fanout --sizes 1000,5000 --two-gateways 5000
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import itertools
import os
import platform
import secrets
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository: `python bench/fanout.py` works too

from bench.support.cli import log, positive_int, sizes
from bench.support.data import PROVISION, customer_request, token, us_template
from bench.support.fleet import Side, drive
from bench.support.processes import TERM_GRACE_S, raise_open_files_limit, scratch, started
from bench.support.stats import fmt, mib, percentile, ratio, table
from bench.support.stock import serve_naive
from gateway.processes import DatabaseProcess, GatewayProcess, ServerProcess, child_env, free_port

START_DEADLINE_S = 300.0  # a server must answer by then (ours seeds the demo first)


# --- the two servers ----------------------------------------------------------------------------------------------


async def run_ours(side: Side, args: argparse.Namespace, gateways: int = 1, tree: Path | None = None) -> None:
    """`gateways` = 1: one `gateway serve` with its embedded database. 2 or more: a SecantusDB of the bench's own
    and that many gateways on it (GATEWAY_MONGODB_URI), the clients spread over them in turn (R-EVT-3: each
    gateway follows the events itself); the changes are committed through the first."""
    env = {"GATEWAY_JWT_SECRET": (secret := secrets.token_urlsafe(48)), "GATEWAY_WORKERS": "0"}
    if args.keepalive is not None:
        env["GATEWAY_WS_KEEPALIVE_SECONDS"] = str(args.keepalive)
    env.update(args.gateway_env)
    bearer = token(secret, "bench@fanout.local")
    subjects = itertools.count(1)

    def tokens() -> str:
        """The mutation caller's token with --one-caller, else one subject per client: its own rate-limit bucket."""
        return bearer if args.one_caller else token(secret, f"fleet-{next(subjects)}@fanout.local")

    with scratch(f"bench-fanout-{side.n}-", args.keep, side.notes) as base:
        async with contextlib.AsyncExitStack() as stack:
            if gateways > 1:
                database = await stack.enter_async_context(DatabaseProcess(base / "db"))
                env["GATEWAY_MONGODB_URI"] = database.url
            servers = []
            for i in range(gateways):
                log(f"N={side.n}: {side.label}: starting `gateway serve` {i + 1} of {gateways} on {base / f'data{i}'}")
                gateway = GatewayProcess(base / f"data{i}", env=env, term_grace_s=TERM_GRACE_S)
                if tree is not None:  # that tree's gateway: -P leaves the repository (the cwd) off sys.path
                    gateway.argv[1:1] = ["-P"]
                    gateway.env["PYTHONPATH"] = str(tree)
                if args.profile is not None:  # cProfile writes its file when the gateway exits (SIGTERM: graceful)
                    args.profile.mkdir(parents=True, exist_ok=True)
                    gateway.argv[1:1] = ["-m", "cProfile", "-o",
                                         str(args.profile / f"gateway-{side.n}-{gateways}-{i}.prof")]
                servers.append(await stack.enter_async_context(
                    started(gateway, side.notes, START_DEADLINE_S, base / f"data{i}")))
            http = await stack.enter_async_context(httpx.AsyncClient(
                # A commit right after N subscribes waits behind their set-up reads (several each): up to
                # --live-timeout.
                base_url=servers[0].url, timeout=max(120.0, args.live_timeout), trust_env=False,
                headers={"Authorization": f"Bearer {bearer}"}))
            template = await us_template(http)
            numbers = itertools.count(1)

            async def commit() -> tuple[str, float, float]:
                external_id = f"FANOUT-{side.n}-{next(numbers):04d}"
                variables = {"input": customer_request(template["provisioningId"], external_id,
                                                       f"Springfield Plumbing {external_id}", "it@springfield.example")}
                sent = time.perf_counter()
                response = await http.post("/graphql", json={"query": PROVISION, "variables": variables})
                answered = time.perf_counter()
                body = response.json()
                payload = (body.get("data") or {}).get("provisionCustomer")
                if response.status_code != 200 or body.get("errors") or not payload or payload["errors"]:
                    raise RuntimeError(f"provisionCustomer refused (HTTP {response.status_code}): {body}")
                return str(payload["customer"]["id"]), sent, answered

            await drive(side, [g.pid for g in servers], [g.ws_url for g in servers], tokens, commit, args)


async def run_naive(side: Side, args: argparse.Namespace) -> None:
    port = free_port()
    naive = ServerProcess([sys.executable, "-m", "bench.fanout", "--serve-naive", str(port)], child_env(), port=port,
                          name="naive server", term_grace_s=TERM_GRACE_S)
    with scratch(f"bench-fanout-naive-{side.n}-", args.keep, side.notes) as base:
        log(f"N={side.n}: naive: starting the broadcast server")
        async with started(naive, side.notes, START_DEADLINE_S, base), \
                httpx.AsyncClient(base_url=naive.url, timeout=120.0, trust_env=False) as http:
            numbers = itertools.count(1)

            async def commit() -> tuple[str, float, float]:
                i = next(numbers)
                body = {"customerId": str(uuid.uuid4()), "name": f"Springfield Plumbing FANOUT-{side.n}-{i:04d}"}
                sent = time.perf_counter()
                response = await http.post("/publish", json=body)
                answered = time.perf_counter()
                response.raise_for_status()
                return str(response.json()["entityId"]), sent, answered

            await drive(side, [naive.pid], [f"ws://127.0.0.1:{port}/graphql"], lambda: "naive-accepts-any-token",
                        commit, args)


# --- report -------------------------------------------------------------------------------------------------------


def versus(ours: float | None, naive: float | None) -> str:
    """ours ÷ naive, or "n/a" where ours is negative, naive ≤ 0, or either is missing."""
    return "n/a" if ours is not None and ours < 0 else fmt(ratio(ours, naive), 2)


def header(args: argparse.Namespace, nofile: tuple[int, int], loop: str) -> None:
    keepalive = f"{args.keepalive:g} s" if args.keepalive is not None else "15 s (its default)"
    print()
    print("Fan-out of one committed change to N websocket subscribers (same document, same org and role)")
    print(f"machine: {os.cpu_count()} cores (os.cpu_count), Python {platform.python_version()}, "
          f"{platform.system()} {platform.release()}; client loop: {loop}; open files here: {nofile[0]}/{nofile[1]}")
    print("  The N clients run in this bench process (not the servers'), but compete with the servers (and ours' "
          "database) for those cores:")
    print("  client-side work (reading N frames, json.loads) is inside every latency below.")
    print("ours:  `python -m gateway serve`, GATEWAY_WORKERS=0, embedded SecantusDB (a separate process: not in "
          f"RSS/CPU); server pings every {keepalive}, answered;")
    print("       rate limit: the gateway's defaults (GATEWAY_RATE_LIMIT_PER_SECOND 50, GATEWAY_RATE_LIMIT_BURST 200, "
          "per org and subject); each `subscribe` spends one")
    print("       operation of its caller's bucket, as any operation does. Tokens: "
          + ("every client uses the mutation caller's (--one-caller: one bucket for all)" if args.one_caller else
             "the mutation's caller has its own subject, and every client another (fleet-<i>@fanout.local, the "
             "demo partner's full_admin): one bucket each"))
    if args.baseline is not None:
        print(f"before: the same as ours, with the gateway of {args.baseline}")
    if args.gateway_env:
        print("       settings given: " + ", ".join(f"{k}={v}" for k, v in args.gateway_env))
    print(f"ours x2: two `gateway serve` on one SecantusDB of the bench's own (GATEWAY_MONGODB_URI), the clients "
          f"alternating between them; at N in {args.two_gateways or 'none'}; RSS and CPU are the two gateways' sum")
    print("naive: stock strawberry.asgi.GraphQL on uvicorn (defaults, log level info, asyncio loop), one async "
          "generator + unbounded asyncio.Queue per subscriber,")
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
          "(10 ms ticks);")
    print("  µs/delivery = CPU ms/round ÷ live subscribers (server CPU per delivered event per subscriber).")
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
            fmt(side.kb_per_socket), fmt(side.cpu_per_round_ms, 0), fmt(side.us_per_delivery, 0),
            fmt(side.open_seconds), str(side.warmups)]


def report(results: list[list[Side]], args: argparse.Namespace, nofile: tuple[int, int], loop: str) -> None:
    header(args, nofile, loop)
    columns = ["server", "live", "c→r p50", "c→r p99", "c→r max", "s→r p50", "s→r p99", "s→r max", "req p50",
               "spread", "missing", "RSS0 MiB", "RSS1 MiB", "RSSend MiB", "KB/socket", "CPU ms/round", "µs/delivery",
               "open s", "warm-ups"]
    for sides in results:
        ours, naive = sides[0], sides[1]
        print()
        print(f"N={ours.n}: latencies in ms over {args.rounds} rounds x live clients; open files limit of the "
              "servers (soft/hard): " + ", ".join(f"{side.label} {side.limits}" for side in sides))
        ratios = ["ours ÷ naive", "", versus(percentile(ours.commit_ms, 0.5), percentile(naive.commit_ms, 0.5)),
                  versus(percentile(ours.commit_ms, 0.99), percentile(naive.commit_ms, 0.99)), "",
                  versus(percentile(ours.send_ms, 0.5), percentile(naive.send_ms, 0.5)),
                  versus(percentile(ours.send_ms, 0.99), percentile(naive.send_ms, 0.99)), "", "",
                  versus(ours.spread_ms, naive.spread_ms), "", "", "", "",
                  versus(ours.kb_per_socket, naive.kb_per_socket),
                  versus(ours.cpu_per_round_ms, naive.cpu_per_round_ms),
                  versus(ours.us_per_delivery, naive.us_per_delivery), "", ""]
        table(columns, [*(side_row(side) for side in sides), ratios])
        for side in sides:
            if side.rounds:
                print(f"  {side.label}: rounds, ms (request | commit→recv first/p50/last client): "
                      + ", ".join(f"{fmt(r)} | {fmt(a)}/{fmt(m)}/{fmt(z)}" for r, a, m, z in side.rounds))
                print(f"  {side.label}: server pings answered by the clients: {side.pings}")
            for note in side.notes:
                print(f"  ! {side.label}: {note}" if not note.startswith("    ") else f"  {note}")

    print()
    print("Summary (ratio = ours ÷ naive; n/a where ours is negative, naive ≤ 0, or a figure is missing). "
          "Targets: µs/delivery ≤ 40, c→r p99 ≤ 300 ms at 5,000, KB/socket ≤ 40")
    rows = []
    for sides in results:
        ours, naive = sides[0], sides[1]
        o99, n99 = percentile(ours.commit_ms, 0.99), percentile(naive.commit_ms, 0.99)
        rows.append([str(ours.n), fmt(ours.us_per_delivery, 0), fmt(naive.us_per_delivery, 0),
                     versus(ours.us_per_delivery, naive.us_per_delivery),
                     fmt(o99), fmt(n99), versus(o99, n99),
                     fmt(ours.kb_per_socket), fmt(naive.kb_per_socket), versus(ours.kb_per_socket, naive.kb_per_socket),
                     fmt(ours.spread_ms), fmt(naive.spread_ms), versus(ours.spread_ms, naive.spread_ms)])
        for extra in sides[2:]:
            e99 = percentile(extra.commit_ms, 0.99)
            rows.append([f"{extra.n} ({extra.label})", fmt(extra.us_per_delivery, 0), "", "", fmt(e99), "", "",
                         fmt(extra.kb_per_socket), "", "", fmt(extra.spread_ms), "", ""])
    table(["N", "µs/delivery ours", "naive", "ratio", "c→r p99 ms ours", "naive", "ratio",
           "KB/socket ours", "naive", "ratio", "spread ms ours", "naive", "ratio"], rows)


# --- command line -------------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.fanout", description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--sizes", type=sizes, default=[1000, 5000], help="subscribers per run (default 1000,5000)")
    parser.add_argument("--two-gateways", type=lambda text: [] if text.strip() == "0" else sizes(text),
                        default=[5000], metavar="SIZES",
                        help="of --sizes, those also measured with two gateways sharing the subscribers "
                             "(default 5000; 0 for none)")
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
    parser.add_argument("--only", action="append", choices=["ours", "naive", "ours x2", "before"],
                        help="measure only this server (repeatable)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directories (logs, data)")
    parser.add_argument("--one-caller", action="store_true",
                        help="every client uses the mutation caller's token (one rate-limit bucket for all: the "
                             "subscribes beyond its burst are refused, and so is the mutation)")
    parser.add_argument("--gateway-env", type=lambda text: tuple(text.split("=", 1)), action="append", default=[],
                        metavar="NAME=VALUE", help="a GATEWAY_ setting for ours (repeatable; printed)")
    parser.add_argument("--baseline", type=Path, metavar="TREE",
                        help="also measure the gateway of another checkout (e.g. `git archive HEAD | tar -x -C TREE`), "
                             "as 'before', with this venv")
    parser.add_argument("--signal-memory", action="store_true", help=argparse.SUPPRESS)  # see fleet._snapshot
    parser.add_argument("--profile", type=Path, metavar="DIR",
                        help="run ours' gateway under cProfile, writing DIR/gateway-N.prof")
    parser.add_argument("--serve-naive", type=int, metavar="PORT", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


async def amain(args: argparse.Namespace) -> list[list[Side]]:
    results = []
    for n in args.sizes:
        sides = [Side("ours", n), Side("naive", n)]
        runs: list[Callable[[Side, argparse.Namespace], Awaitable[None]]] = [run_ours, run_naive]
        if args.baseline is not None:
            sides.append(Side("before", n))
            runs.append(functools.partial(run_ours, tree=args.baseline))
        if n in args.two_gateways:
            sides.append(Side("ours x2", n))
            runs.append(functools.partial(run_ours, gateways=2))
        results.append(sides)
        for side, run in zip(sides, runs, strict=True):
            if args.only is not None and side.label not in args.only:
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
