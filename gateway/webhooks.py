"""The webhook sender (DOMAIN.md §13, R-NOT-8…10): a supervised task that delivers events to endpoints.

Woken by every committed event (the event hub's change stream, so commits of any process count) and polling as a
fallback, it works on the endpoints that have something to do, several at once (bounded), each one event at a
time (`domain.services.webhooks_delivery`). Requests are signed the Standard Webhooks way; success is a 2xx
answer within 10 s, and redirects are not followed (they fail). Tests drive it with `run_until_idle()`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

import httpcore
import httpx

from domain.model.webhooks import ATTEMPT_TIMEOUT_S
from domain.rules.webhooks import AttemptResult, headers
from domain.services.webhooks_delivery import deliver, due_endpoints, purge_deliveries
from domain.store.background import BackgroundTask
from domain.store.event_hub import EventHub
from domain.store.repositories import Repositories
from domain.store.webhooks import AddressGuard, Refused

log = logging.getLogger("gateway.webhooks")
USER_AGENT = "wholesale-gateway-webhooks/1"
PURGE_EVERY_S = 600.0
WAKE_GATHER_S = 0.1  # how long a wake-up waits for more commits before looking for due endpoints


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's connections, made only to addresses the guard allows (R-NOT-7), resolved when connecting: the
    address checked is the one connected to. The name stays the request's, for TLS (SNI, the certificate)."""

    def __init__(self, guard: AddressGuard) -> None:
        self._guard = guard
        self._backend = httpcore.AnyIOBackend()  # what httpcore's pool uses under asyncio

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,  # noqa: ASYNC109 (httpcore's)
                          local_address: str | None = None,
                          socket_options: Iterable[Any] | None = None) -> httpcore.AsyncNetworkStream:
        try:
            addresses = await self._guard.addresses(host, port)
        except Refused as refused:
            raise httpcore.ConnectError(str(refused)) from None
        stream: httpcore.AsyncNetworkStream = await self._backend.connect_tcp(
            addresses[0], port, timeout, local_address, socket_options)
        return stream

    async def connect_unix_socket(self, path: str, timeout: float | None = None,  # noqa: ASYNC109 (httpcore's)
                                  socket_options: Iterable[Any] | None = None) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("webhooks are sent over TCP only")

    async def sleep(self, seconds: float) -> None:
        await self._backend.sleep(seconds)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport over a connection pool whose connections go through `GuardedBackend` (httpx takes no
    network backend of its own: the pool is made again with one, and the same settings)."""

    def __init__(self, guard: AddressGuard, limits: httpx.Limits) -> None:
        tls = httpx.create_ssl_context(trust_env=False)  # loaded once: the pool made first shares it
        super().__init__(verify=tls, limits=limits, trust_env=False)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=tls, max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections, keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedBackend(guard))


class WebhookSender:
    def __init__(self, repos: Repositories, hub: EventHub | None, *, concurrency: int = 8,
                 poll_interval: float = 1.0, client: httpx.AsyncClient | None = None) -> None:
        self.repos = repos
        self.hub = hub
        self.concurrency = max(concurrency, 1)
        self.poll_interval = poll_interval
        self.name = f"{repos.process}:webhooks:{uuid.uuid4().hex[:8]}"
        self._client = client
        self._own_client = client is None
        self._limit = asyncio.Semaphore(self.concurrency)
        self._wake = asyncio.Event()
        self._task = BackgroundTask(self._supervise, "webhook-sender")
        self._watcher = BackgroundTask(self._watch, "webhook-sender-wake")
        self._purged_at = 0.0

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                timeout=httpx.Timeout(ATTEMPT_TIMEOUT_S), follow_redirects=False, trust_env=False,
                transport=GuardedTransport(self.repos.webhook_guard,
                                           httpx.Limits(max_connections=self.concurrency * 2)),
                headers={"user-agent": USER_AGENT})
        return self._client

    async def send(self, url: str, delivery_id: str, keys: Sequence[str], body: str) -> AttemptResult:
        """One POST, signed with every key (R-NOT-8); the answer's body is not read."""
        signed = headers(keys, delivery_id, int(time.time()), body)
        start = time.perf_counter()
        try:
            async with asyncio.timeout(ATTEMPT_TIMEOUT_S):
                async with self.client.stream("POST", url, content=body.encode(), headers=signed) as response:
                    status = response.status_code
        except TimeoutError:
            return AttemptResult(None, _ms(start), f"no answer within {ATTEMPT_TIMEOUT_S:g} s")
        except httpx.HTTPError as exc:
            return AttemptResult(None, _ms(start), f"{type(exc).__name__}: {exc}".rstrip(": "))
        error = None
        if 300 <= status < 400:
            error = f"HTTP {status}: redirects are not followed"
        elif not 200 <= status < 300:
            error = f"HTTP {status}"
        return AttemptResult(status, _ms(start), error)

    async def _turn(self, endpoint_id: str) -> int:
        async with self._limit:
            return await deliver(self.repos, endpoint_id, self.name, self.send)

    async def run_once(self) -> int:
        """One pass over the endpoints with something to do; returns how many deliveries finished."""
        ids = await due_endpoints(self.repos, limit=self.concurrency * 4)
        if not ids:
            return 0
        return sum(await asyncio.gather(*(self._turn(i) for i in ids)))

    async def run_until_idle(self) -> None:
        """Deliver until every endpoint is caught up or waiting for a later attempt (tests move the clock)."""
        while await self.run_once():
            pass

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._task.start()
        if self.hub is not None:
            self._watcher.start()

    async def stop(self) -> None:
        await self._watcher.stop()
        await self._task.stop()
        if self._own_client and self._client is not None:
            await self._client.aclose()
            self._client = None

    async def _supervise(self) -> None:
        """Runs the sender, and again after a failure (the database away, a bug), with a growing pause."""
        pause = 0.5
        while True:
            try:
                await self._run()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("webhook sender failed; restarting it in %.1f s", pause)
                await asyncio.sleep(pause)
                pause = min(pause * 2, 30.0)

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            finished = await self.run_once()
            if time.monotonic() - self._purged_at > PURGE_EVERY_S:
                self._purged_at = time.monotonic()
                await purge_deliveries(self.repos)
            if finished:
                continue
            woken = False
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.poll_interval):
                    woken = await self._wake.wait()
            if woken:
                # Woken by a commit: the commits that follow it closely join the same pass (one query for due
                # endpoints per burst, not per commit). Outside the timeout block, whose end it must not race.
                await asyncio.sleep(WAKE_GATHER_S)

    async def _watch(self) -> None:
        """Wake the sender at every committed event (any process's); polling covers any gap."""
        assert self.hub is not None
        while True:
            try:
                async for _ in self.hub.subscribe(lambda _doc: True, {"_id": {"$in": []}}, None):
                    self._wake.set()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # slow or away: the poll still runs; listen again
                log.debug("webhook sender wake-ups interrupted (%s); listening again", exc)
                await asyncio.sleep(self.poll_interval)


def _ms(start: float) -> int:
    return int((time.perf_counter() - start) * 1000)
