"""Fuzzing the websocket protocols frame by frame (issue #13, item 7): no frame may break a socket's handler.

One real uvicorn server on loopback per test (the `gateway` fixture's app, `ws_max_size` set from
`GATEWAY_MAX_BODY_BYTES` as `gateway serve` sets it, no rate limit so that operations run rather than being
refused), and for every example a fresh socket speaking graphql-transport-ws or the legacy graphql-ws. The
example usually completes `connection_init` with a valid token first (now and then not, to fuzz what comes
before it), then sends 1 to 8 generated frames: valid protocol messages mixed with hostile ones (every field
with a wrong type, missing or extra; nested junk; lone surrogates; NUL, control characters and U+202E; strings
up to the frame size limit; 5 000-digit integers and 1e400; invalid JSON, deep nesting, invalid UTF-8 in a text
frame, binary frames). After each frame it sends a barrier, an operation (`{ __typename }`) with an id of its own,
and reads until the barrier is answered (`complete` or `error` with its id) or the socket closes.

The property, for every frame:
- it is answered: the barrier behind it is, or the socket is closed with a close frame whose code is in
  4400..4499 (or 1000 after `connection_terminate`; 1007 after invalid UTF-8 and 1009 after a frame over the
  size limit, which the websocket layer sends before the gateway sees the frame) — never 1006 or 1011;
- every message the server sends is a JSON object of one of the protocol's server message types, and no error
  in it is coded INTERNAL;
- nothing is logged at ERROR (uvicorn's "Exception in ASGI application", Strawberry's task errors, the
  gateway's unexpected errors), checked once the server has finished with the example's socket.

How hypothesis meets asyncio: the test is an `async def` decorated with `@given`. pytest-asyncio recognises
such a test (its AsyncHypothesisTest item) and replaces `test.hypothesis.inner_test`, the function hypothesis
calls once per example, by a synchronous wrapper that runs that example's coroutine to completion on the
session's event loop, the loop the `gateway` fixture, its database clients and the server (started by the
`server` fixture, once for the whole test) live on. Hypothesis itself stays synchronous; between examples the loop is
idle and the server waits. The function-scoped fixtures are shared by all examples on purpose (one server, a new
socket per example), hence the suppressed `function_scoped_fixture` health check.

Budget: GATEWAY_FUZZ_EXAMPLES examples (default 100, half for each protocol, on the gateway's default driver: a
few seconds of examples on 2 shared cores, plus the gateway and demo data the fixtures build);
`GATEWAY_FUZZ_EXAMPLES=5000` for a long local run (10 000 examples, about 4 minutes here). Runs are derandomized:
CI runs the same examples every time, so a failure reproduces with the same command and the suite never turns red
by luck (and with nothing random there is nothing for hypothesis's example database to replay, so it is off); set
GATEWAY_FUZZ_SEED=<int> to explore other examples (then the database keeps failures to replay).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import hypothesis
import pytest
from hypothesis import HealthCheck, event, given, note
from hypothesis import strategies as st
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from gateway.graphql_view import GatewayGraphQL
from tests.api.provisioning import partner_token
from tests.api.raw_ws import LEGACY, PYMONGO_SOCKET_LEAKS, TRANSPORT, ServerErrors, serving_checked
from tests.conftest import Demo, Gateway

# Hypothesis warns when the global `random` state changes while it generates an example; Motor's worker threads
# (PyMongo's server selection) use `random` meanwhile, which it takes for the strategies' doing. They do not.
# And the examples cancel operations all the time (tests.api.raw_ws.PYMONGO_SOCKET_LEAKS).
pytestmark = [pytest.mark.filterwarnings(
    "ignore:Do not use the `random` module inside strategies:hypothesis.errors.HypothesisDeprecationWarning"),
    PYMONGO_SOCKET_LEAKS]
EXAMPLES = int(os.environ.get("GATEWAY_FUZZ_EXAMPLES", "100")) // 2  # per protocol
SEED = os.environ.get("GATEWAY_FUZZ_SEED")
SERVER_TYPES = {TRANSPORT: {"connection_ack", "ping", "pong", "next", "error", "complete"},
                LEGACY: {"connection_ack", "connection_error", "ka", "data", "error", "complete"}}
CLIENT_TYPES = {TRANSPORT: ["connection_init", "ping", "pong", "subscribe", "complete"],
                LEGACY: ["connection_init", "start", "stop", "connection_terminate"]}
OPERATION = {TRANSPORT: "subscribe", LEGACY: "start"}
BARRIER_QUERY = "{ __typename }"
# A failure bound, not a timing assertion; shorter than the other tests' because shrinking replays a failure.
DEADLINE_S = 10.0
MISSING = object()  # a field left out of a message


class Raw(str):
    """JSON text written as it is (numbers Python's json cannot write, e.g. 5 000 digits or 1e400)."""


@dataclass(frozen=True)
class Frame:
    data: str | bytes
    binary: bool = False  # bytes in a binary frame; bytes in a text frame are invalid UTF-8

    def __repr__(self) -> str:  # frames up to the size limit: hypothesis warns about reprs over 30 kB
        data = self.data if len(self.data) <= 300 else self.data[:300]
        return f"Frame({data!r}{'...' if data is not self.data else ''}, {len(self.data)} long, binary={self.binary})"

    def normal_close(self, limit: int) -> int | None:
        """The close code other than 44xx that this frame may get, if any."""
        if len(self.data.encode("utf-8") if isinstance(self.data, str) else self.data) > limit:
            return 1009  # message too big: the websocket layer's answer, before the gateway sees the frame
        if isinstance(self.data, bytes):
            return None if self.binary else 1007  # invalid UTF-8 in a text frame: the websocket layer's too
        with contextlib.suppress(ValueError, RecursionError):
            message = json.loads(self.data)
            if isinstance(message, dict) and message.get("type") == "connection_terminate":
                return 1000  # legacy graphql-ws: the client ends the connection
        return None


@dataclass(frozen=True)
class Session:
    protocol: str
    initialise: bool
    frames: list[Frame]


def encode(value: object, ascii_only: bool) -> str:
    """`value` as JSON text; strings with a lone surrogate always as escapes (a text frame is UTF-8)."""
    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, dict):
        return "{" + ",".join(f"{encode(str(k), ascii_only)}:{encode(v, ascii_only)}" for k, v in value.items()
                              if v is not MISSING) + "}"
    if isinstance(value, list):
        return "[" + ",".join(encode(v, ascii_only) for v in value) + "]"
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return json.dumps(value)
        return json.dumps(value, ensure_ascii=ascii_only)
    return json.dumps(value)


# --- strategies -------------------------------------------------------------------------------------------------

# Valid Unicode, hostile all the same (NUL, control characters, U+202E, a BOM, a non-character, an emoji).
NASTY_CHARS = ["\x00", "\x01", "\x1b", "\x7f", "\u202e", "\u200b", "\ufeff", "\uffff", "\U0001f600", "é", "\\", '"',
               "\n"]
SURROGATES = ["\ud800", "\udfff"]
safe_text = st.one_of(
    st.text(max_size=12),  # hypothesis leaves surrogates out of text by default
    st.text(alphabet=st.sampled_from(NASTY_CHARS), max_size=12),
    st.sampled_from(["", "1", "a", "subscribe", "start", "__proto__", "$where", "null", "{}"]),
)
short_text = st.one_of(safe_text, safe_text, st.text(alphabet=st.sampled_from(NASTY_CHARS + SURROGATES), max_size=12))
huge_text = st.builds(lambda char, n: char * n, st.sampled_from(["x", "é", "\u202e", "\x00", "\ud800"]),
                      st.sampled_from([300, 10_240, 40_000, 100_000, 262_000]))  # up to the frame size limit
texts = st.one_of(short_text, short_text, short_text, huge_text)
# Numbers Python's json cannot write (or the gateway refuses: past a double, past Python's 4 300 digits), and edges.
raw_numbers = st.sampled_from(["-0", "1e400", "-1e400", "1e-400", "9" * 5000, "-" + "9" * 4400, "2147483648",
                               "9007199254740993", "1E2", "0.1e1", "123456789012345678901234567890"]).map(Raw)
safe_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False),
                         safe_text)
scalars = st.one_of(safe_scalars, raw_numbers, texts)


def tree(leaves: st.SearchStrategy[Any], keys: st.SearchStrategy[str]) -> st.SearchStrategy[Any]:
    return st.recursive(leaves, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                        st.dictionaries(keys, inner, max_size=4)), max_leaves=10)


junk = tree(scalars, short_text)
safe_junk = tree(safe_scalars, safe_text)


def nested(array: bool, depth: int) -> Raw:
    return Raw("[" * depth + "]" * depth if array else '{"a":' * depth + "1" + "}" * depth)


deep = st.builds(nested, st.booleans(), st.sampled_from([31, 33, 100, 3000]))


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A field's value: mostly from `strategy`, sometimes missing, null or junk of any type."""
    return st.one_of(strategy, strategy, strategy, st.just(MISSING), st.none(), junk)


QUERIES = [
    BARRIER_QUERY,
    "subscription { provisioningEvents(filter: {entityTypes: [CUSTOMER]}) { entityId toStatus } }",
    "subscription($after: String) { provisioningEvents(after: $after) { cursor entityId } }",
    "query Q { customers(first: 2) { edges { node { id name status } } } }",
    "query($id: ID!) { customer(id: $id) { id } }",
    "query($f: CustomerFilter) { customers(filter: $f) { totalCount } }",
    "{ viewer { __typename } }",
    "query A { __typename } query B { viewer { __typename } }",
    "{", "subscription {", "{ nope }", "query A { __typename } query A { __typename }", "", "a" * 500,
    "fragment F on Query { __typename }", "{ ...F }", "query($x: Int) { __typename }",
]
queries = st.one_of(st.sampled_from(QUERIES), texts)
OP_IDS = ["1", "2", "3", "é", "x" * 256]
ids = st.one_of(st.sampled_from([*OP_IDS, "x" * 257]), short_text, texts)
VARIABLE_NAMES = ["after", "id", "f", "x"]
variables = st.one_of(st.dictionaries(st.sampled_from([*VARIABLE_NAMES, *SURROGATES]), junk, max_size=3), junk)
ALL_TYPES = sorted(SERVER_TYPES[TRANSPORT] | SERVER_TYPES[LEGACY] | set(CLIENT_TYPES[TRANSPORT] + CLIENT_TYPES[LEGACY]))


def valid_message(draw: st.DrawFn, protocol: str) -> dict[str, object]:
    """A message the protocol allows (its operation may still fail): to reach states past the first frame."""
    start, stop = OPERATION[protocol], {TRANSPORT: "complete", LEGACY: "stop"}[protocol]
    others = ["ping", "pong"] if protocol == TRANSPORT else ["connection_terminate"]
    kind = draw(st.sampled_from([start] * 6 + [stop] * 3 + others + ["connection_init"]))
    if kind == start:
        payload: dict[str, object] = {"query": draw(st.sampled_from(QUERIES))}
        payload.update(draw(st.fixed_dictionaries({}, optional={
            "variables": st.one_of(st.none(), st.dictionaries(st.sampled_from(VARIABLE_NAMES), safe_junk, max_size=3)),
            "operationName": st.one_of(st.none(), st.sampled_from(["A", "B", "Q"])),
            "extensions": st.one_of(st.none(), st.dictionaries(safe_text, safe_junk, max_size=2))})))
        return {"type": kind, "id": draw(st.sampled_from(OP_IDS)), "payload": payload}
    if kind == stop:
        return {"type": kind, "id": draw(st.sampled_from(OP_IDS))}
    return {"type": kind}


def hostile_message(draw: st.DrawFn, protocol: str) -> dict[str, object]:
    """Any field of any type, missing or extra, with nested junk."""
    kind = draw(st.one_of(st.sampled_from(CLIENT_TYPES[protocol]), st.sampled_from(ALL_TYPES), junk))
    operation_payload = st.fixed_dictionaries({}, optional={
        "query": maybe(queries), "variables": maybe(variables), "operationName": maybe(st.sampled_from(["A", "B"])),
        "extensions": maybe(st.dictionaries(short_text, junk, max_size=2))})
    payload = draw(maybe(st.one_of(operation_payload, st.dictionaries(short_text, junk, max_size=3))))
    fields = {"type": kind, "id": draw(maybe(ids)), "payload": payload}
    extra = draw(st.dictionaries(short_text, junk, max_size=2))
    return {**extra, **fields}


@st.composite
def frames(draw: st.DrawFn, protocol: str) -> Frame:
    """One frame: a protocol message (valid or not), or something that is not a message at all."""
    shape = draw(st.sampled_from(["valid"] * 6 + ["hostile"] * 4 + ["value", "deep", "broken", "invalid utf-8",
                                                                     "binary"]))
    if shape == "invalid utf-8":
        return Frame(draw(st.sampled_from([b"\xff", b'{"type": "\xc3"}', b"\xed\xa0\x80", b"\x80abc"])))
    if shape == "binary":
        return Frame(draw(st.one_of(st.binary(max_size=20), st.just(b'{"type": "ping"}'))), binary=True)
    ascii_only = draw(st.booleans())
    if shape == "valid":
        text = encode(valid_message(draw, protocol), ascii_only)
    elif shape == "hostile":
        text = encode(hostile_message(draw, protocol), ascii_only)
    elif shape == "value":
        text = encode(draw(junk), ascii_only)
    elif shape == "deep":
        text = str(draw(deep))
    else:  # invalid JSON: a message cut short, or not JSON at all
        whole = encode(valid_message(draw, protocol), ascii_only)
        text = draw(st.one_of(st.integers(0, max(len(whole) - 1, 0)).map(lambda n: whole[:n]),
                              st.sampled_from(["NaN", "{'type': 'ping'}", '{"type": "ping",}', "[1,]", "\x00",
                                               '{"type": "ping"} x', "\ufeff{}"])))
    return Frame(text)


@st.composite
def sessions(draw: st.DrawFn, protocol: str) -> Session:
    """Whether the socket is initialised first, and the frames it then sends."""
    initialise = draw(st.sampled_from([True] * 9 + [False]))
    return Session(protocol, initialise, draw(st.lists(frames(protocol), min_size=1, max_size=8)))


# --- the test ---------------------------------------------------------------------------------------------------

@dataclass
class Server:
    url: str
    errors: ServerErrors
    view: GatewayGraphQL
    limit: int


@pytest.fixture
async def server(gateway: Gateway) -> AsyncIterator[Server]:
    """The server, once for the whole test."""
    limit = gateway.runtime.settings.max_body_bytes
    async with serving_checked(gateway.app, ws_max_size=limit) as (url, errors):
        yield Server(url, errors, gateway.app.state.graphql, limit)
    assert not errors.records, errors.report()


def check_message(protocol: str, text: str | bytes) -> dict[str, Any]:
    """A message from the server: a JSON object of one of the protocol's types, no error coded INTERNAL."""
    message = json.loads(text)
    assert isinstance(message, dict) and message.get("type") in SERVER_TYPES[protocol], message
    payload = message.get("payload")
    errors = payload if isinstance(payload, list) else (payload or {}).get("errors", [payload])
    for error in errors if message["type"] in ("error", "next", "data") else []:
        if isinstance(error, dict):
            assert (error.get("extensions") or {}).get("code") != "INTERNAL", message
    return message


async def answered(ws: ClientConnection, protocol: str, barrier: str) -> bool:
    """Read until the barrier operation is answered (True) or the server closes the socket (False)."""
    try:
        async with asyncio.timeout(DEADLINE_S):  # a failure bound, not a timing assertion
            while True:
                message = check_message(protocol, await ws.recv())
                if message.get("id") == barrier and message["type"] in ("complete", "error"):
                    return True
    except ConnectionClosed:
        return False


async def server_done(view: GatewayGraphQL) -> None:
    """Wait until the server's handler has finished with every socket (it unlists one last)."""
    try:
        async with asyncio.timeout(DEADLINE_S):
            while view.sockets:  # noqa: ASYNC110 - the view offers nothing to wait on
                await asyncio.sleep(0.005)
    except TimeoutError:
        stuck = [f"{task.get_name()}: {' <- '.join(awaiting(task.get_coro()))}" for task in asyncio.all_tasks()
                 if "run_asgi" in repr(task) or "run_operation" in repr(task)]
        raise AssertionError("a socket's handler did not finish; its tasks await:\n" + "\n".join(stuck)) from None


def awaiting(coroutine: Any) -> list[str]:
    """Where a suspended coroutine waits, outermost first (Task.get_stack shows the outermost frame only)."""
    chain = []
    while coroutine is not None:
        frame = getattr(coroutine, "cr_frame", None) or getattr(coroutine, "ag_frame", None)
        if frame is not None:
            chain.append(f"{frame.f_code.co_name} ({frame.f_code.co_filename.rsplit('/', 2)[-1]}:{frame.f_lineno})")
        waited = getattr(coroutine, "cr_await", None) or getattr(coroutine, "ag_await", None)
        if waited is not None and not hasattr(waited, "cr_frame") and not hasattr(waited, "ag_frame"):
            # `async for` awaits an asend object, which holds its generator but does not name it
            inner = [r for r in gc.get_referents(waited) if hasattr(r, "ag_frame") or hasattr(r, "cr_frame")]
            if not inner:
                chain.append(repr(waited)[:200])
            waited = inner[0] if inner else None
        coroutine = waited
    return chain


def fuzz_settings(test: Any) -> Any:
    suppressed = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large,
                  HealthCheck.large_base_example]
    if SEED is None:
        return hypothesis.settings(max_examples=max(EXAMPLES, 1), deadline=None, derandomize=True, database=None,
                                   suppress_health_check=suppressed)(test)
    return hypothesis.seed(int(SEED))(hypothesis.settings(max_examples=max(EXAMPLES, 1), deadline=None,
                                                          suppress_health_check=suppressed)(test))


@pytest.mark.settings(rate_limit_per_second=0)
@fuzz_settings
@given(session=sessions(TRANSPORT))
async def test_every_graphql_transport_ws_frame_is_answered_by_the_protocol(
        gateway: Gateway, demo: Demo, server: Server, session: Session) -> None:
    await every_frame_is_answered(gateway, demo, server, session)


@pytest.mark.settings(rate_limit_per_second=0)
@fuzz_settings
@given(session=sessions(LEGACY))
async def test_every_legacy_graphql_ws_frame_is_answered_by_the_protocol(
        gateway: Gateway, demo: Demo, server: Server, session: Session) -> None:
    await every_frame_is_answered(gateway, demo, server, session)


async def every_frame_is_answered(gateway: Gateway, demo: Demo, server: Server, session: Session) -> None:
    """The property, for one example (see the module's docstring)."""
    errors_before = len(server.errors.records)
    await exchange(gateway, demo, server, session)
    await server_done(server.view)
    await asyncio.sleep(0)  # let whatever ran last log before it is checked
    logged = server.errors.records[errors_before:]
    assert not logged, server.errors.report(logged)


async def exchange(gateway: Gateway, demo: Demo, server: Server, session: Session) -> None:
    """One socket: initialised (or not), then each frame followed by its barrier, until the socket closes."""
    protocol, initialise, sent = session.protocol, session.initialise, session.frames
    async with connect(server.url, subprotocols=[protocol], max_size=None,  # type: ignore[list-item]
                       close_timeout=DEADLINE_S) as ws:
        if initialise:
            await ws.send(encode({"type": "connection_init",
                                  "payload": {"authorization": f"Bearer {partner_token(gateway, demo)}"}}, True))
            assert check_message(protocol, await asyncio.wait_for(ws.recv(), DEADLINE_S))["type"] == "connection_ack"
        for n, frame in enumerate(sent):
            note(f"frame {n}: {frame.data[:300]!r}{' (binary)' if frame.binary else ''} ({len(frame.data)} long)")
            if frame.binary or isinstance(frame.data, str):
                await ws.send(frame.data)
            else:
                await ws.send(frame.data, text=True)  # invalid UTF-8 in a text frame
            barrier = f"barrier-{n}"
            await ws.send(encode({"type": OPERATION[protocol], "id": barrier, "payload": {"query": BARRIER_QUERY}},
                                 True))
            if await answered(ws, protocol, barrier):
                event("frame answered, socket open")
                continue
            closed = ws.protocol.close_rcvd
            assert closed is not None, "the server went away without a close frame (1006)"
            note(f"closed with {closed.code} {closed.reason!r}")
            event(f"closed with {closed.code}")
            assert 4400 <= closed.code <= 4499 or closed.code == frame.normal_close(server.limit), closed
            break
