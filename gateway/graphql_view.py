"""The GraphQL endpoint: Strawberry's ASGI view with our typed per-request context and websocket policies.

Websockets speak graphql-transport-ws (primary) and the legacy graphql-ws (subscriptions-transport-ws):
- the token comes in `connection_init` ({"authorization": "Bearer <jwt>"}); a bad or expired one closes
  the socket with 4403, and so does the token expiring while the socket is open (the client reconnects
  with a fresh token and resumes from its last cursor);
- `connection_init` must arrive within `GATEWAY_WS_INIT_TIMEOUT_SECONDS` (≤ 10 s; 4408 otherwise);
- the server pings idle sockets (graphql-transport-ws `ping`, graphql-ws `ka`) every
  `GATEWAY_WS_KEEPALIVE_SECONDS`, so proxies and mobile networks keep them open;
- at most `GATEWAY_WS_MAX_SUBSCRIPTIONS` operations run at once per socket; one more is refused with
  an error coded TOO_MANY_SUBSCRIPTIONS, the others go on;
- results shared by several subscribers (resolvers.events.sharing) are encoded to JSON once, and idle
  subscribers that asked the same thing ride: their group's leader sends each of them its frame, with
  its own id, in the step that sends its own (no task of theirs wakes up; `ws_messages.send_now`);
- every frame is decoded and checked first (gateway.ws_messages): a malformed message closes the socket
  with 4400 and a reason (graphql-ws answers it with `error` or `connection_error` first).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from starlette.requests import HTTPConnection, Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import BaseGraphQLTransportWSHandler
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler
from strawberry.types.unset import UnsetType

from domain.model.audit import set_actor, user_actor
from domain.model.principal import Principal
from domain.store.background import cancel_and_wait
from gateway import ws_messages
from gateway.assets import graphiql_page
from gateway.auth import InvalidToken
from gateway.downloads import BillingDownloads
from gateway.limits import TokenBuckets, admit
from gateway.middleware import PRINCIPAL_KEY
from gateway.observability import current_request_id
from gateway.runtime import Runtime
from resolvers.context import Context
from resolvers.events.sharing import ENCODINGS, RIDE, SERVE, STATS

BAD_MESSAGE = 4400
BAD_REQUEST = "BAD_REQUEST"
FORBIDDEN = 4403
GOING_AWAY = 1001
INIT_TIMEOUT = 4408
TOO_MANY_SUBSCRIPTIONS = "TOO_MANY_SUBSCRIPTIONS"


async def _send(websocket: Any, message: Mapping[str, Any]) -> None:
    """Send a protocol message; a result's data that several subscribers share is encoded once for all of them."""
    payload = message.get("payload")
    if message.get("type") not in ("next", "data") or not isinstance(payload, Mapping) or set(payload) != {"data"}:
        await websocket.send_json(message)
        return
    text = (f'{{"id":{json.dumps(message["id"])},"type":"{message["type"]}",'
            f'"payload":{{"data":{ENCODINGS.encode(payload["data"])}}}}}')
    await websocket.send_text(text)  # a ws_messages.GatewaySocket: WebSocketDisconnected once it is closed


def _serve_riders(message: Mapping[str, Any]) -> None:
    """An event's result, as the operation that executed it last sends it: its riders are sent it too (the encoded
    data, when the result is that alone; otherwise each of them is handed the event back to run itself)."""
    serve = SERVE.get()
    if serve is None or message.get("type") not in ("next", "data"):
        return
    SERVE.set(None)
    payload = message.get("payload")
    shareable = isinstance(payload, Mapping) and set(payload) == {"data"}
    serve(ENCODINGS.encode(payload["data"]) if shareable and isinstance(payload, Mapping) else None)


def _rider(websocket: Any, op_id: str, kind: str, active: Callable[[], bool]) -> Callable[[str], Any]:
    """How a leader sends this operation its frame: `kind` "next" or "data", `active` whether it still runs."""
    head = f'{{"id":{json.dumps(op_id)},"type":"{kind}","payload":{{"data":'

    def ride(data: str) -> Any:
        if not active() or not ws_messages.is_open(websocket):
            return None  # completed by the client or closed: the operation's task is ending
        STATS.ridden += 1
        return ws_messages.send_now(websocket.send_text(f"{head}{data}}}}}"))

    return ride


class _Session:
    """What both protocols add once a connection is acknowledged: keep-alive pings and closing at token expiry.

    Timers on the event loop, not tasks: an idle socket costs two timer handles, not two sleeping coroutines."""

    def __init__(self, websocket: Any, principal: Principal | None, keepalive: float,
                 ping: Mapping[str, Any], send: Any) -> None:
        self.loop = asyncio.get_running_loop()
        self.websocket = websocket
        self.every = keepalive
        self.ping = ping
        self.send = send
        self.tasks: set[asyncio.Task[Any]] = set()  # a ping waiting for room in the socket's buffer, a close
        self.timers: list[asyncio.TimerHandle] = []
        if keepalive:
            self.timers.append(self.loop.call_later(keepalive, self._keep_alive))
        if principal is not None and principal.expires_at is not None:
            delay = max((principal.expires_at - datetime.now(UTC)).total_seconds(), 0)
            self.timers.append(self.loop.call_later(delay, self._expire))

    def _keep_alive(self) -> None:
        self.timers = [t for t in self.timers if not t.cancelled() and t.when() > self.loop.time()]
        self.timers.append(self.loop.call_later(self.every, self._keep_alive))
        if self.tasks:  # the last ping is still waiting for room: no second one
            return
        with contextlib.suppress(WebSocketDisconnected, RuntimeError):
            self._track(ws_messages.send_now(self.send(dict(self.ping))))

    def _expire(self) -> None:
        self._track(asyncio.ensure_future(self._close()))

    async def _close(self) -> None:
        with contextlib.suppress(RuntimeError):  # already closed
            await self.websocket.close(code=FORBIDDEN, reason="Token expired")

    def _track(self, task: asyncio.Task[Any] | None) -> None:
        if task is not None:
            self.tasks.add(task)
            task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self.tasks.discard(task)
        if not task.cancelled():
            task.exception()  # retrieved: a ping on a socket closing under it is nothing to log

    async def end(self) -> None:
        for timer in self.timers:
            timer.cancel()
        tasks = list(self.tasks)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(BaseException):
                await task


def _limit_error(limit: int) -> dict[str, Any]:
    return {"message": f"At most {limit} subscriptions may run at once on one connection",
            "extensions": {"code": TOO_MANY_SUBSCRIPTIONS}}


class TransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    view: GatewayGraphQL
    session: _Session | None = None
    cancelled: set[asyncio.Task[None]]  # operations completed by the client whose task may not have ended yet

    async def handle(self) -> None:
        """Strawberry's read loop, but every frame is decoded and checked first (gateway.ws_messages): a
        malformed message closes the socket with 4400 and a reason, as the protocol says, never an exception."""
        self.websocket = socket = ws_messages.GatewaySocket.over(self.websocket)
        self.cancelled = set()
        self.view.sockets.add(socket)
        self.on_request_accepted()
        try:
            async for frame in socket.frames():
                try:
                    message = ws_messages.read(frame, ws_messages.transport_problem)
                except ws_messages.InvalidMessage as invalid:
                    await self.handle_invalid_message(str(invalid))
                    continue
                await self.handle_message(message)  # type: ignore[arg-type]
        except WebSocketDisconnected:
            pass
        finally:
            await self.shutdown()
            self.view.sockets.discard(socket)  # last: a socket no longer listed is done with

    async def handle_connection_init(self, message: Any) -> None:
        if message.get("payload") is None:  # the protocol allows null, Strawberry only an object or nothing
            message = {**message, "payload": {}}
        await super().handle_connection_init(message)
        if self.connection_acknowledged and self.session is None:
            self.session = _Session(self.websocket, self.context.principal, self.view.keepalive,
                                    {"type": "ping"}, self.send_message)

    async def handle_subscribe(self, message: Any) -> None:
        if self.connection_acknowledged and message["id"] in self.operations:  # Strawberry's reason has the id
            await self.websocket.close(code=4409, reason=f"Subscriber for {message['id']} already exists")
            return
        limit = self.max_subscriptions_per_connection
        if self.connection_acknowledged and limit is not None and len(self.operations) >= limit \
                and message.get("id") not in self.operations:
            await self.send_message({"id": message["id"], "type": "error", "payload": [_limit_error(limit)]})
            return
        refusal = self.view.admit(self.context, message) if self.connection_acknowledged else None
        if refusal is not None:
            await self.send_message({"id": message["id"], "type": "error", "payload": [refusal]})
            return
        op_id = message["id"]
        token = RIDE.set(_rider(self.websocket, op_id, "next", lambda: op_id in self.operations))
        try:
            await super().handle_subscribe(message)  # its operation task starts with RIDE set
        finally:
            RIDE.reset(token)

    def forget_id(self, id: str) -> None:
        # Only the calling operation's own entry (Strawberry deletes whatever has the id, or raises KeyError): an
        # operation cancelled and forgotten already can still finish, when the driver dropped its cancellation,
        # and its id may belong to a newer operation by then.
        operation = self.operations.get(id)
        if operation is not None and operation.task is asyncio.current_task():
            del self.operations[id]

    async def cleanup_operation(self, operation_id: str) -> None:
        operation = self.operations.get(operation_id)
        await super().cleanup_operation(operation_id)  # cancels its task, without waiting for it
        if operation is not None and operation.task is not None and not operation.task.done():
            self.cancelled.add(operation.task)  # ended at the latest by `shutdown`, should it go on
            operation.task.add_done_callback(self.cancelled.discard)

    async def shutdown(self) -> None:
        """Strawberry's, but an operation that goes on after its cancellation is cancelled again, so that the
        handler ends (cancel_and_wait: the database driver can drop a cancellation)."""
        if self.session is not None:
            await self.session.end()
        tasks = [op.task for op in self.operations.values() if op.task is not None] + list(self.cancelled)
        if self.connection_init_timeout_task is not None:
            tasks.append(self.connection_init_timeout_task)
        self.operations.clear()
        await cancel_and_wait(*tasks, report=False)  # their errors are the socket's, as in Strawberry's

    async def handle_invalid_message(self, error_message: str) -> None:
        await self.websocket.close(code=BAD_MESSAGE, reason=error_message)  # GatewaySocket cuts the reason

    async def send_message(self, message: Any) -> None:
        _serve_riders(message)  # whether or not this socket is still open
        # Dropped once the socket is closed by either side: the read loop ends the socket's operations next, and
        # raising here would only make their tasks log an error.
        if ws_messages.is_open(self.websocket):
            with contextlib.suppress(WebSocketDisconnected):
                await _send(self.websocket, message)


class LegacyWSHandler(BaseGraphQLWSHandler[Context, None]):
    """graphql-ws (subscriptions-transport-ws), for older clients, with the same policies."""

    view: GatewayGraphQL
    session: _Session | None = None

    async def handle(self) -> None:
        """Strawberry's read loop, but every frame is decoded and checked first (gateway.ws_messages): a malformed
        message (Strawberry skipped invalid JSON and failed on the rest) is answered with `error` when it has a
        usable operation id, else `connection_error`, and the socket is closed with 4400."""
        self.websocket = socket = ws_messages.GatewaySocket.over(self.websocket)
        timeout = asyncio.create_task(self._init_timeout())
        self.view.sockets.add(socket)
        try:
            async for frame in socket.frames():
                try:
                    message = ws_messages.read(frame, ws_messages.legacy_problem)
                except ws_messages.InvalidMessage as invalid:
                    await self._refuse(invalid)
                    continue
                await self.handle_message(message)  # type: ignore[arg-type]
        except WebSocketDisconnected:
            pass
        finally:
            timeout.cancel()
            if self.keep_alive_task is not None:
                self.keep_alive_task.cancel()
            await self.cleanup()
            if self.session is not None:
                await self.session.end()
            self.view.sockets.discard(socket)  # last: a socket no longer listed is done with

    async def cleanup_operation(self, operation_id: str) -> None:
        """Strawberry's, but an operation that goes on after its cancellation is cancelled again, so that this
        ends (cancel_and_wait: the database driver can drop a cancellation)."""
        result_source = self.subscriptions.pop(operation_id, None)
        if result_source is not None:
            with contextlib.suppress(RuntimeError):  # still running: cancelling its task closes it
                await result_source.aclose()
        task = self.tasks.pop(operation_id, None)
        if task is not None:
            await cancel_and_wait(task, report=False)

    async def _refuse(self, invalid: ws_messages.InvalidMessage) -> None:
        error = {"message": str(invalid), "extensions": {"code": BAD_REQUEST}}
        op_id = ws_messages.usable_id(invalid.message)
        await self.send_message({"type": "connection_error", "payload": error} if op_id is None
                                else {"type": "error", "id": op_id, "payload": error})
        await self.websocket.close(code=BAD_MESSAGE, reason=str(invalid))

    async def _init_timeout(self) -> None:
        await asyncio.sleep(self.view.connection_init_wait_timeout.total_seconds())
        if not self.connection_acknowledged:
            with contextlib.suppress(RuntimeError):
                await self.websocket.close(code=INIT_TIMEOUT, reason="Connection initialisation timeout")

    async def handle_connection_init(self, message: Any) -> None:
        payload = message.get("payload")
        if self.connection_acknowledged:
            await self.websocket.close(code=4429, reason="Too many initialisation requests")
            return
        self.context.connection_params = payload  # an object or None (gateway.ws_messages.legacy_problem)
        try:
            ack = await self.view.on_ws_connect(self.context)
        except ConnectionRejectionError:
            await self.send_message({"type": "connection_error", "payload": {"message": "Forbidden"}})
            await self.websocket.close(code=FORBIDDEN, reason="Forbidden")
            return
        await self.send_message({"type": "connection_ack"} if isinstance(ack, UnsetType) or ack is None
                                else {"type": "connection_ack", "payload": ack})
        self.connection_acknowledged = True
        self.session = _Session(self.websocket, self.context.principal, self.view.keepalive, {"type": "ka"},
                                self.send_message)

    async def handle_start(self, message: Any) -> None:
        limit = self.max_subscriptions_per_connection
        if self.connection_acknowledged and limit is not None and len(self.tasks) >= limit \
                and message.get("id") not in self.tasks:
            await self.send_message({"type": "error", "id": message["id"], "payload": _limit_error(limit)})
            return
        refusal = self.view.admit(self.context, message) if self.connection_acknowledged else None
        if refusal is not None:
            await self.send_message({"type": "error", "id": message["id"], "payload": refusal})
            return
        op_id = message["id"]
        token = RIDE.set(_rider(self.websocket, op_id, "data", lambda: op_id in self.tasks))
        try:
            await super().handle_start(message)  # its operation task starts with RIDE set
        finally:
            RIDE.reset(token)

    async def send_message(self, message: Any) -> None:
        _serve_riders(message)  # whether or not this socket is still open
        # Dropped once the socket is closed by either side: the read loop ends the socket's operations next, and
        # raising here would only make their tasks log an error.
        if ws_messages.is_open(self.websocket):
            with contextlib.suppress(WebSocketDisconnected):
                await _send(self.websocket, message)


class GatewayGraphQL(GraphQL[Context, None]):
    graphql_transport_ws_handler_class = TransportWSHandler
    graphql_ws_handler_class = LegacyWSHandler

    def __init__(self, runtime: Runtime, downloads: BillingDownloads,
                 batch_results: Callable[[HTTPConnection, str], str] | None = None, **kwargs: Any) -> None:
        s = runtime.settings
        super().__init__(runtime.schema, connection_init_wait_timeout=timedelta(seconds=s.ws_init_timeout_seconds),
                         max_subscriptions_per_connection=s.ws_max_subscriptions, **kwargs)
        self.runtime = runtime
        # The pages on other origins that may open a websocket (same-origin and non-browser clients always may).
        self.allowed_origins = frozenset(s.cors_origin_list)
        self.downloads = downloads
        self.batch_results = batch_results  # R-BULK-4: signs `/subscriber-batches/<id>.csv` links
        self.keepalive = s.ws_keepalive_seconds
        self.buckets = TokenBuckets(s.rate_limit_per_second, s.rate_limit_burst)
        # Every open websocket (either protocol), so that a shutdown can end them all with 1001.
        self.sockets: set[Any] = set()

    def admit(self, context: Context, message: Any) -> dict[str, Any] | None:
        """The rate limit and token count for an operation sent over a websocket; the error to send, or None.

        With GATEWAY_TRUSTED_DOCUMENTS, first: a text that is not listed (PERSISTED_QUERY_NOT_ALLOWED)."""
        payload = message.get("payload")
        query = payload.get("query") if isinstance(payload, dict) else None
        if (unlisted := self.runtime.persisted.refusal(query)) is not None:
            return unlisted.formatted
        refusal = admit(self.buckets, context.principal, query, self.runtime.limits)
        return None if refusal is None else dict(refusal.formatted)

    async def render_graphql_ide(self, request: Request) -> Response:
        """Our GraphiQL page (gateway.assets): pinned files served by the gateway, no CDN, a strict CSP."""
        return graphiql_page(request)

    async def close_sockets(self, code: int = GOING_AWAY, reason: str = "Server shutting down") -> int:
        """Close every open websocket (clients reconnect elsewhere and resume from their cursor); returns how many."""
        sockets = list(self.sockets)
        for websocket in sockets:
            with contextlib.suppress(Exception):
                await websocket.close(code=code, reason=reason)
        return len(sockets)

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket) -> Context:
        # None only for the GraphiQL page, which the middleware lets through and which executes nothing.
        principal = request.scope.get("state", {}).get(PRINCIPAL_KEY)
        if principal is not None:  # R-AUD-1: what this request changes is recorded as done by its token's user
            set_actor(user_actor(principal.subject, principal.org_id, (r.value for r in principal.roles),
                                 current_request_id()))
        return Context(repos=self.runtime.repos, principal=principal, request=request, response=response,
                       hub=self.runtime.hub, download_url=partial(self.downloads.url, request),
                       batch_result_url=partial(self.batch_results, request) if self.batch_results else None,
                       request_id=current_request_id())

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """The token comes in `connection_init` ({"authorization": "Bearer <jwt>"}), for both protocols."""
        params = context.connection_params or {}
        header = params.get("authorization") or params.get("Authorization")
        try:
            principal: Principal = await self.runtime.authenticator.authenticate(
                header if isinstance(header, str) else None)
        except InvalidToken:
            raise ConnectionRejectionError() from None
        context.principal = principal
        # Operations run in tasks this connection's handler starts after this: mutations sent over the socket act
        # as the token's user (R-AUD-1).
        set_actor(user_actor(principal.subject, principal.org_id, (r.value for r in principal.roles),
                             context.request_id))
        return await super().on_ws_connect(context)
