"""Signed webhooks (R-NOT-7…10): deliveries per second to a local receiver, and the delay from commit to delivery.

One gateway runtime in this process on a fresh embedded SecantusDB (a temporary data directory), with
GATEWAY_WEBHOOK_ALLOW_LOOPBACK so endpoints may be http://127.0.0.1, and a tiny HTTP/1.1 receiver on asyncio
streams (answers 204, records when each request arrived). The events are one "ticker" endpoint's state changes
(disabled ↔ active, one event per commit, written through the same service as the API's mutation); the measured
endpoints hear WEBHOOK_ENDPOINT events.

* throughput: --events commits are made with the sender stopped, then `run_until_idle()` delivers them: to 1
  endpoint (one at a time, in commit order, by design) and, side by side, to --endpoints endpoints at once
  (bounded concurrency across endpoints). deliveries/s = delivered ÷ wall time; the ratio is the parallel gain.
* delay: the background sender runs (woken by the event hub's change stream, polling as a fallback); --rounds
  commits are made one after another, each after the previous one was delivered. commit→delivery = arrival at
  the receiver minus the moment the commit returned; beside it commit→live feed, the same event reaching an
  in-process event-hub subscriber (what a websocket subscription is fed from). p50/p99 of both and their difference.

Every request is signed (HMAC-SHA256) and checked against the address rules before it is sent, as in production.
Nothing here asserts anything about timing: it prints tables.

    cd /work/main && .venv/bin/python -m bench.webhooks
    cd /work/main && .venv/bin/python -m bench.webhooks --events 200 --endpoints 4 --rounds 100
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import platform
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository: `python bench/webhooks.py` works too

from bench.support.cli import log, positive_int
from bench.support.stats import fmt, percentile, ratio, table
from domain.model.principal import ROLE_SCOPES, Principal, Role
from domain.model.webhooks import WebhookEndpoint, WebhookEndpointState
from domain.rules.organisations import NewPartner
from domain.rules.tenancy import Caller, Reach
from domain.services import organisations, reads, webhooks
from gateway.runtime import Runtime
from gateway.settings import load_settings

HEARS = reads.EventCriteria(entity_types=["WEBHOOK_ENDPOINT"])
NOTHING = reads.EventCriteria(entity_types=["ORDER"])


class Receiver:
    """An HTTP/1.1 server on loopback answering 204 and recording each body's arrival time."""

    def __init__(self) -> None:
        self.arrivals: list[tuple[float, dict[str, object]]] = []
        self.arrived = asyncio.Event()
        self.port = 0

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Receiver]:
        server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        try:
            yield self
        finally:
            server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while await reader.readline():
                length = 0
                while (line := await reader.readline()) not in (b"\r\n", b""):
                    name, _, value = line.decode().partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value)
                body = await reader.readexactly(length)
                self.arrivals.append((time.perf_counter(), json.loads(body)))
                self.arrived.set()
                writer.write(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n")
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()


def admin_of(org_id: str) -> Principal:
    return Principal("bench@example.com", org_id, frozenset({Role.FULL_ADMIN}), ROLE_SCOPES[Role.FULL_ADMIN])


async def throughput(runtime: Runtime, admin: Caller, ticker: WebhookEndpoint, receiver: Receiver, events: int,
                     endpoints: int) -> tuple[list[tuple[int, int, float]], WebhookEndpoint]:
    """(endpoints, deliveries, seconds) for 1 endpoint and for `endpoints` at once."""
    repos, sender = runtime.repos, runtime.webhooks
    assert sender is not None
    url = f"http://127.0.0.1:{receiver.port}/hooks"
    results = []
    for count in (1, endpoints):
        made = [(await webhooks.create_endpoint(repos, admin, webhooks.EndpointInput(url, None, HEARS,
                                                                                     reads.Ownership())))[0]
                for _ in range(count)]
        for _ in range(events):
            ticker = await _tick(runtime, admin, ticker)
        before = len(receiver.arrivals)
        start = time.perf_counter()
        await sender.run_until_idle()
        results.append((count, len(receiver.arrivals) - before, time.perf_counter() - start))
        for endpoint in made:
            await webhooks.delete_endpoint(repos, admin, endpoint.id)
        await sender.run_until_idle()
        log(f"throughput: {count} endpoint(s) done")
    return results, ticker


async def _tick(runtime: Runtime, admin: Caller, ticker: WebhookEndpoint) -> WebhookEndpoint:
    """One event: the ticker endpoint's state flipped."""
    to = WebhookEndpointState.DISABLED if ticker.state is WebhookEndpointState.ACTIVE else WebhookEndpointState.ACTIVE
    return await webhooks.set_state(runtime.repos, admin, ticker.id, to, None, webhooks.DEFAULT_CURSOR_LIFETIME)


async def delay(runtime: Runtime, admin: Caller, ticker: WebhookEndpoint, receiver: Receiver,
                rounds: int) -> tuple[list[float], list[float]]:
    """commit→delivery and commit→live-feed delays (ms), one event at a time."""
    repos, sender, hub = runtime.repos, runtime.webhooks, runtime.hub
    assert sender is not None and hub is not None
    url = f"http://127.0.0.1:{receiver.port}/hooks"
    hook, _ = await webhooks.create_endpoint(repos, admin, webhooks.EndpointInput(url, None, HEARS, reads.Ownership()))
    live: dict[int, float] = {}
    feed_ready = asyncio.Event()

    async def follow() -> None:
        accepts, replay = reads.event_feed(Reach.owner(ticker.owner_org_id), HEARS)
        feed_ready.set()
        async for delivery in hub.subscribe(accepts, replay, None):
            if delivery.doc["entityId"] == ticker.id:
                live[int(delivery.doc["version"])] = time.perf_counter()

    follower = asyncio.create_task(follow())
    await feed_ready.wait()
    await asyncio.sleep(0.5)  # the change stream open
    await sender.run_until_idle()
    sender.start()
    webhook_ms: list[float] = []
    feed_ms: list[float] = []
    try:
        for _ in range(rounds):
            receiver.arrived.clear()
            count = len(receiver.arrivals)
            moved = ticker = await _tick(runtime, admin, ticker)
            committed = time.perf_counter()
            while not any(p.get("entityId") == ticker.id and p.get("version") == moved.version
                          for _, p in receiver.arrivals[count:]):
                await asyncio.wait_for(receiver.arrived.wait(), 30)
                receiver.arrived.clear()
            arrival = next(t for t, p in receiver.arrivals[count:] if p.get("version") == moved.version)
            webhook_ms.append((arrival - committed) * 1000)
            if moved.version in live:
                feed_ms.append((live[moved.version] - committed) * 1000)
    finally:
        await sender.stop()
        follower.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await follower
    await webhooks.delete_endpoint(repos, admin, hook.id)
    return webhook_ms, feed_ms


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-webhooks-") as data:
        settings = load_settings(data_dir=Path(data), workers=0, webhook_allow_loopback=True, engine_latency_ms=0,
                                 jwt_secret="bench-secret-0123456789-0123456789-abcdef",
                                 webhook_concurrency=max(args.endpoints, 1))
        runtime = Runtime(settings)
        log("starting the embedded database")
        await runtime.start()
        try:
            repos = runtime.repos
            platform_admin = Caller(Principal("ops@example.com", None, frozenset({Role.PLATFORM_ADMIN}),
                                              frozenset()), None)
            partner = await organisations.create_partner(repos, platform_admin, NewPartner("Bench Telecom", "sub-1"))
            admin = Caller(admin_of(partner.id), partner)
            receiver = Receiver()
            async with receiver.running():
                ticker, _ = await webhooks.create_endpoint(repos, admin, webhooks.EndpointInput(
                    f"http://127.0.0.1:{receiver.port}/ticker", None, NOTHING, reads.Ownership()))
                rates, ticker = await throughput(runtime, admin, ticker, receiver, args.events, args.endpoints)
                webhook_ms, feed_ms = await delay(runtime, admin, ticker, receiver, args.rounds)
        finally:
            await runtime.stop()
    print(f"\nwebhooks: {platform.python_version()} on {platform.machine()}, {args.events} events per phase")
    print("\nthroughput (sender driven to idle; every request signed and answered 204)")
    rows = [[str(n), str(d), fmt(s, 2), fmt(ratio(d, s), 0)] for n, d, s in rates]
    table(["endpoints", "deliveries", "seconds", "deliveries/s"], rows)
    (_, d1, s1), (_, dn, sn) = rates
    print(f"parallel gain ({args.endpoints} endpoints vs 1): {fmt(ratio(ratio(dn, sn), ratio(d1, s1)), 2)}x")
    print(f"\ndelay, one event at a time ({args.rounds} rounds; ms)")
    table(["path", "p50", "p99", "max"], [
        ["commit → webhook delivered", fmt(percentile(webhook_ms, 0.5)), fmt(percentile(webhook_ms, 0.99)),
         fmt(max(webhook_ms, default=float("nan")))],
        ["commit → live feed (hub)", fmt(percentile(feed_ms, 0.5)), fmt(percentile(feed_ms, 0.99)),
         fmt(max(feed_ms, default=float("nan")))]])
    print(f"webhook p50 minus live-feed p50: {fmt(percentile(webhook_ms, 0.5) - percentile(feed_ms, 0.5))} ms "
          "(the sender's wake-up, a database read of the event, signing, the HTTP round trip)")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.webhooks", description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--events", type=positive_int, default=300, help="events per throughput phase")
    parser.add_argument("--endpoints", type=positive_int, default=4, help="endpoints of the parallel phase")
    parser.add_argument("--rounds", type=positive_int, default=200, help="events of the delay phase")
    return parser.parse_args(argv)


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
