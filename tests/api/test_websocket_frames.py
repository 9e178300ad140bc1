"""Malformed websocket messages, in both subscription protocols, over a real socket to a real server (issue #13).

Whatever a client sends, the server answers by the protocol's rules and logs nothing at ERROR:
- graphql-transport-ws closes the socket with 4400 and a reason (its rule for an invalid message);
- legacy graphql-ws sends `connection_error` (or `error` with the operation's id, when the message has a usable
  one) and then closes with 4400.
Frames are written by hand with `json.dumps` (ASCII: a lone surrogate travels as the JSON escape `\\ud800`).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.api.live import subscribers_reach
from tests.api.provisioning import partner_token
from tests.api.raw_ws import (
    DEADLINE_S,
    LEGACY,
    PYMONGO_SOCKET_LEAKS,
    TRANSPORT,
    CheckedServer,
    close_code,
    initialised,
    receive,
    served_checked,
)
from tests.conftest import Demo, Gateway, SharedGateways

pytestmark = pytest.mark.read_only  # one gateway, demo and server for the module (tests/conftest.py)

BAD_MESSAGE = 4400
SURROGATE = "\ud800"
EVENTS = "subscription { provisioningEvents(filter: {entityTypes: [CUSTOMER]}) { entityId toStatus } }"
TYPENAME = "{ __typename }"
OPERATION = {TRANSPORT: "subscribe", LEGACY: "start"}


@pytest.fixture(scope="module")
async def server(shared_gateways: SharedGateways) -> AsyncIterator[CheckedServer]:
    """One real server for the module's shared gateway (every test here is read_only)."""
    async with served_checked((await shared_gateways.get({})).app) as checked:
        yield checked
    assert not checked.errors.records, checked.errors.report()


@pytest.fixture
async def url(gateway: Gateway, server: CheckedServer) -> AsyncIterator[str]:
    """The server's websocket URL; the test fails if the server logged anything at ERROR by the time every
    connection of the test was handled to its end."""
    assert gateway.app is server.app, "the module's server serves its shared gateway"
    logged = len(server.errors.records)
    yield server.url
    await server.quiet()
    assert not server.errors.records[logged:], server.errors.report(server.errors.records[logged:])


def frame(message: Any) -> str:
    return json.dumps(message)


def operation(kind: str, op_id: Any = "1", query: Any = TYPENAME, **payload: Any) -> dict[str, Any]:
    return {"type": kind, "id": op_id, "payload": {"query": query, **payload}}


def without(message: dict[str, Any], *path: str) -> dict[str, Any]:
    """A copy of `message` with the key at `path` removed."""
    copy = json.loads(json.dumps(message))
    target = copy
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    result: dict[str, Any] = copy
    return result


# Frames that are not protocol messages at all, the same in both protocols.
NOT_MESSAGES: list[tuple[str, str | bytes]] = [
    ("array", "[]"),
    ("string", '"x"'),
    ("number", "1"),
    ("null", "null"),
    ("true", "true"),
    ("NaN", "NaN"),
    ("empty text", ""),
    ("invalid JSON", "{"),
    ("trailing garbage", '{"type": "ping"} x'),
    ("huge integer", "9" * 5000),
    ("huge integer inside", '{"type": "connection_init", "payload": {"n": ' + "9" * 5000 + "}}"),
    ("huge float inside", '{"type": "connection_init", "payload": {"n": 1e999}}'),
    ("deep nesting", "[" * 5000 + "]" * 5000),
    ("deep nesting inside", '{"type": "connection_init", "payload": ' + '{"a":' * 3000 + "1" + "}" * 3001),
    ("no type", frame({"payload": {}})),
    ("null type", frame({"type": None})),
    ("number type", frame({"type": 1})),
    ("list type", frame({"type": ["connection_init"]})),
    ("object type", frame({"type": {}})),
    ("unknown type", frame({"type": "bogus"})),
    ("long unknown type", frame({"type": "x" * 1000})),
    ("non-ASCII unknown type", frame({"type": "é" * 200})),
    ("surrogate type", frame({"type": SURROGATE})),
    ("NUL type", frame({"type": "\x00"})),
    ("binary", b"\x00\xff"),
    ("binary JSON", b'{"type": "connection_init"}'),
]


def transport_cases() -> list[tuple[str, str | bytes]]:
    sub = operation("subscribe")
    cases: list[tuple[str, Any]] = [
        ("object id", {**sub, "id": {}}),
        ("list id", {**sub, "id": []}),
        ("number id", {**sub, "id": 1}),
        ("null id", {**sub, "id": None}),
        ("missing id", without(sub, "id")),
        ("empty id", {**sub, "id": ""}),
        ("10 KB id", {**sub, "id": "x" * 10_240}),
        ("surrogate id", {**sub, "id": SURROGATE}),
        ("missing payload", without(sub, "payload")),
        ("null payload", {**sub, "payload": None}),
        ("list payload", {**sub, "payload": []}),
        ("string payload", {**sub, "payload": "x"}),
        ("missing query", without(sub, "payload", "query")),
        ("null query", operation("subscribe", query=None)),
        ("number query", operation("subscribe", query=1)),
        ("object query", operation("subscribe", query={})),
        ("surrogate in query", operation("subscribe", query=f"{TYPENAME} # {SURROGATE}")),
        ("list variables", operation("subscribe", variables=[])),
        ("string variables", operation("subscribe", variables="x")),
        ("surrogate in variables", operation("subscribe", variables={"a": SURROGATE})),
        ("surrogate variable name", operation("subscribe", variables={SURROGATE: 1})),
        ("number operationName", operation("subscribe", operationName=1)),
        ("object operationName", operation("subscribe", operationName={})),
        ("list extensions", operation("subscribe", extensions=[])),
        ("string extensions", operation("subscribe", extensions="x")),
        # Strawberry closes with the unknown operation name in the reason; a reason is at most 123 bytes.
        ("long unknown operation name", operation("subscribe", query="query A { __typename }",
                                                  operationName="B" * 500)),
        ("server message type", {"type": "next", "id": "1", "payload": {}}),
        ("list connection_init payload", {"type": "connection_init", "payload": []}),
        ("string ping payload", {"type": "ping", "payload": "x"}),
        ("number complete id", {"type": "complete", "id": 1}),
        ("missing complete id", {"type": "complete"}),
    ]
    return [(name, frame(message)) for name, message in cases] + NOT_MESSAGES


@pytest.mark.parametrize(("case", "sent"), transport_cases(), ids=[c for c, _ in transport_cases()])
async def test_graphql_transport_ws_closes_on_a_malformed_message_with_4400(
        gateway: Gateway, demo: Demo, url: str, case: str, sent: str | bytes) -> None:
    async with connect(url, subprotocols=[TRANSPORT], max_size=None) as ws:  # type: ignore[list-item]
        await initialised(ws, partner_token(gateway, demo))
        await ws.send(sent)
        assert await close_code(ws) == BAD_MESSAGE
        assert ws.close_reason, "a 4400 close says what was wrong"


@pytest.mark.parametrize(("case", "sent"), [("array", "[]"), ("binary", b"{}"), ("invalid JSON", "{"),
                                            ("object id", frame({**operation("subscribe"), "id": {}}))])
async def test_graphql_transport_ws_closes_on_a_malformed_message_before_connection_init(
        url: str, case: str, sent: str | bytes) -> None:
    async with connect(url, subprotocols=[TRANSPORT]) as ws:  # type: ignore[list-item]
        await ws.send(sent)
        assert await close_code(ws) == BAD_MESSAGE


async def test_graphql_transport_ws_refuses_an_operation_before_connection_init_and_answers_pings(
        url: str) -> None:
    async with connect(url, subprotocols=[TRANSPORT]) as ws:  # type: ignore[list-item]
        await ws.send(frame({"type": "ping"}))
        assert (await receive(ws))["type"] == "pong"
        await ws.send(frame(operation("subscribe")))
        assert await close_code(ws) == 4401


@pytest.mark.parametrize("op_id", ["1", "é" * 256], ids=["short", "long"])
async def test_graphql_transport_ws_closes_with_4409_on_an_id_reused_while_running(
        gateway: Gateway, demo: Demo, url: str, op_id: str) -> None:
    async with connect(url, subprotocols=[TRANSPORT]) as ws:  # type: ignore[list-item]
        await initialised(ws, partner_token(gateway, demo))
        await ws.send(frame(operation("subscribe", op_id, EVENTS)))
        await ws.send(frame(operation("subscribe", op_id, EVENTS)))
        assert await close_code(ws) == 4409


async def test_graphql_transport_ws_accepts_extra_fields_and_ignores_complete_for_an_unknown_id(
        gateway: Gateway, demo: Demo, url: str) -> None:
    async with connect(url, subprotocols=[TRANSPORT]) as ws:  # type: ignore[list-item]
        await initialised(ws, partner_token(gateway, demo))
        await ws.send(frame({"type": "complete", "id": "never-started"}))
        await ws.send(frame({"type": "ping", "extra": {"nested": [1, None]}}))
        assert (await receive(ws))["type"] == "pong"
        await ws.send(frame({**operation("subscribe", "1", TYPENAME, variables=None, operationName=None,
                                         extensions=None), "extra": 1}))
        result = await receive(ws)
        assert (result["id"], result["type"], result["payload"]["data"]) == ("1", "next", {"__typename": "Query"})
        assert await receive(ws) == {"id": "1", "type": "complete"}


def legacy_cases() -> list[tuple[str, str | bytes, str | None]]:
    """(case, frame, the id of the `error` answering it; None: `connection_error`)."""
    start = operation("start")
    with_id: list[tuple[str, Any]] = [
        ("missing payload", without(start, "payload")),
        ("null payload", {**start, "payload": None}),
        ("list payload", {**start, "payload": []}),
        ("missing query", without(start, "payload", "query")),
        ("number query", operation("start", query=1)),
        ("surrogate in query", operation("start", query=f"{TYPENAME} # {SURROGATE}")),
        ("list variables", operation("start", variables=[])),
        ("surrogate in variables", operation("start", variables={"a": SURROGATE})),
        ("number operationName", operation("start", operationName=1)),
        ("list extensions", operation("start", extensions=[])),
        ("unknown type with an id", {"type": "bogus", "id": "1"}),
        ("server message type", {"type": "data", "id": "1", "payload": {}}),
    ]
    without_id: list[tuple[str, Any]] = [
        ("missing id", without(start, "id")),
        ("object id", {**start, "id": {}}),
        ("list id", {**start, "id": []}),
        ("number id", {**start, "id": 1}),
        ("empty id", {**start, "id": ""}),
        ("10 KB id", {**start, "id": "x" * 10_240}),
        ("surrogate id", {**start, "id": SURROGATE}),
        ("number stop id", {"type": "stop", "id": 1}),
        ("missing stop id", {"type": "stop"}),
        ("list connection_init payload", {"type": "connection_init", "payload": []}),
    ]
    return ([(name, frame(message), "1") for name, message in with_id]
            + [(name, frame(message), None) for name, message in without_id]
            + [(name, sent, None) for name, sent in NOT_MESSAGES])


@pytest.mark.parametrize(("case", "sent", "op_id"), legacy_cases(), ids=[c for c, _, _ in legacy_cases()])
async def test_legacy_graphql_ws_answers_a_malformed_message_with_an_error_and_closes_with_4400(
        gateway: Gateway, demo: Demo, url: str, case: str, sent: str | bytes,
        op_id: str | None) -> None:
    async with connect(url, subprotocols=[LEGACY], max_size=None) as ws:  # type: ignore[list-item]
        await initialised(ws, partner_token(gateway, demo))
        await ws.send(sent)
        answer = await receive(ws)
        if op_id is None:
            assert answer["type"] == "connection_error", answer
        else:
            assert (answer["type"], answer["id"]) == ("error", op_id), answer
        assert answer["payload"]["message"]
        assert await close_code(ws) == BAD_MESSAGE


async def test_legacy_graphql_ws_answers_a_malformed_message_before_connection_init(
        url: str) -> None:
    async with connect(url, subprotocols=[LEGACY]) as ws:  # type: ignore[list-item]
        await ws.send("[]")
        assert (await receive(ws))["type"] == "connection_error"
        assert await close_code(ws) == BAD_MESSAGE


async def test_legacy_graphql_ws_refuses_an_operation_before_connection_init(
        url: str) -> None:
    async with connect(url, subprotocols=[LEGACY]) as ws:  # type: ignore[list-item]
        await ws.send(frame(operation("start")))
        assert await close_code(ws) == 4401


async def test_legacy_graphql_ws_accepts_extra_fields_and_ignores_stop_for_an_unknown_id(
        gateway: Gateway, demo: Demo, url: str) -> None:
    async with connect(url, subprotocols=[LEGACY]) as ws:  # type: ignore[list-item]
        await initialised(ws, partner_token(gateway, demo))
        await ws.send(frame({"type": "stop", "id": "never-started"}))
        await ws.send(frame({**operation("start", "1", EVENTS, variables=None, operationName=None,
                                         extensions=None), "extra": 1}))
        await subscribers_reach(gateway.runtime.hub, 1)  # running: the subscription was accepted
        await ws.send(frame({"type": "stop", "id": "1"}))
        assert await receive(ws) == {"type": "complete", "id": "1"}
        await ws.send(frame({"type": "connection_terminate"}))
        assert await close_code(ws) == 1000


@pytest.mark.parametrize("protocol", [TRANSPORT, LEGACY])
@pytest.mark.parametrize(("case", "payload"), [
    ("empty query", {"query": ""}),
    ("unknown operation name", {"query": "query A { __typename }", "operationName": "B"}),
    ("no operation", {"query": "fragment F on Query { __typename }"}),
    ("a syntax error quoting a long name", {"query": "a" * 500}),
])
async def test_an_operation_that_cannot_run_is_refused_as_a_request_error_not_an_internal_one(
        gateway: Gateway, demo: Demo, url: str, protocol: str, case: str, payload: dict[str, Any]) -> None:
    async with connect(url, subprotocols=[protocol]) as ws:  # type: ignore[list-item]
        await initialised(ws, partner_token(gateway, demo))
        await ws.send(frame({"type": "subscribe" if protocol == TRANSPORT else "start", "id": "1", "payload": payload}))
        try:
            answer = await receive(ws)
        except ConnectionClosed as closed:  # graphql-transport-ws closes when Strawberry has a reason for it
            assert closed.rcvd is not None and closed.rcvd.code == BAD_MESSAGE
            return
        assert (answer["type"], answer["id"]) == ("error", "1"), answer
        errors = answer["payload"] if isinstance(answer["payload"], list) else [answer["payload"]]
        assert errors[0]["extensions"]["code"] in ("BAD_REQUEST", "GRAPHQL_VALIDATION_FAILED"), answer


async def test_a_query_over_legacy_graphql_ws_is_refused_as_a_bad_request_not_an_internal_error(
        gateway: Gateway, demo: Demo, url: str) -> None:
    # Strawberry runs only subscriptions over graphql-ws; that refusal was coded (and logged) as INTERNAL.
    async with connect(url, subprotocols=[LEGACY]) as ws:  # type: ignore[list-item]
        await initialised(ws, partner_token(gateway, demo))
        await ws.send(frame(operation("start", "1", TYPENAME)))
        answer = await receive(ws)
        assert (answer["type"], answer["id"], answer["payload"]["extensions"]["code"]) == ("error", "1", "BAD_REQUEST")


@pytest.mark.parametrize("protocol", [TRANSPORT, LEGACY])
async def test_invalid_utf8_in_a_text_frame_closes_with_1007_and_is_not_logged_as_an_error(
        gateway: Gateway, demo: Demo, url: str, protocol: str) -> None:
    # The websocket layer (uvicorn) fails the connection before the gateway sees the frame, as RFC 6455 says;
    # a client's bad bytes are not a server error (uvicorn logged them at ERROR, with a traceback).
    async with connect(url, subprotocols=[protocol]) as ws:  # type: ignore[list-item]
        await initialised(ws, partner_token(gateway, demo))
        await ws.send(b'{"type": "\xff"}', text=True)
        assert await close_code(ws) == 1007


@PYMONGO_SOCKET_LEAKS
@pytest.mark.parametrize("protocol", [TRANSPORT, LEGACY])
async def test_every_operation_ends_when_its_socket_closes_even_if_the_driver_drops_a_cancellation(
        gateway: Gateway, demo: Demo, url: str, protocol: str) -> None:
    # PyMongo's async client (4.20) can drop a cancellation: a find_one cancelled as its reply arrives returns
    # the reply. A subscription cancelled there (its socket closed as it started) went on to wait for events
    # forever, and the socket's handler with it. Whether a round hits that moment is a matter of timing, so
    # each round closes the socket a little later after the subscription starts; found by the websocket fuzzer.
    view = gateway.app.state.graphql
    for delay in range(40):
        async with connect(url, subprotocols=[protocol]) as ws:  # type: ignore[list-item]
            await initialised(ws, partner_token(gateway, demo))
            await ws.send(frame(operation(OPERATION[protocol], "1", EVENTS)))
            for _ in range(delay % 20):
                await asyncio.sleep(0)
            await ws.send("[]")
            assert await close_code(ws) == BAD_MESSAGE
        async with asyncio.timeout(DEADLINE_S):  # a failure bound, not a timing assertion
            while view.sockets:  # noqa: ASYNC110 - the view offers nothing to wait on
                await asyncio.sleep(0.01)
    assert gateway.runtime.hub is not None and gateway.runtime.hub.subscribers == 0


@PYMONGO_SOCKET_LEAKS
@pytest.mark.parametrize("protocol", [TRANSPORT, LEGACY])
async def test_results_of_a_socket_that_the_websocket_layer_closed_are_dropped_without_an_error(
        gateway: Gateway, demo: Demo, url: str, protocol: str) -> None:
    # uvicorn closes a socket itself on invalid UTF-8 (1007) or a message too big (1009), and the gateway reads the
    # disconnect only on its next receive: a result sent meanwhile raised RuntimeError ("Unexpected ASGI message
    # 'websocket.send', after sending 'websocket.close'"), logged as an exception. Whether a round sends a result
    # in that moment is a matter of timing, so each round sends the bad bytes a little later; found by the fuzzer.
    for delay in range(40):
        async with connect(url, subprotocols=[protocol]) as ws:  # type: ignore[list-item]
            await initialised(ws, partner_token(gateway, demo))
            for n in range(3):
                await ws.send(frame(operation(OPERATION[protocol], str(n), "{ viewer { __typename } }")))
            for _ in range(delay % 20):
                await asyncio.sleep(0)
            await ws.send(b"\xff", text=True)
            assert await close_code(ws) == 1007
