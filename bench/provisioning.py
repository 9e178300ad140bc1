"""Provisioning throughput of a real gateway process: customers accepted per second and provisioned per second.

For every size N (default 100 and 1000) the script starts from nothing: a fresh temporary data directory,
`python -m gateway seed` on it, then `python -m gateway serve --no-demo` (which starts its embedded
SecantusDB as a child). It sends N `provisionCustomer` mutations over HTTP with a bounded number in flight, as
one partner with one token (the gateway's default per-token rate limit applies: a 429 is sent again after the
`retryAfter` it names, as a well-behaved client does, and counted in the notes), and measures

* accepted/s: N accepted ÷ the wall time from the first send to the last accepted answer
  (plus the p50/p99 latency of one mutation);
* provisioned/s: N ÷ the wall time from the first send until the last of them is `provisioned`
  (end to end: the job queue, restricted-party screening and the simulated Webex steps).

Beside them: the ideal for the engine latency, workers ÷ (3 Webex steps x latency), what the workers could do if a
job were nothing but its Webex steps; and the CPU time the gateway process and its database process used per
customer over the run (from /proc), which says whether the gap to the ideal is the gateway's own work or the database.

The moment the last customer became `provisioned` is read from the customers' `lastStatusChange`
(server clock, same machine); the status poll (every --poll-seconds) only decides when to stop waiting.
Nothing here asserts anything about timing: it prints a table. Every process it starts runs in a session
of its own and is stopped in a `finally` (SIGTERM, then SIGKILL to its process group after a grace period).

    cd /work/main && .venv/bin/python -m bench.provisioning --sizes 100,1000 --concurrency 16
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import secrets
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository: `python bench/provisioning.py` works too

from bench.support.cli import log, positive_int, sizes
from bench.support.data import (
    BENCH_NAME,
    PROVISION,
    bench_customer,
    graphql,
    metric_samples,
    token,
    us_template,
    wait_demo_settled,
)
from bench.support.processes import TERM_GRACE_S, scratch, started
from bench.support.stats import percentile
from gateway.processes import GatewayCommand, GatewayProcess, stop_databases
from gateway.settings import Settings

GATEWAY_DEFAULT_LATENCY_MS = 30
GATEWAY_DEFAULT_WORKERS = 4
START_DEADLINE_S = 90.0  # the gateway (and its database) must answer by then
SEED_DEADLINE_S = 300.0
PROGRESS = f"""
{{
  provisioned: customers(filter: {{nameContains: "{BENCH_NAME}", status: [provisioned]}}, first: 0) {{ totalCount }}
  open: customers(filter: {{nameContains: "{BENCH_NAME}",
                           status: [provisioning, pending_rpl_review, updating, deleting]}}, first: 0) {{ totalCount }}
}}"""
BENCH_CUSTOMERS = f"""
query Page($after: String) {{
  customers(filter: {{nameContains: "{BENCH_NAME}"}}, first: 100, after: $after, orderBy: CREATED_ASC) {{
    edges {{ node {{ id externalId status createdAt lastStatusChange errors {{ code message }} }} }}
    pageInfo {{ hasNextPage endCursor }}
  }}
}}"""


STEPS_PER_CUSTOMER = 3  # the simulated Webex steps of one bench customer: create its org, assign its 2 packages


def ideal_per_s(workers: int, latency_ms: int) -> float:
    """What the workers could do if each job were nothing but its Webex steps: workers ÷ (steps x latency)."""
    return workers / (STEPS_PER_CUSTOMER * latency_ms / 1000) if latency_ms > 0 else float("inf")


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process so far (Linux /proc), None when it cannot be read."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def children(pid: int) -> list[int]:
    """The direct children of a process (Linux), e.g. the gateway's embedded database."""
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except (OSError, ValueError):
        return []


@dataclass
class CpuMeter:
    """CPU seconds the gateway process and its database child used between `start` and `stop`."""

    gateway_pid: int
    database_pids: list[int] = field(default_factory=list)
    gateway_s: float | None = None
    database_s: float | None = None
    _start: tuple[float | None, list[float | None]] = (None, [])

    def start(self) -> None:
        self.database_pids = children(self.gateway_pid)
        self._start = (cpu_seconds(self.gateway_pid), [cpu_seconds(p) for p in self.database_pids])

    def stop(self) -> None:
        gateway0, databases0 = self._start
        gateway1 = cpu_seconds(self.gateway_pid)
        if gateway0 is not None and gateway1 is not None:
            self.gateway_s = gateway1 - gateway0
        used = [(b - a) for a, b in zip(databases0, (cpu_seconds(p) for p in self.database_pids), strict=True)
                if a is not None and b is not None]
        self.database_s = sum(used) if used else None


async def database_commands(client: httpx.AsyncClient) -> Counter[tuple[str, str]]:
    """The gateway's database commands so far, by (command, collection), from its /metrics."""
    sent: Counter[tuple[str, str]] = Counter()
    for s in await metric_samples(client):
        if s.name == "gateway_db_commands_total":
            sent[(s.labels["command"], s.labels["collection"])] += int(s.value)
    return sent


def gateway_env(secret: str, args: argparse.Namespace) -> dict[str, str]:
    """The benchmark's GATEWAY_ settings (gateway.processes adds the data dir and the port; no GATEWAY_MONGODB_URI)."""
    env = {"GATEWAY_JWT_SECRET": secret, "GATEWAY_WORKERS": str(args.workers),
           "GATEWAY_ENGINE_LATENCY_MS": str(args.latency_ms)}
    if args.job_poll_ms is not None:
        env["GATEWAY_JOB_POLL_MS"] = str(args.job_poll_ms)
    return env


async def seed(data_dir: Path, env: dict[str, str], notes: list[str]) -> None:
    """`gateway seed` on `data_dir`; its database must be gone before a gateway starts there."""
    command = GatewayCommand(data_dir, "seed", env=env)
    try:
        code = await command.run(SEED_DEADLINE_S)
    finally:
        notes += await stop_databases(data_dir)
    if code != 0:
        raise RuntimeError(f"`gateway seed` failed (exit {code}):\n{command.output[-3000:]}")


# --- measurement ------------------------------------------------------------------------------------------------


@dataclass
class Run:
    n: int
    accepted: int = 0
    accept_seconds: float = float("nan")
    latencies_ms: list[float] = field(default_factory=list)
    refusals: Counter[str] = field(default_factory=Counter)
    rate_limited: int = 0  # 429 answers, each sent again after its retryAfter
    provisioned: int = 0
    provision_seconds: float | None = None  # first send → last customer provisioned, when all N were
    last_provisioned_seconds: float | None = None  # first send → last one provisioned, whatever the count
    polled_seconds: float | None = None  # first send → the poll that saw nothing open any more
    statuses: Counter[str] = field(default_factory=Counter)
    customer_seconds: list[float] = field(default_factory=list)  # createdAt → lastStatusChange, provisioned ones
    notes: list[str] = field(default_factory=list)
    cpu: CpuMeter | None = None  # first send → the poll that saw nothing open
    commands: Counter[tuple[str, str]] = field(default_factory=Counter)  # same span: the gateway's database commands

    @property
    def accepted_per_s(self) -> float:
        return self.accepted / self.accept_seconds if self.accept_seconds > 0 else float("nan")

    @property
    def provisioned_per_s(self) -> float:
        if self.provision_seconds:
            return self.n / self.provision_seconds
        if self.last_provisioned_seconds:  # not all of them: the rate of those that were
            return self.provisioned / self.last_provisioned_seconds
        return float("nan")


def retry_after(body: Any) -> float:
    """The seconds a 429 answer asks to wait (its RATE_LIMITED error's `retryAfter`; 1 if it names none)."""
    for error in body.get("errors") or []:
        seconds = (error.get("extensions") or {}).get("retryAfter")
        if isinstance(seconds, int | float):
            return float(seconds)
    return 1.0


async def send_all(client: httpx.AsyncClient, provisioning_id: str, run: Run, concurrency: int,
                   t0: float) -> None:
    """N provisionCustomer, at most `concurrency` in flight."""
    indices = iter(range(1, run.n + 1))  # shared by the senders: each index is taken once
    last_accept: float | None = None

    async def sender() -> None:
        nonlocal last_accept
        for i in indices:
            started = time.perf_counter()
            try:
                while True:  # as a well-behaved client: a 429 is sent again once its retryAfter has passed
                    response = await client.post("/graphql", json={
                        "query": PROVISION, "variables": {"input": bench_customer(provisioning_id, run.n, i)}})
                    body = response.json()
                    if response.status_code != 429:
                        break
                    run.rate_limited += 1
                    await asyncio.sleep(retry_after(body))
            except (httpx.HTTPError, ValueError) as exc:
                run.refusals[f"transport: {type(exc).__name__}: {exc}"[:160]] += 1
                continue
            ended = time.perf_counter()
            run.latencies_ms.append((ended - started) * 1000)
            payload = (body.get("data") or {}).get("provisionCustomer")
            if response.status_code != 200 or body.get("errors") or payload is None:
                run.refusals[f"HTTP {response.status_code}: {str(body.get('errors'))[:160]}"] += 1
            elif payload["errors"] or payload["customer"] is None:
                for error in payload["errors"]:
                    run.refusals[f"{error['code']}: {error['message']}"[:160]] += 1
            else:
                run.accepted += 1
                last_accept = ended if last_accept is None else max(last_accept, ended)

    await asyncio.gather(*(sender() for _ in range(concurrency)))
    if last_accept is not None:
        run.accept_seconds = last_accept - t0


async def watch_progress(client: httpx.AsyncClient, run: Run, load_done: asyncio.Event, t0: float,
                         args: argparse.Namespace) -> None:
    """Poll until no benchmark customer is open any more, progress stalls, or the time limit passes."""
    last_change, last_seen = time.perf_counter(), (-1, -1)
    last_report = 0.0
    while True:
        await asyncio.sleep(args.poll_seconds)
        try:
            data = await graphql(client, PROGRESS)
        except (httpx.HTTPError, RuntimeError) as exc:
            run.notes.append(f"a status poll failed: {exc}"[:200])
            continue
        now = time.perf_counter()
        seen = (data["provisioned"]["totalCount"], data["open"]["totalCount"])
        if seen != last_seen:
            last_change, last_seen = now, seen
        if now - last_report >= 10:
            log(f"  N={run.n}: {seen[0]} provisioned, {seen[1]} in progress after {now - t0:.1f} s")
            last_report = now
        if not load_done.is_set():
            continue
        if seen[1] == 0:
            run.polled_seconds = now - t0
            return
        if now - last_change > args.stall_seconds:
            run.notes.append(f"STALLED: {seen[1]} customer(s) still open, no change for {args.stall_seconds:.0f} s")
            return
        if now - t0 > args.timeout:
            run.notes.append(f"TIMEOUT: {seen[1]} customer(s) still open after {args.timeout:.0f} s")
            return


async def collect_outcome(client: httpx.AsyncClient, run: Run, t0_wall: datetime) -> None:
    """Every benchmark customer's final status; the exact moment the last one became provisioned."""
    after: str | None = None
    last_provisioned: datetime | None = None
    odd_examples: list[str] = []
    while True:
        page = (await graphql(client, BENCH_CUSTOMERS, {"after": after}))["customers"]
        for edge in page["edges"]:
            node = edge["node"]
            run.statuses[node["status"]] += 1
            changed = datetime.fromisoformat(node["lastStatusChange"])
            if node["status"] == "provisioned":
                run.customer_seconds.append((changed - datetime.fromisoformat(node["createdAt"])).total_seconds())
                last_provisioned = changed if last_provisioned is None else max(last_provisioned, changed)
            elif len(odd_examples) < 5:
                odd_examples.append(f"    {node['externalId']}: {node['status']} {node['errors']}")
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    run.provisioned = run.statuses["provisioned"]
    if last_provisioned is not None:
        run.last_provisioned_seconds = (last_provisioned - t0_wall).total_seconds()
        if run.provisioned == run.n:
            run.provision_seconds = run.last_provisioned_seconds
    if run.provisioned != run.n:
        run.notes.append(f"only {run.provisioned} of {run.n} provisioned; statuses {dict(run.statuses)}")
        run.notes += odd_examples


async def measure(run: Run, args: argparse.Namespace) -> None:
    n = run.n
    secret = secrets.token_urlsafe(48)
    env = gateway_env(secret, args)
    headers = {"Authorization": f"Bearer {token(secret, 'bench@provisioning.local', hours=1)}"}
    with scratch(f"bench-provisioning-{n}-", args.keep, run.notes) as base:
        data_dir = base / "data"
        log(f"N={n}: seeding {data_dir}")
        await seed(data_dir, env, run.notes)
        gateway = GatewayProcess(data_dir, "--no-demo", env=env, term_grace_s=TERM_GRACE_S)
        limits = httpx.Limits(max_connections=args.concurrency, max_keepalive_connections=args.concurrency)
        async with started(gateway, run.notes, START_DEADLINE_S, base), \
                httpx.AsyncClient(base_url=gateway.url, headers=headers, timeout=120.0, limits=limits) as load, \
                httpx.AsyncClient(base_url=gateway.url, headers=headers, timeout=60.0) as control:
            log(f"N={n}: gateway ready on port {gateway.port} (pid {gateway.pid}); waiting for the demo's queued work")
            await wait_demo_settled(control, run.notes)
            template = await us_template(control)
            log(f"N={n}: sending {n} provisionCustomer (concurrency {args.concurrency}, "
                f"template {template['name']!r})")
            run.notes.append("load average before the first send (1/5/15 min): "
                             + " ".join(f"{x:.2f}" for x in os.getloadavg()))
            load_done = asyncio.Event()
            run.cpu = CpuMeter(gateway.pid)
            run.cpu.start()
            commands_before = await database_commands(control)
            t0_wall, t0 = datetime.now(UTC), time.perf_counter()
            watcher = asyncio.create_task(watch_progress(control, run, load_done, t0, args))
            try:
                await send_all(load, template["provisioningId"], run, args.concurrency, t0)
                load_done.set()
                log(f"N={n}: {run.accepted} accepted in {run.accept_seconds:.2f} s; waiting for provisioning")
                await watcher
            finally:
                watcher.cancel()
                run.cpu.stop()
            run.commands = await database_commands(control) - commands_before
            await collect_outcome(control, run, t0_wall)
            if run.rate_limited:
                run.notes.append(f"{run.rate_limited} answer(s) 429 (the per-token rate limit, defaults "
                                 f"{Settings.model_fields['rate_limit_per_second'].default:g}/s, burst "
                                 f"{Settings.model_fields['rate_limit_burst'].default}): sent again after retryAfter")
            if run.refusals:
                run.notes.append(f"{n - run.accepted} mutation(s) not accepted:")
                run.notes += [f"    {count} x {reason}" for reason, count in run.refusals.most_common(5)]
            if run.polled_seconds is not None and run.provision_seconds is not None \
                    and run.provision_seconds > run.polled_seconds + 0.01:
                run.notes.append(f"clock oddity: last provisioned at {run.provision_seconds:.2f} s by the server's "
                                 f"clock, after the poll at {run.polled_seconds:.2f} s saw none open")


# --- report -----------------------------------------------------------------------------------------------------


def report(runs: list[Run], args: argparse.Namespace) -> None:
    poll = f"{args.job_poll_ms} ms" if args.job_poll_ms is not None else "gateway default"
    print()
    print(f"cores (os.cpu_count): {os.cpu_count()}  Python {platform.python_version()}  "
          f"workers: {args.workers}  engine latency: {args.latency_ms} ms/step  "
          f"client concurrency: {args.concurrency}  job poll: {poll}")
    ideal = ideal_per_s(args.workers, args.latency_ms)
    print(f"ideal for that latency: {ideal:.1f} customers/s = {args.workers} workers ÷ "
          f"({STEPS_PER_CUSTOMER} steps x {args.latency_ms} ms)")
    columns = ["N", "accepted/s", "mut p50 ms", "mut p99 ms", "provisioned/s", "÷ ideal", "all provisioned s",
               "prov/s ÷ acc/s", "gw CPU ms/cust", "db CPU ms/cust"]
    widths = [max(len(c), 6) for c in columns]
    print("  ".join(c.rjust(w) for c, w in zip(columns, widths, strict=True)))
    for run in runs:
        ratio = run.provisioned_per_s / run.accepted_per_s if run.accepted_per_s > 0 else float("nan")
        done = f"{run.provision_seconds:.2f}" if run.provision_seconds is not None else "not all"
        cpu = run.cpu
        gateway_ms = f"{cpu.gateway_s / run.n * 1000:.1f}" if cpu and cpu.gateway_s is not None else "?"
        database_ms = f"{cpu.database_s / run.n * 1000:.1f}" if cpu and cpu.database_s is not None else "?"
        cells = [str(run.n), f"{run.accepted_per_s:.1f}", f"{percentile(run.latencies_ms, 0.5):.1f}",
                 f"{percentile(run.latencies_ms, 0.99):.1f}",
                 f"{run.provisioned_per_s:.1f}" + ("" if run.provision_seconds is not None else "*"),
                 f"{run.provisioned_per_s / ideal:.2f}", done, f"{ratio:.3f}", gateway_ms, database_ms]
        print("  ".join(c.rjust(w) for c, w in zip(cells, widths, strict=True)))
    print()
    for run in runs:
        lines = [f"accepted {run.accepted}/{run.n} in {run.accept_seconds:.2f} s; "
                 f"provisioned {run.provisioned}/{run.n}"]
        if run.customer_seconds:
            lines.append(f"one customer, accepted → provisioned: p50 {percentile(run.customer_seconds, 0.5):.2f} s, "
                         f"p99 {percentile(run.customer_seconds, 0.99):.2f} s")
        if run.polled_seconds is not None:
            lines.append(f"status poll saw nothing open at {run.polled_seconds:.2f} s")
        print(f"N={run.n}: " + "; ".join(lines))
        for note in run.notes:
            print(f"  ! {note}" if not note.startswith("    ") else f"  {note}")
    for run in runs:
        if run.commands:
            total = sum(run.commands.values())
            print(f"N={run.n}: {total / run.n:.1f} database commands per customer (gateway's /metrics, same span), "
                  "the most frequent:")
            for (command, collection), count in run.commands.most_common(args.top_commands):
                print(f"    {count / run.n:6.2f}  {command} {collection}".rstrip())
    print("gw/db CPU: CPU time of the gateway process and of its database process from the first send until "
          "nothing was open,\n  per customer (accepting it over HTTP and provisioning it); the load generator is "
          "not in them")
    if any(r.provision_seconds is None for r in runs):
        print("* not every customer was provisioned: the rate of those that were, up to the last of them")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.provisioning", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=sizes, default=[100, 1000], help="customers per run (default 100,1000)")
    parser.add_argument("--concurrency", type=positive_int, default=16, help="mutations in flight (default 16)")
    parser.add_argument("--latency-ms", type=int, default=GATEWAY_DEFAULT_LATENCY_MS,
                        help=f"GATEWAY_ENGINE_LATENCY_MS (default {GATEWAY_DEFAULT_LATENCY_MS})")
    parser.add_argument("--workers", type=int, default=GATEWAY_DEFAULT_WORKERS,
                        help=f"GATEWAY_WORKERS (default {GATEWAY_DEFAULT_WORKERS})")
    parser.add_argument("--job-poll-ms", type=int, help="GATEWAY_JOB_POLL_MS (default: the gateway's)")
    parser.add_argument("--poll-seconds", type=float, default=2.0,
                        help="status poll interval (default 2; the end is read from the server clock)")
    parser.add_argument("--stall-seconds", type=float, default=120.0,
                        help="give up when nothing changes for this long (default 120)")
    parser.add_argument("--timeout", type=float, default=3600.0, help="give up after this long per size (default 3600)")
    parser.add_argument("--top-commands", type=int, default=12,
                        help="database commands listed per size, most frequent first (default 12)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directories (logs, data)")
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error("--workers must be at least 1: with 0 nothing is ever provisioned")
    return args


async def amain(args: argparse.Namespace) -> list[Run]:
    runs = []
    for n in args.sizes:
        run = Run(n)
        runs.append(run)
        try:
            await measure(run, args)
        except (RuntimeError, OSError, httpx.HTTPError, KeyError, TypeError) as exc:
            # Reported with the others; the processes are already stopped (measure's finally).
            run.notes.insert(0, f"FAILED: {type(exc).__name__}: {exc}")
            log(f"N={n}: failed: {exc}")
    return runs


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    runs = asyncio.run(amain(args))
    report(runs, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
