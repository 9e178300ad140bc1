"""Websocket policies of both subscription protocols, spoken frame by frame with a raw websocket client.

graphql-transport-ws is the primary protocol and legacy graphql-ws (subscriptions-transport-ws) is served
for older clients; both authenticate in `connection_init`, time it out, ping idle sockets, close the socket
when its token expires and cap the operations running on one socket. Deadlines are failure bounds only.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from gql import GraphQLRequest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.api.live import serving, subscribers_reach, ws_client
from tests.api.provisioning import customer_input, partner_token, provision, provisioning_id
from tests.conftest import Demo, Gateway

pytestmark = pytest.mark.read_only  # one gateway and demo per set of settings (tests/conftest.py)

TRANSPORT = "graphql-transport-ws"
LEGACY = "graphql-ws"
DEADLINE_S = 30.0
EVENTS = "subscription { provisioningEvents(filter: {entityTypes: [CUSTOMER]}) { entityId toStatus } }"


@pytest.fixture
async def url(gateway: Gateway) -> AsyncIterator[str]:
    async with serving(gateway.app) as ws_url:
        yield ws_url


async def receive(ws: ClientConnection) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), DEADLINE_S))
    return message


async def closed_with(ws: ClientConnection) -> int:
    """Read until the server closes the socket; returns the close code."""
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            await asyncio.wait_for(ws.recv(), DEADLINE_S)
    assert closed.value.rcvd is not None, "the server did not send a close frame"
    return closed.value.rcvd.code


async def initialised(ws: ClientConnection, token: str) -> None:
    await ws.send(json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}))
    assert (await receive(ws))["type"] == "connection_ack"


def start(protocol: str, op_id: str, query: str) -> str:
    kind = "subscribe" if protocol == TRANSPORT else "start"
    return json.dumps({"id": op_id, "type": kind, "payload": {"query": query}})


@pytest.mark.own_gateway  # it provisions
async def test_the_legacy_graphql_ws_protocol_delivers_events_to_the_gql_client(
        gateway: Gateway, demo: Demo, url: str) -> None:
    token = partner_token(gateway, demo)
    received: list[dict[str, Any]] = []
    arrived = asyncio.Event()

    async def follow() -> None:
        async with ws_client(url, token, legacy=True) as session:
            async for result in session.subscribe(GraphQLRequest(EVENTS)):
                received.append(result["provisioningEvents"])
                arrived.set()

    watcher = asyncio.create_task(follow())
    try:
        await subscribers_reach(gateway.runtime.hub, 1)
        customer = await provision(gateway, token, customer_input(await provisioning_id(gateway, demo.partner)))
        async with asyncio.timeout(DEADLINE_S):
            while {"entityId": customer["id"], "toStatus": "provisioning"} not in received:
                arrived.clear()
                await arrived.wait()
    finally:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher


@pytest.mark.parametrize("protocol", [TRANSPORT, LEGACY])
async def test_a_bad_token_in_connection_init_closes_the_socket_with_4403(url: str, protocol: str) -> None:
    async with connect(url, subprotocols=[protocol]) as ws:  # type: ignore[list-item]
        await ws.send(json.dumps({"type": "connection_init", "payload": {"authorization": "Bearer forged"}}))
        assert await closed_with(ws) == 4403


@pytest.mark.settings(ws_init_timeout_seconds=0.5)
@pytest.mark.parametrize("protocol", [TRANSPORT, LEGACY])
async def test_a_socket_that_never_sends_connection_init_is_closed_with_4408(url: str, protocol: str) -> None:
    async with connect(url, subprotocols=[protocol]) as ws:  # type: ignore[list-item]
        assert await closed_with(ws) == 4408


def test_the_connection_init_timeout_cannot_be_set_beyond_ten_seconds() -> None:
    from gateway.settings import SettingsError, load_settings

    assert load_settings(ws_init_timeout_seconds=10).ws_init_timeout_seconds == 10
    with pytest.raises(SettingsError, match="GATEWAY_WS_INIT_TIMEOUT_SECONDS"):
        load_settings(ws_init_timeout_seconds=11)


@pytest.mark.settings(ws_keepalive_seconds=0.2)
@pytest.mark.parametrize(("protocol", "ping"), [(TRANSPORT, "ping"), (LEGACY, "ka")])
async def test_the_server_pings_an_idle_socket(gateway: Gateway, demo: Demo, url: str, protocol: str,
                                                ping: str) -> None:
    async with connect(url, subprotocols=[protocol]) as ws:  # type: ignore[list-item]
        await initialised(ws, partner_token(gateway, demo))
        assert [(await receive(ws))["type"] for _ in range(3)] == [ping] * 3


@pytest.mark.parametrize("protocol", [TRANSPORT, LEGACY])
async def test_a_token_that_expires_on_an_open_socket_closes_it_with_4403(
        gateway: Gateway, demo: Demo, url: str, protocol: str) -> None:
    token = gateway.token(demo.partner, "full_admin", ttl=timedelta(seconds=2))
    async with connect(url, subprotocols=[protocol]) as ws:  # type: ignore[list-item]
        await initialised(ws, token)
        await ws.send(start(protocol, "1", EVENTS))
        assert await closed_with(ws) == 4403


@pytest.mark.own_gateway  # it provisions
@pytest.mark.settings(ws_max_subscriptions=2)
@pytest.mark.parametrize("protocol", [TRANSPORT, LEGACY])
async def test_subscriptions_beyond_the_cap_are_refused_and_the_others_go_on(
        gateway: Gateway, demo: Demo, url: str, protocol: str) -> None:
    token = partner_token(gateway, demo)
    async with connect(url, subprotocols=[protocol]) as ws:  # type: ignore[list-item]
        await initialised(ws, token)
        for op_id in ("1", "2", "3"):
            await ws.send(start(protocol, op_id, EVENTS))
        refusal = await receive(ws)
        assert (refusal["id"], refusal["type"]) == ("3", "error")
        errors = refusal["payload"] if isinstance(refusal["payload"], list) else [refusal["payload"]]
        assert errors[0]["extensions"]["code"] == "TOO_MANY_SUBSCRIPTIONS"
        await subscribers_reach(gateway.runtime.hub, 2)
        customer = await provision(gateway, token, customer_input(await provisioning_id(gateway, demo.partner)))
        got: dict[str, dict[str, Any]] = {}
        while len(got) < 2:
            message = await receive(ws)
            if message["type"] in ("next", "data"):
                event = message["payload"]["data"]["provisioningEvents"]
                if event["entityId"] == customer["id"]:
                    got[message["id"]] = event
        assert set(got) == {"1", "2"}
