"""A real uvicorn server for the test's gateway app, in this process, and websocket client helpers.

The server shares the test's event loop, so a test can still drive the job queue (`gateway.settle()`)
and the clock itself while real clients talk to the gateway over TCP.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from gql import Client
from gql.transport.websockets import WebsocketsTransport
from starlette.types import ASGIApp

from domain.store.event_hub import EventHub

START_DEADLINE_S = 30.0  # a failure bound, not a timing assertion


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@asynccontextmanager
async def served(app: ASGIApp, **config: object) -> AsyncIterator[tuple[str, uvicorn.Server]]:
    """Serve `app` on a free port; yields the websocket URL of its GraphQL endpoint, and the server."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off",
                                           log_level="warning", **config))  # type: ignore[arg-type]
    task = asyncio.create_task(server.serve())
    loop = asyncio.get_running_loop()
    deadline = loop.time() + START_DEADLINE_S
    while not server.started:  # uvicorn offers no event to wait on
        assert loop.time() < deadline and not task.done(), "uvicorn did not start"
        await asyncio.sleep(0.02)
    try:
        yield f"ws://127.0.0.1:{port}/graphql", server
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 30)


@asynccontextmanager
async def serving(app: ASGIApp, **config: object) -> AsyncIterator[str]:
    """Serve `app` on a free port; yields the websocket URL of its GraphQL endpoint."""
    async with served(app, **config) as (url, _):
        yield url


async def connections_handled(server: uvicorn.Server) -> None:
    """Wait until every connection the server accepted so far is closed and its handler has returned."""
    state = server.server_state
    async with asyncio.timeout(START_DEADLINE_S):  # a failure bound, not a timing assertion
        while state.connections or state.tasks:  # noqa: ASYNC110 - uvicorn offers nothing to wait on
            await asyncio.sleep(0.01)


def ws_client(url: str, token: str, *, legacy: bool = False) -> Client:
    """A `gql` websocket client authenticating in `connection_init` (graphql-transport-ws, or legacy graphql-ws)."""
    protocol = WebsocketsTransport.APOLLO_SUBPROTOCOL if legacy else WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL
    transport = WebsocketsTransport(url=url, subprotocols=[protocol],
                                    init_payload={"authorization": f"Bearer {token}"})
    return Client(transport=transport)


async def subscribers_reach(hub: EventHub | None, n: int) -> None:
    """Wait until exactly `n` subscriptions are registered with the process's event hub."""
    assert hub is not None
    async with asyncio.timeout(START_DEADLINE_S):
        while hub.subscribers != n:  # noqa: ASYNC110 - the hub offers nothing to wait on
            await asyncio.sleep(0.02)
