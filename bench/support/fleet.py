"""Fan-out on one server: N websocket clients subscribed to one document, and the measured rounds (bench.fanout).

`drive` primes the server with one client, reads its memory, opens the N clients (`Fleet`, graphql-transport-ws,
one task each, in this process), commits warm-up changes until every client has received one, then --rounds
single changes one at a time, recording each client's receive time. Whatever commits a change (a mutation, a
publish) is the caller's `Commit`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import WebSocketException
from websockets.typing import Subprotocol

from bench.support.cli import log
from bench.support.processes import cpu_seconds, open_files_limit, proc_status
from bench.support.stats import percentile

SUBSCRIPTION = """subscription {
  provisioningEvents(filter: {entityTypes: [CUSTOMER]}) {
    cursor entityType entityId customerId fromStatus toStatus version occurredAt customer { id name status }
  }
}"""
PROTOCOL = Subprotocol("graphql-transport-ws")
PONG = json.dumps({"type": "pong"})
SUBSCRIBE = json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIPTION}})
T = TypeVar("T", int, float)
SETTLE_S = 1.0  # quiet time before a memory reading


async def acknowledged(ws: ClientConnection, token: str) -> None:
    """`connection_init` with the bearer token, then until `connection_ack` (answering pings meanwhile)."""
    await ws.send(json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}))
    while (kind := json.loads(await ws.recv()).get("type")) != "connection_ack":
        if kind != "ping":
            raise RuntimeError(f"{kind!r} before connection_ack")
        await ws.send(PONG)


Tokens = Callable[[], str]  # the bearer token for the next client to connect


class Fleet:
    """N websocket clients in this process, one task each; receive times of events by entity id.

    Each client sends `connection_init` with `tokens()`: ours gives every client a subject of its own (a real fleet is
    many users, each with its own rate-limit bucket), the naive server accepts anything."""

    def __init__(self, urls: list[str], tokens: Tokens, args: argparse.Namespace) -> None:
        self.urls = urls  # clients are spread over these in turn (several gateways sharing one fleet)
        self.opened = 0
        self.tokens = tokens
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
        url = self.urls[self.opened % len(self.urls)]
        self.opened += 1
        try:
            async with connect(url, subprotocols=[PROTOCOL], compression="deflate" if self.args.deflate else None,
                               open_timeout=self.args.open_timeout, ping_interval=None, ping_timeout=None,
                               close_timeout=2, proxy=None) as ws:
                self.sockets.append(ws)
                await acknowledged(ws, self.tokens())
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


Commit = Callable[[], Awaitable[tuple[str, float, float]]]  # -> (entity id, sent at, response at)


@dataclass
class Side:
    """One server's figures at one size, and what went wrong."""

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
    def us_per_delivery(self) -> float:
        """Server CPU per delivered event per subscriber, µs."""
        if self.cpu_per_round_ms is None or not self.live:
            return float("nan")
        return self.cpu_per_round_ms * 1000 / self.live

    @property
    def kb_per_socket(self) -> float:
        if self.rss_before_kb is None or self.rss_after_kb is None or not self.subscribed:
            return float("nan")
        return (self.rss_after_kb - self.rss_before_kb) / self.subscribed


def _total(readings: list[T | None]) -> T | None:
    present = [r for r in readings if r is not None]
    return sum(present[1:], present[0]) if len(present) == len(readings) and present else None


def _snapshot(pids: list[int], args: argparse.Namespace) -> None:
    """With --signal-memory: SIGUSR2 to the servers at each memory reading (a hook of the operator's own, e.g. a
    sitecustomize on PYTHONPATH, may dump a tracemalloc snapshot on it; without one, SIGUSR2 ends the server)."""
    if getattr(args, "signal_memory", False):
        for pid in pids:
            os.kill(pid, signal.SIGUSR2)


async def drive(side: Side, pids: list[int], ws_urls: list[str], tokens: Tokens, commit: Commit,
                args: argparse.Namespace) -> None:
    """Prime, measure memory, open N clients, warm up until all are live, then the measured rounds.

    With several servers (`pids`, `ws_urls`: gateways sharing one database) the clients are spread over them in
    turn, and memory and CPU are their sums."""
    side.limits = " ".join(open_files_limit(pid) for pid in pids)
    # One client first, through a whole delivery: what the first websocket and subscription load once
    # (imports, caches) is then not counted against the N sockets.
    primer = Fleet(ws_urls, tokens, args)
    try:
        await primer.open(len(ws_urls))  # one per server
        if primer.subscribed != len(ws_urls):
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
    side.rss_before_kb = _total([proc_status(pid, "VmRSS") for pid in pids])
    _snapshot(pids, args)

    fleet = Fleet(ws_urls, tokens, args)
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
        side.rss_after_kb = _total([proc_status(pid, "VmRSS") for pid in pids])
        _snapshot(pids, args)
        log(f"  {side.label}: {fleet.live} live after {side.warmups} warm-up change(s); {args.rounds} rounds")

        cpu_start = _total([cpu_seconds(pid) for pid in pids])
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
        cpu_end = _total([cpu_seconds(pid) for pid in pids])
        if cpu_start is not None and cpu_end is not None:
            side.cpu_per_round_ms = (cpu_end - cpu_start) / args.rounds * 1000
        side.rss_end_kb = _total([proc_status(pid, "VmRSS") for pid in pids])
        side.pings = fleet.pings
        side.notes += [f"{count} x {reason}" for reason, count in fleet.messages.most_common(5)]
        if fleet.closed_early:
            side.notes.append(f"{fleet.closed_early} client(s) were closed by the server")
    finally:
        await fleet.close()


