"""The ASGI application, composed declaratively: routes, middleware, lifespan.

`/healthz` (the process answers), `/readyz` (the database answers and the job worker runs) and `/metrics`
(Prometheus) need no token: they are for the operator's network. Do not expose them publicly; `/metrics`
names operations and shows load.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute

from domain.store.driver import DatabaseUnavailable
from domain.store.jobs import QueueStats
from gateway import assets, dashboard
from gateway.downloads import PATH as DOWNLOAD_PATH
from gateway.downloads import BillingDownloads
from gateway.graphql_view import GatewayGraphQL
from gateway.http_graphql import GraphQLHTTP
from gateway.memory import settle_heap
from gateway.middleware import AuthenticationMiddleware
from gateway.observability import CONTENT_TYPE, Readings
from gateway.runtime import Runtime
from gateway.uploads import RESULT_PATH, UPLOAD_PATH, Uploads

StartupHook = Callable[[Runtime], Awaitable[None]]
# A probe or a scrape must answer within its own timeout, even when the database hangs. The database call itself
# is shielded, never cancelled: cancelling an operation inside PyMongo's async client is the suspect in a lock-up
# seen after outages (a gateway whose database calls never returned).
PROBE_TIMEOUT_S = 2.0

log = logging.getLogger("gateway.metrics")


async def job_stats(runtime: Runtime) -> QueueStats | None:
    """The job queue's state for a scrape; None (its gauges left out) when the database does not answer in time."""
    if runtime.worker is None:
        return None
    try:
        return await asyncio.wait_for(asyncio.shield(runtime.worker.queue.stats()), PROBE_TIMEOUT_S)
    except Exception as exc:  # one reading missing must not fail the whole scrape
        log.warning("job queue stats unavailable for /metrics: %s", exc or type(exc).__name__)
        return None


def create_app(runtime: Runtime, *, on_startup: StartupHook | None = None) -> Starlette:
    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        await runtime.start()
        try:
            await runtime.authenticator.start()  # the identity provider's keys, if any (a failure is only logged)
            if on_startup is not None:
                await on_startup(runtime)
            await runtime.start_workers()
            settle_heap()  # what start-up built stays out of the collector's way (gateway.memory)
            yield
        finally:
            await runtime.stop()

    async def healthz(_: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def readyz(_: Request) -> JSONResponse:
        try:
            if runtime.db is None:
                raise DatabaseUnavailable("not started")
            await asyncio.wait_for(asyncio.shield(runtime.db.ping()), PROBE_TIMEOUT_S)
        except (DatabaseUnavailable, TimeoutError) as exc:
            reason = str(exc) or "the database did not answer in time"
            return JSONResponse({"status": "unavailable", "reason": reason}, status_code=503)
        workers = runtime.settings.workers
        if workers and (runtime.worker is None or not runtime.worker.running):
            return JSONResponse({"status": "unavailable", "reason": "the job worker is not running"}, status_code=503)
        return JSONResponse({"status": "ready", "workers": workers})

    downloads = BillingDownloads(runtime)
    uploads = Uploads(runtime)  # R-BULK: CSV uploads and batch result files
    graphql = GatewayGraphQL(runtime, downloads, uploads.url,
                             graphql_ide="graphiql" if runtime.settings.graphiql else None)

    async def metrics(_: Request) -> Response:
        hub = runtime.hub
        readings = Readings(websockets=len(graphql.sockets), subscriptions=hub.subscribers if hub else 0,
                            jobs=await job_stats(runtime))
        return Response(runtime.telemetry.metrics.render(readings), media_type=CONTENT_TYPE)

    app = Starlette(
        routes=[
            Route("/graphql", GraphQLHTTP(runtime, graphql).handle, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route(DOWNLOAD_PATH, downloads.serve, methods=["GET"]),
            Route(UPLOAD_PATH, uploads.upload, methods=["POST"]),
            Route(RESULT_PATH, uploads.result, methods=["GET"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            Route("/metrics", metrics, methods=["GET"]),
            *dashboard.routes(),  # the live dashboard page (its files: the /assets mount)
            assets.mount(),  # /assets/: gateway/static (GraphiQL's and the dashboard's files)
        ],
        middleware=[*runtime.telemetry.middleware(),
                    *cors_middleware(runtime.settings.cors_origin_list),
                    Middleware(AuthenticationMiddleware, authenticator=runtime.authenticator,
                               graphiql=runtime.settings.graphiql)],
        lifespan=lifespan,
    )
    app.state.graphql = graphql  # for the server's graceful shutdown (close websockets with 1001)
    return app


def cors_middleware(origins: tuple[str, ...]) -> list[Middleware]:
    """CORS for pages on `origins` (none: same origin only). Outside authentication, so that a preflight (which
    carries no token) is answered; credentials (cookies) are allowed only for listed origins, never with `*`."""
    if not origins:
        return []
    return [Middleware(CORSMiddleware, allow_origins=list(origins), allow_credentials="*" not in origins,
                       allow_methods=["GET", "POST"], allow_headers=["authorization", "content-type", "x-request-id"],
                       expose_headers=["x-request-id"], max_age=600)]
