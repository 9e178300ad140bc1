"""Request ids: every HTTP request and websocket gets one, echoed in `X-Request-Id` and put on its log lines.

A caller's (or a proxy's) id is kept when it is sane, so one id can follow a request across services;
anything else — too long, odd characters, meant to forge log lines — is replaced by a fresh one.
"""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = "x-request-id"
SCOPE_KEY = "request_id"
_SANE = re.compile(r"[A-Za-z0-9._-]{1,64}")

# The id of the request this code runs for; None outside any request (start-up, background jobs).
REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)


def current_request_id() -> str | None:
    return REQUEST_ID.get()


def request_id_for(incoming: bytes | None) -> str:
    """The caller's id when it is ≤ 64 characters of [A-Za-z0-9._-]; a new one otherwise."""
    if incoming:
        text = incoming.decode("latin-1")
        if _SANE.fullmatch(text):
            return text
    return uuid.uuid4().hex


def _incoming(scope: Scope) -> bytes | None:
    for name, value in scope["headers"]:
        if name == HEADER.encode():
            return bytes(value)
    return None


class RequestIdMiddleware:
    """Pure ASGI: sets the request id for everything the request runs (HTTP and websockets alike)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self._run(scope, receive, send, "http.response.start")
        elif scope["type"] == "websocket":  # the id lives as long as the socket; the handshake answer carries it
            await self._run(scope, receive, send, "websocket.accept")
        else:
            await self.app(scope, receive, send)

    async def _run(self, scope: Scope, receive: Receive, send: Send, first_message: str) -> None:
        request_id = request_id_for(_incoming(scope))
        scope.setdefault("state", {})[SCOPE_KEY] = request_id

        async def send_with_id(message: Message) -> None:
            if message["type"] == first_message:
                message.setdefault("headers", [])
                MutableHeaders(scope=message)[HEADER] = request_id
            await send(message)

        token = REQUEST_ID.set(request_id)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            REQUEST_ID.reset(token)
