"""Tokens refused in `connection_init` close the socket with 4403, on both websocket protocols."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import jwt
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.api.live import serving
from tests.conftest import JWT_SECRET, Demo, Gateway

pytestmark = pytest.mark.read_only  # one gateway and demo for the module (tests/conftest.py)

TRANSPORT = "graphql-transport-ws"
LEGACY = "graphql-ws"
DEADLINE_S = 30.0  # a failure bound, not a timing assertion


@pytest.fixture
async def url(gateway: Gateway) -> AsyncIterator[str]:
    async with serving(gateway.app) as ws_url:
        yield ws_url


async def refused(url: str, protocol: str, token: str) -> tuple[list[dict[str, Any]], int]:
    """Send `connection_init` with the token; the messages received before the close, and the close code."""
    received: list[dict[str, Any]] = []
    async with connect(url, subprotocols=[protocol]) as ws:  # type: ignore[list-item]
        await ws.send(json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}))
        code = await closed_with(ws, received)
    return received, code


async def closed_with(ws: ClientConnection, received: list[dict[str, Any]]) -> int:
    with pytest.raises(ConnectionClosed) as closed:
        async with asyncio.timeout(DEADLINE_S):  # an acknowledged socket would stay open (and keep pinging)
            while True:
                received.append(json.loads(await ws.recv()))
    assert closed.value.rcvd is not None, "the server did not send a close frame"
    return closed.value.rcvd.code


def expected_messages(protocol: str) -> list[dict[str, Any]]:
    """graphql-ws says why in a `connection_error` before closing; graphql-transport-ws only closes."""
    return [{"type": "connection_error", "payload": {"message": "Forbidden"}}] if protocol == LEGACY else []


@pytest.mark.parametrize("protocol", [TRANSPORT, LEGACY])
async def test_a_correctly_signed_token_whose_expiry_overflows_a_date_closes_with_4403(
        url: str, protocol: str) -> None:
    token = jwt.encode({"sub": "x", "roles": ["platform_admin"], "exp": 10**30}, JWT_SECRET, algorithm="HS256")
    assert await refused(url, protocol, token) == (expected_messages(protocol), 4403)


@pytest.mark.parametrize("protocol", [TRANSPORT, LEGACY])
async def test_a_token_naming_an_org_that_does_not_exist_closes_with_4403(
        gateway: Gateway, demo: Demo, url: str, protocol: str) -> None:
    assert await refused(url, protocol, gateway.token("ptn_" + "f" * 24)) == (expected_messages(protocol), 4403)
