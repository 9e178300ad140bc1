"""The ASGI application, composed declaratively: routes, middleware, lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute

from domain.driver import DatabaseUnavailable
from gateway.downloads import PATH as DOWNLOAD_PATH
from gateway.downloads import BillingDownloads
from gateway.graphql_view import GatewayGraphQL
from gateway.middleware import AuthenticationMiddleware
from gateway.runtime import Runtime

StartupHook = Callable[[Runtime], Awaitable[None]]


def create_app(runtime: Runtime, *, on_startup: StartupHook | None = None) -> Starlette:
    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        await runtime.start()
        try:
            if on_startup is not None:
                await on_startup(runtime)
            await runtime.start_workers()
            yield
        finally:
            await runtime.stop()

    async def healthz(_: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def readyz(_: Request) -> JSONResponse:
        try:
            if runtime.db is None:
                raise DatabaseUnavailable("not started")
            await runtime.db.ping()
        except DatabaseUnavailable as exc:
            return JSONResponse({"status": "unavailable", "reason": str(exc)}, status_code=503)
        workers = runtime.settings.workers
        if workers and (runtime.worker is None or not runtime.worker.running):
            return JSONResponse({"status": "unavailable", "reason": "the job worker is not running"}, status_code=503)
        return JSONResponse({"status": "ready", "workers": workers})

    downloads = BillingDownloads(runtime)
    graphql = GatewayGraphQL(runtime, downloads, graphql_ide="graphiql")
    app = Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route(DOWNLOAD_PATH, downloads.serve, methods=["GET"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
        ],
        middleware=[Middleware(AuthenticationMiddleware, secret=runtime.jwt_secret)],
        lifespan=lifespan,
    )
    app.state.graphql = graphql  # for the server's graceful shutdown (close websockets with 1001)
    return app
