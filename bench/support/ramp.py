"""The mixed load's ramp (`python -m bench.mixed_load --ramp`): the same operation mix, a rate step after step.

Each step sends --ramp-start, then x --ramp-factor, ... operations per second for --step-seconds, and ends the ramp
once a step has an error or an all-operations p99 above --p99-ms (default 250), or once a step answers less than
90 % of its rate (the clients could not send it: they wait for each answer), or after --ramp-max. Each HTTP client
sends at most RATE_PER_CLIENT operations per second, so a client is never still waiting for its previous answer when
its next one is due unless that answer took longer than 1 / RATE_PER_CLIENT (400 ms): the rate is the one sent.

During every step, the CPU time of each process is read from /proc (utime + stime, in shares of one core): the
gateway process, its database process (embedded SecantusDB), these clients (this process: the HTTP clients, the
subscription sockets and their bookkeeping), and the whole machine (/proc/stat), whose remainder is everything else
running on it (other benchmarks, tests, builds: the machine may be shared).
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench.support.mixed_clients import Load
from bench.support.processes import cpu_seconds
from bench.support.stats import Figure, fmt, percentile, table

RATE_PER_CLIENT = 2.5  # operations per second per HTTP client at most
SHORT_OF_RATE = 0.9  # a step answering less than this share of its rate did not run at that rate
BUSY = 0.9  # a process (or the machine) using this share of its cores or more is saturated
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PROCESSES = ("gateway", "database", "clients")


def machine_busy_seconds() -> float:
    """CPU seconds spent not idle (nor waiting on I/O) on all cores since boot."""
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields[:8]) - idle) / CLOCK_TICKS


@dataclass
class CpuMeter:
    """CPU used between `start` and `stop` by each named process group and by the whole machine."""

    pids: Callable[[], dict[str, list[int]]]
    used: dict[str, float] = field(default_factory=dict)  # name -> cores (1.0 = one core all the time)
    machine: float = 0.0
    _before: dict[str, float] = field(default_factory=dict)
    _machine_before: float = 0.0
    _started: float = 0.0

    def _read(self) -> dict[str, float]:
        return {name: sum(cpu_seconds(p) or 0.0 for p in pids) for name, pids in self.pids().items()}

    def start(self) -> None:
        self._before, self._machine_before, self._started = self._read(), machine_busy_seconds(), time.monotonic()

    def stop(self) -> None:
        seconds = time.monotonic() - self._started
        after = self._read()
        self.used = {name: (after[name] - self._before.get(name, 0.0)) / seconds for name in after}
        self.machine = (machine_busy_seconds() - self._machine_before) / seconds

    @property
    def others(self) -> float:
        return max(self.machine - sum(self.used.values()), 0.0)


@dataclass
class Step:
    rate: float
    clients: int
    load: Load
    cpu: CpuMeter
    feed_errors: int = 0
    open_work: int = 0  # bench customers still provisioning or updating when the step ended

    @property
    def every(self) -> list[float]:
        return [x for v in self.load.latencies_ms.values() for x in v]

    @property
    def errors(self) -> int:
        return sum(self.load.errors.values()) + self.feed_errors

    @property
    def throughput(self) -> float:
        return len(self.every) / self.load.seconds if self.load.seconds else float("nan")

    def passes(self, p99_ms: float) -> bool:
        return self.errors == 0 and percentile(self.every, 0.99) <= p99_ms and \
            self.throughput >= SHORT_OF_RATE * self.rate


@dataclass
class Ramp:
    p99_ms: float
    steps: list[Step] = field(default_factory=list)

    @property
    def sustained(self) -> Step | None:
        """The highest-rate step that passed, if every step below it passed too."""
        best = None
        for step in self.steps:
            if not step.passes(self.p99_ms):
                break
            best = step
        return best

    @property
    def first_failed(self) -> Step | None:
        return next((s for s in self.steps if not s.passes(self.p99_ms)), None)


def rates(start: float, factor: float, most: float) -> list[float]:
    out = [start]
    while out[-1] * factor <= most:
        out.append(round(out[-1] * factor, 1))
    return out


def clients_for(rate: float, least: int) -> int:
    return max(least, math.ceil(rate / RATE_PER_CLIENT))


async def run_ramp(ramp: Ramp, step_rates: list[float], least_clients: int, cpu: Callable[[], CpuMeter],
                   step: Callable[[float, int, Load], Awaitable[None]], feed_errors: Callable[[], int],
                   open_work: Callable[[], int], log: Callable[[str], None]) -> None:
    """Runs `step(rate, clients, load)` for each rate until one fails; each step's figures go into `ramp`."""
    for rate in step_rates:
        clients = clients_for(rate, least_clients)
        meter, load, errors_before = cpu(), Load(), feed_errors()
        log(f"ramp: {rate:g} operations/s from {clients} clients")
        meter.start()
        await step(rate, clients, load)
        meter.stop()
        done = Step(rate, clients, load, meter, feed_errors() - errors_before, open_work())
        ramp.steps.append(done)
        log(f"ramp: {rate:g}/s -> p99 {fmt(percentile(done.every, 0.99))} ms, {done.errors} errors, "
            f"{fmt(done.throughput, 1)} answered/s; CPU " + ", ".join(
                f"{n} {meter.used.get(n, 0.0):.0%}" for n in PROCESSES) + f", machine {meter.machine:.0%}")
        if not done.passes(ramp.p99_ms):
            return


def saturated(step: Step, cores: int) -> str:
    """What ran out first at `step` (the first failing one): a process at a core, or the machine's cores."""
    used = step.cpu.used
    busiest = max(PROCESSES, key=lambda n: used.get(n, 0.0))
    at_a_core = [n for n in PROCESSES if used.get(n, 0.0) >= BUSY]
    if step.cpu.machine >= BUSY * cores:
        shares = ", ".join(f"{n} {used.get(n, 0.0):.0%}" for n in PROCESSES)
        return (f"the machine's {cores} cores ({step.cpu.machine:.0%} busy: {shares}, everything else "
                f"{step.cpu.others:.0%}); the biggest share: {busiest}")
    if at_a_core:
        return " and ".join(f"the {n} process at {used[n]:.0%} of a core (one Python thread)" for n in at_a_core)
    return (f"no CPU: the busiest process ({busiest}) used {used.get(busiest, 0.0):.0%} of a core and the machine "
            f"{step.cpu.machine:.0%} of {cores} cores, so the time went waiting (database locks, the job queue)")


def report(ramp: Ramp) -> None:
    cores = os.cpu_count() or 1
    print()
    print(f"Ramp: each step's rate for its length; pass = 0 errors, p99 <= {ramp.p99_ms:g} ms and >= "
          f"{SHORT_OF_RATE:.0%} of the rate answered. CPU in shares of one core, read from /proc during the step "
          "(gateway, its database, these clients, everything else on the machine).")
    columns = ["rate/s", "clients", "answered/s", "p50 ms", "p99 ms", "errors", "late", "open work",
               "gateway", "database", "clients", "others", "machine", "pass"]
    rows = [[f"{s.rate:g}", str(s.clients), fmt(s.throughput, 1), fmt(percentile(s.every, 0.5)),
             fmt(percentile(s.every, 0.99)), str(s.errors), str(s.load.late), str(s.open_work),
             *(f"{s.cpu.used.get(n, 0.0):.0%}" for n in PROCESSES), f"{s.cpu.others:.0%}", f"{s.cpu.machine:.0%}",
             "yes" if s.passes(ramp.p99_ms) else "NO"] for s in ramp.steps]
    table(columns, rows)
    best, failed = ramp.sustained, ramp.first_failed
    print(f"highest rate sustained (0 errors, p99 <= {ramp.p99_ms:g} ms): "
          + (f"{best.rate:g} operations/s (p99 {fmt(percentile(best.every, 0.99))} ms)" if best else "none"))
    if failed is not None:
        print(f"saturates first (at {failed.rate:g}/s): {saturated(failed, cores)}")
        for reason, count in failed.load.errors.most_common(5):
            print(f"  {count} x {reason}")
    else:
        print(f"no step failed up to {ramp.steps[-1].rate:g}/s: raise --ramp-max" if ramp.steps else "no steps ran")


def figures(ramp: Ramp, command: str) -> list[Figure]:
    best, failed = ramp.sustained, ramp.first_failed
    value = f"{best.rate:g} ops/s (p99 {fmt(percentile(best.every, 0.99))} ms)" if best else "none"
    rows = [Figure(f"mixed load ramp: highest rate with 0 errors, p99 <= {ramp.p99_ms:g} ms", value, "", command)]
    if failed is not None:
        rows.append(Figure("  saturates first", saturated(failed, os.cpu_count() or 1)[:70], "", command))
    return rows
