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
- results shared by several subscribers (resolvers.events.sharing) are encoded to JSON once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket, WebSocketDisconnect
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import BaseGraphQLTransportWSHandler
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler
from strawberry.types.unset import UnsetType

from domain.principal import Principal
from gateway.auth import InvalidToken, bearer_token, verify_token
from gateway.downloads import BillingDownloads
from gateway.limits import TokenBuckets, admit
from gateway.middleware import PRINCIPAL_KEY
from gateway.observability import current_request_id
from gateway.runtime import Runtime
from resolvers.context import Context
from resolvers.events.sharing import ENCODINGS

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
    try:
        await websocket.ws.send_text(text)
    except WebSocketDisconnect as exc:
        raise WebSocketDisconnected from exc


class _Session:
    """What both protocols add once a connection is acknowledged: keep-alive pings and closing at token expiry."""

    def __init__(self, websocket: Any, principal: Principal | None, keepalive: float,
                 ping: Mapping[str, Any], send: Any) -> None:
        self.tasks: list[asyncio.Task[None]] = []
        if keepalive:
            self.tasks.append(asyncio.create_task(self._keep_alive(send, ping, keepalive)))
        if principal is not None and principal.expires_at is not None:
            self.tasks.append(asyncio.create_task(self._close_at(websocket, principal.expires_at)))

    @staticmethod
    async def _keep_alive(send: Any, ping: Mapping[str, Any], every: float) -> None:
        with contextlib.suppress(WebSocketDisconnected, RuntimeError):
            while True:
                await asyncio.sleep(every)
                await send(dict(ping))

    @staticmethod
    async def _close_at(websocket: Any, expires_at: datetime) -> None:
        await asyncio.sleep(max((expires_at - datetime.now(UTC)).total_seconds(), 0))
        with contextlib.suppress(RuntimeError):  # already closed
            await websocket.close(code=FORBIDDEN, reason="Token expired")

    async def end(self) -> None:
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(BaseException):
                await task


def _limit_error(limit: int) -> dict[str, Any]:
    return {"message": f"At most {limit} subscriptions may run at once on one connection",
            "extensions": {"code": TOO_MANY_SUBSCRIPTIONS}}


class TransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    view: GatewayGraphQL
    session: _Session | None = None

    async def handle(self) -> None:
        self.view.sockets.add(self.websocket)
        try:
            await super().handle()
        finally:
            self.view.sockets.discard(self.websocket)

    async def handle_connection_init(self, message: Any) -> None:
        await super().handle_connection_init(message)
        if self.connection_acknowledged and self.session is None:
            self.session = _Session(self.websocket, self.context.principal, self.view.keepalive,
                                    {"type": "ping"}, self.send_message)

    async def handle_subscribe(self, message: Any) -> None:
        limit = self.max_subscriptions_per_connection
        if self.connection_acknowledged and limit is not None and len(self.operations) >= limit \
                and message.get("id") not in self.operations:
            await self.send_message({"id": message["id"], "type": "error", "payload": [_limit_error(limit)]})
            return
        refusal = self.view.admit(self.context, message) if self.connection_acknowledged else None
        if refusal is not None:
            await self.send_message({"id": message["id"], "type": "error", "payload": [refusal]})
            return
        await super().handle_subscribe(message)

    async def shutdown(self) -> None:
        if self.session is not None:
            await self.session.end()
        await super().shutdown()

    async def send_message(self, message: Any) -> None:
        await _send(self.websocket, message)


class LegacyWSHandler(BaseGraphQLWSHandler[Context, None]):
    """graphql-ws (subscriptions-transport-ws), for older clients, with the same policies."""

    view: GatewayGraphQL
    session: _Session | None = None

    async def handle(self) -> None:
        timeout = asyncio.create_task(self._init_timeout())
        self.view.sockets.add(self.websocket)
        try:
            await super().handle()
        finally:
            self.view.sockets.discard(self.websocket)
            timeout.cancel()
            if self.session is not None:
                await self.session.end()

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
        if payload is not None and not isinstance(payload, dict):
            await self.send_message({"type": "connection_error", "payload": {"message": "invalid payload"}})
            await self.websocket.close(code=4400, reason="Invalid connection init payload")
            return
        self.context.connection_params = payload
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
        await super().handle_start(message)

    async def send_message(self, message: Any) -> None:
        await _send(self.websocket, message)


class GatewayGraphQL(GraphQL[Context, None]):
    graphql_transport_ws_handler_class = TransportWSHandler
    graphql_ws_handler_class = LegacyWSHandler

    def __init__(self, runtime: Runtime, downloads: BillingDownloads, **kwargs: Any) -> None:
        s = runtime.settings
        super().__init__(runtime.schema, connection_init_wait_timeout=timedelta(seconds=s.ws_init_timeout_seconds),
                         max_subscriptions_per_connection=s.ws_max_subscriptions, **kwargs)
        self.runtime = runtime
        self.downloads = downloads
        self.keepalive = s.ws_keepalive_seconds
        self.buckets = TokenBuckets(s.rate_limit_per_second, s.rate_limit_burst)
        # Every open websocket (either protocol), so that a shutdown can end them all with 1001.
        self.sockets: set[Any] = set()

    def admit(self, context: Context, message: Any) -> dict[str, Any] | None:
        """The rate limit and token count for an operation sent over a websocket; the error to send, or None."""
        payload = message.get("payload")
        query = payload.get("query") if isinstance(payload, dict) else None
        refusal = admit(self.buckets, context.principal, query, self.runtime.limits)
        return None if refusal is None else dict(refusal.formatted)

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
        return Context(repos=self.runtime.repos, principal=principal, request=request, response=response,
                       hub=self.runtime.hub, download_url=partial(self.downloads.url, request),
                       request_id=current_request_id())

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """The token comes in `connection_init` ({"authorization": "Bearer <jwt>"}), for both protocols."""
        params = context.connection_params or {}
        header = params.get("authorization") or params.get("Authorization")
        try:
            token = bearer_token(header if isinstance(header, str) else None)
            principal: Principal = verify_token(self.runtime.jwt_secret, token)
        except InvalidToken:
            raise ConnectionRejectionError() from None
        context.principal = principal
        return await super().on_ws_connect(context)
